"""GANAugmenter: counts, containers, reproducibility, persistence, regression."""

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler
from sklearn.datasets import make_classification

from ganaug import GANAugmenter


def _imbalanced(n_classes=3, weights=(0.6, 0.3, 0.1)):
    return make_classification(
        n_samples=150, n_features=5, n_informative=3, n_classes=n_classes,
        weights=list(weights), random_state=0,
    )


@pytest.mark.parametrize(
    "strategy",
    ["auto", "minority", "not minority", "not majority", "all", {0: 100, 1: 60, 2: 40},
     lambda y: {c: int(np.sum(y == c)) * 2 for c in np.unique(y)}],
    ids=["auto", "minority", "not-minority", "not-majority", "all", "dict", "callable"],
)
def test_counts_match_random_over_sampler(strategy, tiny):
    X, y = _imbalanced()
    _, y_ros = RandomOverSampler(sampling_strategy=strategy, random_state=0).fit_resample(X, y)
    X_res, y_res = GANAugmenter(sampling_strategy=strategy, preset=tiny, random_state=0).fit_resample(X, y)
    assert dict(zip(*np.unique(y_res, return_counts=True))) == dict(zip(*np.unique(y_ros, return_counts=True)))
    assert X_res.shape == (len(y_ros), X.shape[1])
    np.testing.assert_array_equal(X_res[: len(X)], X)  # originals first, untouched


def test_float_strategy_binary_matches_random_over_sampler(tiny):
    X, y = _imbalanced(2, (0.8, 0.2))
    _, y_ros = RandomOverSampler(sampling_strategy=0.5).fit_resample(X, y)
    _, y_res = GANAugmenter(sampling_strategy=0.5, preset=tiny, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(np.bincount(y_res), np.bincount(y_ros))


def test_augment_ratio_grows_every_class(tiny):
    X, y = _imbalanced()
    before = np.bincount(y)
    _, y_res = GANAugmenter(augment_ratio=0.5, preset=tiny, random_state=0).fit_resample(X, y)
    balanced = np.full(3, before.max())
    np.testing.assert_array_equal(np.bincount(y_res), balanced + np.round(0.5 * balanced).astype(int))


def test_pandas_in_pandas_out_with_mixed_dtypes(mixed_df, tiny):
    X, y = mixed_df
    X_res, y_res = GANAugmenter(preset=tiny, random_state=0).fit_resample(X, y)
    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert list(X_res.columns) == list(X.columns)
    assert X_res.dtypes.to_dict() == X.dtypes.to_dict()
    assert y_res.name == "label" and y_res.value_counts()["yes"] == y_res.value_counts()["no"]
    synth = X_res.iloc[len(X):]
    assert set(synth["city"]) <= set(X["city"])
    assert synth["age"].between(X.age.min(), X.age.max()).all()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)


def test_same_random_state_same_samples(mixed_df, tiny):
    X, y = mixed_df
    a = GANAugmenter(preset=tiny, random_state=7).fit_resample(X, y)[0]
    b = GANAugmenter(preset=tiny, random_state=7).fit_resample(X, y)[0]
    c = GANAugmenter(preset=tiny, random_state=8).fit_resample(X, y)[0]
    pd.testing.assert_frame_equal(a, b)
    assert not a.iloc[len(X):].equals(c.iloc[len(X):])


def test_training_does_not_touch_global_rng(mixed_df, tiny):
    import torch

    X, y = mixed_df
    torch.manual_seed(123)
    np.random.seed(123)
    expected_t, expected_n = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    GANAugmenter(preset=tiny, random_state=0).fit(X, y)
    assert torch.equal(torch.rand(3), expected_t)
    np.testing.assert_array_equal(np.random.rand(3), expected_n)


def test_sample_classes_and_counts(mixed_df, tiny):
    X, y = mixed_df
    aug = GANAugmenter(preset=tiny, random_state=0).fit(X, y)
    Xs, ys = aug.sample(50, y="yes")
    assert len(Xs) == 50 and set(ys) == {"yes"}
    Xs, ys = aug.sample(7, y=["yes", "no", "no", "yes", "no", "no", "no"])
    assert list(ys) == ["yes", "no", "no", "yes", "no", "no", "no"]
    Xs, ys = aug.sample(100)
    assert len(Xs) == 100 and (ys == "yes").sum() == round(100 * (y == "yes").mean())
    pd.testing.assert_frame_equal(aug.sample(20, random_state=3)[0], aug.sample(20, random_state=3)[0])


def test_sample_returns_the_containers_fit_resample_returns(mixed_df, tiny, tmp_path):
    """pandas in, pandas out: sample's y is a Series where fit_resample's is (same name, dtype,
    X's index); numpy in, numpy out; a loaded augmenter gives a Series next to a DataFrame."""
    X, y = mixed_df
    y = pd.Series(y, name="answer", dtype="category")
    aug = GANAugmenter(preset=tiny, random_state=0)
    X_res, y_res = aug.fit_resample(X, y)
    X_new, y_new = aug.sample(30, y="yes", random_state=1)
    assert type(X_new) is type(X_res) is pd.DataFrame and type(y_new) is type(y_res) is pd.Series
    assert y_new.name == y_res.name == "answer" and y_new.dtype == y_res.dtype
    assert y_new.index.equals(X_new.index) and set(y_new) == {"yes"}
    aug.save(tmp_path / "art")
    _X_l, y_l = GANAugmenter.load(tmp_path / "art").sample(30, y="yes", random_state=1)
    assert isinstance(y_l, pd.Series) and list(y_l) == list(y_new)
    Xa, ya = _imbalanced()
    aug = GANAugmenter(preset=tiny, random_state=0)
    Xa_res, ya_res = aug.fit_resample(Xa, ya)
    Xa_new, ya_new = aug.sample(10, random_state=0)
    assert all(isinstance(a, np.ndarray) for a in (Xa_res, ya_res, Xa_new, ya_new))


def test_regression_sample_returns_a_series_for_a_series(tiny):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = pd.Series(rng.normal(size=60), name="price")
    aug = GANAugmenter(preset=tiny, task="regression", random_state=0).fit(X, y)
    X_new, y_new = aug.sample(12, random_state=0)
    assert isinstance(y_new, pd.Series) and y_new.name == "price" and len(y_new) == len(X_new) == 12


def test_save_load_gives_identical_samples(mixed_df, tiny, tmp_path):
    X, y = mixed_df
    aug = GANAugmenter(preset=tiny, random_state=0).fit(X, y)
    aug.save(tmp_path / "art")
    loaded = GANAugmenter.load(tmp_path / "art")
    pd.testing.assert_frame_equal(aug.sample(40, random_state=5)[0], loaded.sample(40, random_state=5)[0])
    # a loaded generator serves fit_resample without training
    X_res, y_res = loaded.fit_resample(X, y)
    assert (y_res == "yes").sum() == (y_res == "no").sum()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)
    assert loaded.model_.history_ == aug.model_.history_  # sampled from the artifact, not retrained


def test_regression_target_is_modelled_jointly(tiny):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=80)
    aug = GANAugmenter(preset=tiny, task="regression", random_state=0)
    X_res, y_res = aug.fit_resample(X, y)
    assert aug.task_ == "regression"
    assert X_res.shape == (160, 3) and y_res.shape == (160,)
    assert y_res[80:].min() >= y.min() and y_res[80:].max() <= y.max()
    X_res2, _ = GANAugmenter(
        preset=tiny, task="regression", augment_ratio=0.25, random_state=0
    ).fit_resample(X, y)
    assert len(X_res2) == 100


def test_regression_with_dataframe_keeps_columns(tiny):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["u", "v"], 60)})
    y = pd.Series(rng.normal(size=60), name="price")
    X_res, y_res = GANAugmenter(preset=tiny, task="regression", random_state=0).fit_resample(X, y)
    assert list(X_res.columns) == ["a", "b"] and y_res.name == "price" and len(y_res) == 120


def test_continuous_target_needs_task_regression(tiny):
    """task="auto" means imbalanced-learn's semantics: a continuous y is not class labels."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = rng.normal(size=40)
    for method in ("fit", "fit_resample"):
        with pytest.raises(ValueError, match="Unknown label type.*task='regression'"):
            getattr(GANAugmenter(preset=tiny), method)(X, y)


def test_task_overrides_inference(tiny):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    # an integer count with 6 values: class labels unless told otherwise
    counts = np.clip(np.round(X[:, 0] * 1.5 + 2.5), 0, 5).astype(np.int64)
    assert GANAugmenter(preset=tiny, random_state=0).fit(X, counts).task_ == "classification"
    aug = GANAugmenter(preset=tiny, task="regression", random_state=0)
    X_res, y_res = aug.fit_resample(X, pd.Series(counts, name="visits"))
    assert aug.task_ == "regression" and X_res.shape == (180, 3) and y_res.name == "visits"
    assert y_res.dtype == np.int64 and set(y_res[90:]) <= set(range(6))
    # a float-coded label with 23 values: class labels (regression only when asked for)
    labels = np.repeat(np.arange(25.0), 4)[:90]
    assert GANAugmenter(preset=tiny, random_state=0).fit(X, labels).task_ == "classification"
    aug = GANAugmenter(preset=tiny, task="classification", random_state=0).fit(X, labels)
    assert aug.task_ == "classification" and len(aug.classes_) == 23
    with pytest.raises(ValueError, match="Unknown label type"):
        GANAugmenter(preset=tiny, task="classification").fit(X, X[:, 1])
    with pytest.raises(ValueError, match="task='regression' needs a numeric y"):
        GANAugmenter(preset=tiny, task="regression").fit(X, np.array(["a", "b", "c"] * 30))
    with pytest.raises(ValueError, match="task"):
        GANAugmenter(task="ranking").fit(X, counts)


def test_classic_preset_trains_and_samples(mixed_df):
    X, y = mixed_df
    aug = GANAugmenter(preset="classic", epochs=2, random_state=0).fit(X, y)
    cfg = aug.model_.config_
    assert (cfg.noise_dim, cfg.loss, cfg.lr_g, cfg.betas) == (100, "bce", 2e-4, (0.5, 0.999))
    Xs, _ = aug.sample(30)
    assert Xs.shape == (30, X.shape[1])


def test_verbose_shows_progress_and_quiet_is_silent(mixed_df, tiny, capsys, monkeypatch):
    # under pytest stderr is not a terminal: progress comes as log lines, one per interval
    monkeypatch.setenv("GANAUG_PROGRESS", "log")
    monkeypatch.setenv("GANAUG_PROGRESS_INTERVAL", "0")
    X, y = mixed_df
    GANAugmenter(preset=tiny, verbose=False, random_state=0).fit(X, y)
    assert "pretraining" not in capsys.readouterr().err
    GANAugmenter(preset=tiny, verbose=True, random_state=0).fit(X, y)
    assert "pretraining" in capsys.readouterr().err
