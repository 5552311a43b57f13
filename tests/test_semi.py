"""Semi-supervised fitting, GANFeatures, DiscriminatorClassifier: behaviour, estimator checks,
ONNX parity and the bad-input errors."""

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import fit_in_threads
from ganaug import DiscriminatorClassifier, GANAugmenter, GANFeatures
from ganaug.core.errors import LabelError
from ganaug.core.rows import split_rows
from ganaug.gan.codec import TableCodec
from ganaug.gan.critic_features import TableEncoder
from ganaug.gan.presets import PRESETS
from ganaug.runtime.row_model import OnnxRowModel

FAST = PRESETS["default"].with_overrides(
    generator_hidden=(16,), discriminator_hidden=(16, 16), batch_size=16, epochs=1, noise_dim=4
)


@pytest.fixture
def semi_data():
    """Two well separated classes, 8 labeled rows each, 84 unlabeled (-1)."""
    rng = np.random.default_rng(0)
    n = 100
    y = np.arange(n) % 2
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n) + 3 * y,
            "b": rng.normal(size=n) - 2 * y,
            "c": np.where(rng.random(n) < 0.7, y, 1 - y).astype(str),
        }
    )
    X.loc[::9, "a"] = np.nan
    y_semi = np.where(np.arange(n) < 16, y, -1)
    return X, y, y_semi


# ---------------------------------------------------------------------------- semi-supervised


def test_fit_resample_returns_labeled_then_synthetic(semi_data):
    X, _, y_semi = semi_data
    aug = GANAugmenter(preset=FAST, augment_ratio=1.0, random_state=0)
    X_res, y_res = aug.fit_resample(X, pd.Series(y_semi, name="t"))
    labeled = y_semi != -1
    assert aug.n_unlabeled_ == (~labeled).sum()
    pd.testing.assert_frame_equal(X_res.iloc[: labeled.sum()], X[labeled].reset_index(drop=True))
    assert isinstance(y_res, pd.Series) and -1 not in set(y_res)
    assert len(y_res) == 2 * labeled.sum()  # balanced classes doubled
    # the codec saw every row: the quantile table of "a" holds more than the 16 labeled values
    assert len(aug.model_.codec_.schema_.columns[0].quantiles) > labeled.sum()
    # unlabeled rows fit the codec only: no row joins a class
    np.testing.assert_array_equal(aug.model_.class_counts_, [8, 8])


def test_string_labels_with_a_marker(semi_data):
    X, y, y_semi = semi_data
    labels = np.where(y_semi == -1, "?", np.where(y == 1, "yes", "no")).astype(object)
    X_res, y_res = GANAugmenter(preset=FAST, unlabeled_value="?", random_state=0).fit_resample(X, labels)
    assert set(y_res) == {"yes", "no"} and len(X_res) == len(y_res)


def test_unlabeled_rows_change_the_generator(semi_data):
    X, _, y_semi = semi_data
    labeled = y_semi != -1
    semi = GANAugmenter(preset=FAST, random_state=0).fit(X, y_semi)
    sup = GANAugmenter(preset=FAST, random_state=0).fit(X[labeled], y_semi[labeled])
    a, _ = semi.sample(50, y=1, random_state=0)
    b, _ = sup.sample(50, y=1, random_state=0)
    assert not np.allclose(a["b"].to_numpy(), b["b"].to_numpy())


def test_no_labeled_rows(semi_data):
    X, _, _ = semi_data
    with pytest.raises(LabelError, match="no labeled rows"):
        GANAugmenter(preset=FAST).fit(X, np.full(len(X), -1))


def test_class_with_a_single_labeled_row(semi_data):
    X, _, y_semi = semi_data
    y_bad = y_semi.copy()
    y_bad[np.flatnonzero(y_bad == 1)[1:]] = -1
    with pytest.raises(LabelError, match="class 1 has a single labeled row"):
        GANAugmenter(preset=FAST).fit(X, y_bad)


def test_marker_that_is_a_real_label(semi_data):
    X, y, _ = semi_data
    # -1/+1 labels: the default marker would leave one class, so -1 is a class
    plus_minus = np.where(y == 1, 1, -1)
    aug = GANAugmenter(preset=FAST, random_state=0)
    _, y_res = aug.fit_resample(X, plus_minus)
    assert set(y_res) == {-1, 1} and aug.n_unlabeled_ == 0
    # an explicit marker that leaves one class is refused
    yes_no = np.where(y == 1, "yes", "no").astype(object)
    with pytest.raises(LabelError, match="marker 'no' leaves a single labeled class.*real label"):
        GANAugmenter(preset=FAST, unlabeled_value="no").fit(X, yes_no)


def test_marker_that_is_a_class_of_the_pretrained_generator(semi_data):
    X, _, _ = semi_data
    labels = np.array(["yes", "no", "maybe"], dtype=object)[np.arange(len(X)) % 3]
    gan = GANAugmenter(preset=FAST, random_state=0).fit(X, labels).model_
    with pytest.raises(LabelError, match="'no' is also a class of the pretrained generator"):
        GANAugmenter(generator=gan, unlabeled_value="no").fit(X, labels)


def test_cli_unlabeled_value(tmp_path, semi_data):
    from ganaug.cli import main

    X, _, y_semi = semi_data
    src = tmp_path / "data.csv"
    X.assign(label=y_semi).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main,
        ["augment", f"csv:{src}", "--target", "label", "--unlabeled-value", "-1", "--epochs", "1",
         "--ratio", "1", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert -1 not in set(written["label"]) and len(written) == 32
    assert "84 unlabeled rows" in result.output


# ---------------------------------------------------------------------------- features


def test_encoder_graph_matches_the_codec(semi_data):
    X, _, _ = semi_data
    X = X.assign(count=np.arange(len(X)) % 4)  # ties: an integer column
    codec = TableCodec().fit(X)
    other = X.assign(a=X["a"] * 1.5)  # values between and beyond the knots
    numeric, codes = split_rows(codec.schema_, other)
    got = TableEncoder(codec)(torch.from_numpy(numeric), torch.from_numpy(codes)).numpy()
    np.testing.assert_allclose(got, codec.encode(other), atol=2e-3)


def test_gan_features_in_a_pipeline(semi_data):
    X, y, _ = semi_data
    feats = GANFeatures(preset=FAST, random_state=0)
    F = feats.fit_transform(X)
    assert F.shape == (len(X), 32) and np.isfinite(F).all()
    assert len(feats.get_feature_names_out()) == F.shape[1]
    wide = GANFeatures(preset=FAST, include_input=True, random_state=0).fit_transform(X)
    np.testing.assert_allclose(wide[:, :32], F)
    pipe = make_pipeline(GANFeatures(preset=FAST, random_state=0), LogisticRegression()).fit(X, y)
    assert pipe.score(X, y) > 0.8


def test_gan_features_reuse_a_pretrained_gan(semi_data, tmp_path):
    X, y, _ = semi_data
    aug = GANAugmenter(preset=FAST, random_state=0).fit(X, y)
    path = aug.save(tmp_path / "art")
    from_model = GANFeatures(generator=aug).fit(X).transform(X)
    from_disk = GANFeatures(generator=str(path)).fit(X).transform(X)
    np.testing.assert_allclose(from_model, from_disk, rtol=1e-5)
    aug.export_onnx(tmp_path / "g.onnx")
    with pytest.raises(ValueError, match="g.onnx is an exported generator"):
        GANFeatures(generator=str(tmp_path / "g.onnx")).fit(X)


def test_gan_features_onnx_parity(semi_data, tmp_path):
    X, _, _ = semi_data
    feats = GANFeatures(preset=FAST, random_state=0).fit(X)
    path = feats.export_onnx(tmp_path / "features.onnx")
    runtime = OnnxRowModel(path)
    assert runtime.kind == "features" and runtime.metadata["n_outputs"] == 32
    np.testing.assert_allclose(runtime.transform(X), feats.transform(X), atol=2e-3)
    with pytest.raises(ValueError, match="'c' has category 'zzz' unseen"):
        runtime.transform(X.assign(c="zzz"))


# ---------------------------------------------------------------------------- classifier


def test_discriminator_classifier_learns_from_few_labels(semi_data):
    X, y, y_semi = semi_data
    clf = DiscriminatorClassifier(
        design="finetune", preset=FAST, finetune_steps=150, random_state=0
    ).fit(X, y_semi)
    assert clf.n_unlabeled_ == 84 and list(clf.classes_) == [0, 1]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert clf.score(X, y) > 0.8


def test_discriminator_classifier_onnx_parity(semi_data, tmp_path):
    X, y, _ = semi_data
    labels = np.where(y == 1, "yes", "no")
    clf = DiscriminatorClassifier(
        design="finetune", preset=FAST, finetune_steps=20, random_state=0
    ).fit(X, labels)
    runtime = OnnxRowModel(clf.export_onnx(tmp_path / "clf.onnx"))
    np.testing.assert_allclose(runtime.predict_proba(X), clf.predict_proba(X), atol=1e-3)
    assert list(runtime.classes_) == ["no", "yes"]
    agree = runtime.predict(X) == clf.predict(X)
    assert agree.mean() > 0.95


def test_classifier_bad_labels(semi_data):
    X, _, _ = semi_data
    with pytest.raises(LabelError, match="no labeled rows"):
        DiscriminatorClassifier(preset=FAST).fit(X, np.full(len(X), -1))


# ---------------------------------------------------------------------------- K+1 design


def test_kplus1_learns_from_few_labels(semi_data):
    X, y, y_semi = semi_data
    state = torch.random.get_rng_state()
    clf = DiscriminatorClassifier(hidden=(32, 16), epochs=60, random_state=0)
    clf.fit(X, y_semi)
    # every draw from the fit's own generators: torch's global RNG untouched
    assert torch.equal(state, torch.random.get_rng_state())
    assert clf.gan_ is None and clf.generator_network_ is not None
    assert clf.n_unlabeled_ == 84 and list(clf.classes_) == [0, 1]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert clf.score(X, y) > 0.8  # chance is 0.5


def test_kplus1_is_reproducible(semi_data):
    X, _, y_semi = semi_data

    def fit(seed):
        return DiscriminatorClassifier(
            hidden=(32, 16), epochs=5, random_state=seed
        ).fit(X, y_semi).predict_proba(X)

    first = fit(0)
    np.testing.assert_array_equal(first, fit(0))
    assert not np.allclose(first, fit(1))


def test_kplus1_onnx_parity(semi_data, tmp_path):
    X, y, y_semi = semi_data
    labels = np.where(y_semi == -1, "?", np.where(y == 1, "yes", "no")).astype(object)
    clf = DiscriminatorClassifier(
        hidden=(32, 16), epochs=5, unlabeled_value="?", random_state=0
    ).fit(X, labels)
    runtime = OnnxRowModel(clf.export_onnx(tmp_path / "kplus1.onnx"))
    np.testing.assert_allclose(runtime.predict_proba(X), clf.predict_proba(X), atol=1e-3)
    assert list(runtime.classes_) == ["no", "yes"]
    assert (runtime.predict(X) == clf.predict(X)).mean() > 0.95


def test_kplus1_bad_parameters(semi_data):
    X, _, y_semi = semi_data
    with pytest.raises(ValueError, match="'design' parameter .* must be a str among"):
        DiscriminatorClassifier(design="k1").fit(X, y_semi)
    # refused before the generator is read: an unfitted augmenter is enough
    with pytest.raises(ValueError, match='design="k\\+1" trains its own generator'):
        DiscriminatorClassifier(design="k+1", generator=GANAugmenter()).fit(X, y_semi)


@parametrize_with_checks(
    [
        GANFeatures(preset=FAST, random_state=0),
        DiscriminatorClassifier(design="finetune", preset=FAST, finetune_steps=60, random_state=0),
        DiscriminatorClassifier(hidden=(16,), epochs=60, random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_benchmark_semi_regime_reduced_run(tmp_path):
    import importlib
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    quality = importlib.import_module("quality")
    methods = ("none,ganaug-semi,ganaug-semi+lr_g=0.0001,discriminator,disc-k+1,"
               "selftraining-lr,labelspreading")
    argv = ["--reduced", "--datasets", "wine,mixed", "--regimes", "semi", "--models", "logreg",
            "--semi-methods", methods, "--name", "semi", "--out", str(tmp_path)]
    assert quality.main(argv) == 0
    records = pd.DataFrame(json.loads((tmp_path / "semi.json").read_text())["records"])
    assert set(records["dataset"]) == {"mixed"}  # wine's 106 training rows are all labeled
    assert set(records["method"]) == set(methods.split(","))
    # 300 rows, 60% training: 120 labeled, 60 unlabeled; the test split is untouched
    assert (records["n_labeled"] == 120).all() and (records["n_unlabeled"] == 60).all()
    assert (records["n_test"] == 120).all()
    assert records["balanced_accuracy"].between(0, 1).all()
    assert (records.loc[records["method"] == "ganaug-semi", "n_synthetic"] > 0).all()
    # +field=value: the default preset with that GANConfig field, its hold-out choice recorded
    stage = records[records["method"] == "ganaug-semi+lr_g=0.0001"]
    assert len(stage) == 1 and stage["n_synthetic"].gt(0).all() and stage["selected_step"].ge(0).all()
    md = (tmp_path / "semi.md").read_text()
    assert "Regime `semi`" in md and "| mixed | semi | labelspreading |" in md


@pytest.mark.parametrize("design", ["finetune", "k+1"])
def test_discriminator_fits_in_threads_give_the_sequential_probabilities(semi_data, design):
    X, _, y = semi_data

    def proba(seed):
        clf = DiscriminatorClassifier(
            preset=FAST, design=design, finetune_steps=30, hidden=(16,), epochs=3, random_state=seed
        )
        return clf.fit(X, y).predict_proba(X)

    expected = {s: proba(s) for s in (0, 1)}

    def meddle():  # another thread seeding and drawing from the global RNG meanwhile
        torch.manual_seed(123)
        torch.rand(1000)

    got = fit_in_threads(proba, meddle)
    for key, seed in (("a", 0), ("b", 0), ("c", 1)):
        np.testing.assert_array_equal(got[key], expected[seed])
    assert not np.array_equal(expected[0], expected[1])
