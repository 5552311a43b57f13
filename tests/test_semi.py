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
from ganaug.gan.features import TableEncoder
from ganaug.gan.presets import PRESETS
from ganaug.gan.semi import pseudo_labels
from ganaug.runtime.features import OnnxRowModel

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
    # by default unlabeled rows fit the codec only; "confident" lets sure ones join a class
    assert aug.model_.n_pseudo_labeled_ == 0
    np.testing.assert_array_equal(aug.model_.class_counts_, [8, 8])
    joined = GANAugmenter(
        preset=FAST.with_overrides(unlabeled_copula="confident"), augment_ratio=1.0, random_state=0
    ).fit(X, pd.Series(y_semi, name="t"))
    assert joined.model_.n_pseudo_labeled_ > 0
    np.testing.assert_array_equal(joined.model_.class_counts_, [8, 8])


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


def test_pseudo_labels_recover_separated_classes():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [4.0, 4.0]])
    Z = np.concatenate([rng.normal(size=(3, 2)) + c for c in centres])
    labels = np.repeat([0, 1], 3)
    truth = rng.integers(0, 2, 200)
    Z_u = rng.normal(size=(200, 2)) + centres[truth]
    guess = pseudo_labels(Z, labels, Z_u, 2)
    confident = guess >= 0
    assert confident.mean() > 0.8
    assert (guess[confident] == truth[confident]).mean() > 0.97


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
    methods = ("none,ganaug-semi,ganaug-semi+unconditional_weight=1,discriminator,disc-k+1,"
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
    stage = records[records["method"] == "ganaug-semi+unconditional_weight=1"]
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


# ---------------------------------------------------------------------------- unconditional stage

#: the adversarial stage kept whatever the hold-out says (selection may keep the copula alone)
ADVERSARIAL = FAST.with_overrides(holdout_selection=False, epochs=3)


def test_critic_zero_condition_path():
    from ganaug.gan.conv import ConvCritic
    from ganaug.gan.networks import Discriminator, one_hot

    gen = torch.Generator().manual_seed(0)
    rows = torch.randn(8, 16, generator=gen)
    labels = torch.tensor([0, 1, 2, 1, 0, 2, 2, 1])
    for critic in (Discriminator(16, 3, (8,), pac=2), ConvCritic(3, (4,), (4, 4), pac=2)):
        critic.eval()
        # a one-hot condition matrix is the class indices' path, to the bit
        torch.testing.assert_close(critic(rows, one_hot(labels, 3)), critic(rows, labels), rtol=0, atol=0)
        none = critic(rows, torch.zeros(8, 3))
        assert none.shape == (4, 1) and torch.isfinite(none).all()
        assert not torch.allclose(none, critic(rows, labels))  # "no class" is a condition of its own


def _uncond_fit(X, y_semi, **overrides):
    preset = ADVERSARIAL.with_overrides(**overrides)
    return GANAugmenter(preset=preset, random_state=0).fit(X, y_semi).model_


def test_unconditional_stage_changes_the_generator_and_is_reproducible(semi_data):
    X, _, y_semi = semi_data
    state, np_state = torch.random.get_rng_state(), np.random.get_state()
    on = _uncond_fit(X, y_semi, unconditional_weight=1.0)
    # every draw from the fit's own generators: the global RNGs untouched
    assert torch.equal(state, torch.random.get_rng_state())
    assert np.array_equal(np_state[1], np.random.get_state()[1])
    off = _uncond_fit(X, y_semi)
    again = _uncond_fit(X, y_semi, unconditional_weight=1.0)
    weights = [(k, v) for k, v in on.generator_.state_dict().items() if k.startswith("net.")]
    assert any(not torch.equal(v, off.generator_.state_dict()[k]) for k, v in weights)
    for k, v in on.generator_.state_dict().items():
        assert torch.equal(v, again.generator_.state_dict()[k]), k
    rows_on = on.sample(30, y=1, random_state=0)[0]
    pd.testing.assert_frame_equal(rows_on, again.sample(30, y=1, random_state=0)[0])
    assert not rows_on.equals(off.sample(30, y=1, random_state=0)[0])


def test_unconditional_stage_needs_unlabeled_rows(semi_data):
    X, y, y_semi = semi_data
    labeled = y_semi != -1
    # a supervised fit ignores the weight: the same networks with and without it
    on = _uncond_fit(X[labeled], y[labeled], unconditional_weight=1.0)
    off = _uncond_fit(X[labeled], y[labeled])
    for k, v in on.generator_.state_dict().items():
        assert torch.equal(v, off.generator_.state_dict()[k]), k
    with pytest.raises(ValueError, match="unconditional_weight must be a number >= 0"):
        FAST.with_overrides(unconditional_weight=-1.0)


def test_unconditional_stage_moves_the_marginal_toward_every_row(monkeypatch):
    from ganaug.gan import semi

    # the labeled rows' "a" sits near 0, the unlabeled rows' near 3; "b" tells the classes apart
    rng = np.random.default_rng(0)
    n_lab, n_unl = 40, 400
    y = np.arange(n_lab + n_unl) % 2
    a = np.r_[rng.normal(0.0, 1.0, n_lab), rng.normal(3.0, 1.0, n_unl)]
    X = pd.DataFrame({"a": a, "b": rng.normal(size=len(y)) + 4 * y})
    y_semi = np.where(np.arange(len(y)) < n_lab, y, -1)
    # no unlabeled row joins a class: the copula is the labeled rows', only the new stage
    # shows the generator where the unlabeled rows lie
    monkeypatch.setattr(semi, "CONFIDENCE", 2.0)
    preset = ADVERSARIAL.with_overrides(
        epochs=100, lr_g=2e-4, batch_size=32, generator_hidden=(32,), discriminator_hidden=(32, 32)
    )

    def code_mean(weight):  # mean quantile-normal code of "a" in generated rows
        model = GANAugmenter(
            preset=preset.with_overrides(unconditional_weight=weight), random_state=0
        ).fit(X, y_semi).model_
        assert model.n_pseudo_labeled_ == 0
        codes = model.codec_.encode(model.sample(400, random_state=0)[0])
        return float(codes[:, 0].mean()), float(model.codec_.encode(X)[:, 0].mean())

    (off, every_row), (on, _) = code_mean(0.0), code_mean(1.0)
    # the labeled rows' codes sit near -1.8, every row's near 0 (the codec saw them all)
    assert abs(on - every_row) < abs(off - every_row) - 0.3, (off, on, every_row)


# ---------------------------------------------------------------------------- soft copula


def test_weighted_copula_statistics():
    from ganaug.gan.networks import copula_statistics

    gen = torch.Generator().manual_seed(0)
    Z, labels = torch.randn(20, 3, generator=gen), torch.arange(20) % 2
    w = torch.rand(20, generator=gen)
    w[:4] = 2.0
    got = copula_statistics(Z, labels, 2, w)
    # weight 2: the row twice; weight w: w times its sums
    twice = copula_statistics(torch.cat([Z[:4], Z[:4]]), torch.cat([labels[:4], labels[:4]]), 2)
    rest = copula_statistics(Z[4:] * w[4:, None].sqrt(), labels[4:], 2)  # cross-products only
    torch.testing.assert_close(got.counts, twice.counts + torch.bincount(labels[4:], w[4:].double(), 2))
    torch.testing.assert_close(got.cross, twice.cross + rest.cross)
    ones = copula_statistics(Z, labels, 2, torch.ones(20))
    plain = copula_statistics(Z, labels, 2)
    for name in ("counts", "sums", "cross"):
        torch.testing.assert_close(getattr(ones, name), getattr(plain, name), rtol=0, atol=0)


def test_weights_of_one_give_the_unweighted_mixture_copula():
    from ganaug.gan.networks import Generator

    gen = torch.Generator().manual_seed(0)
    Z, labels = torch.randn(400, 3, generator=gen), torch.arange(400) % 2
    plain, weighted = (Generator(5, 2, 3, (8,), copula=True, copula_components=4,
                                 copula_component_rows=1) for _ in range(2))
    plain.set_copula(Z, labels)
    weighted.set_copula(Z, labels, weights=torch.ones(400))
    assert bool((plain.component_cdf[:, 0] < 1).any())  # a mixture was fitted
    for k, v in plain.named_buffers():  # the same copula
        torch.testing.assert_close(dict(weighted.named_buffers())[k], v, rtol=1e-6, atol=1e-6)
    # rows of weight 0 are as good as absent
    extra = torch.randn(50, 3, generator=gen) + 5
    zeroed = Generator(5, 2, 3, (8,), copula=True)
    alone = Generator(5, 2, 3, (8,), copula=True)
    zeroed.set_copula(torch.cat([Z, extra]), torch.cat([labels, torch.zeros(50, dtype=torch.long)]),
                      weights=torch.cat([torch.ones(400), torch.zeros(50)]))
    alone.set_copula(Z, labels)
    torch.testing.assert_close(zeroed.base_mean, alone.base_mean, rtol=1e-5, atol=1e-5)


def test_soft_unlabeled_rows_enter_the_copula(semi_data):
    X, _, y_semi = semi_data
    soft = _uncond_fit(X, y_semi, unlabeled_copula="soft")
    hard = _uncond_fit(X, y_semi, unlabeled_copula="confident")
    assert soft.n_pseudo_labeled_ == hard.n_pseudo_labeled_  # the adversarial stage's rows
    assert not torch.equal(soft.generator_.base_mean, hard.generator_.base_mean)
    pd.testing.assert_frame_equal(
        soft.sample(20, random_state=0)[0], _uncond_fit(X, y_semi, unlabeled_copula="soft").sample(20, random_state=0)[0]
    )


def test_pooled_unlabeled_rows_give_the_correlation_not_the_class_means():
    from ganaug.gan.networks import Generator, copula_statistics

    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(24) % 2
    Z = torch.randn(24, 2, generator=gen) + 3.0 * labels[:, None]  # 12 per class, uncorrelated
    # many unlabeled rows: strongly correlated codes, both classes shifted by +2
    y_u = torch.arange(400) % 2
    shared = torch.randn(400, 1, generator=gen)
    Z_u = 0.95 * shared + 0.3 * torch.randn(400, 2, generator=gen) + 3.0 * y_u[:, None] + 2.0
    posteriors = torch.nn.functional.one_hot(y_u, 2).double() * 0.9 + 0.05

    def fitted(pooled=None):
        G = Generator(3, 2, 2, (8,), copula=True)
        G.set_copula(Z, labels, pooled=pooled)
        return G

    alone = fitted()
    pooled = fitted(copula_statistics(
        torch.cat([Z_u, Z_u]), torch.repeat_interleave(torch.arange(2), 400), 2,
        torch.cat([posteriors[:, 0], posteriors[:, 1]]),
    ))

    def correlation(G):
        noise = torch.randn(4000, 3, generator=gen)
        rows = G(noise, torch.zeros(4000, dtype=torch.long)).detach()
        return float(torch.corrcoef(rows.T)[0, 1])

    assert correlation(pooled) > correlation(alone) + 0.2  # 0.72 against 0.43
    # the class means stay the labeled rows' (one pseudo-row of every row's mean apart)
    assert (pooled.base_mean - alone.base_mean).abs().max() < 0.25


def test_pooled_fit_joins_no_row(semi_data):
    X, _, y_semi = semi_data
    model = _uncond_fit(X, y_semi, unlabeled_copula="pooled", unconditional_weight=1.0)
    assert model.n_pseudo_labeled_ == 0
    np.testing.assert_array_equal(model.class_counts_, [8, 8])
