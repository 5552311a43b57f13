"""Bad input gets a clear ValueError/TypeError naming the problem."""

import numpy as np
import pandas as pd
import pytest

from ganaug import GANAugmenter


@pytest.fixture
def aug(tiny):
    return GANAugmenter(preset=tiny, random_state=0)


def test_empty_data(aug):
    with pytest.raises(ValueError, match="empty|0 samples"):
        aug.fit_resample(np.empty((0, 3)), np.array([]))


def test_single_row(aug):
    with pytest.raises(ValueError, match="single row|2 rows"):
        aug.fit_resample(pd.DataFrame({"a": [1.0], "b": [2.0]}), pd.Series([0]))


def test_single_class(aug):
    with pytest.raises(ValueError, match="single class"):
        aug.fit_resample(np.random.rand(10, 2), np.zeros(10, dtype=int))


def test_all_nan_column_is_named(aug):
    X = pd.DataFrame({"ok": np.arange(10.0), "empty_col": np.nan})
    with pytest.raises(ValueError, match="'empty_col'.*missing"):
        aug.fit_resample(X, np.arange(10) % 2)


def test_infinite_column_is_named(aug):
    X = pd.DataFrame({"ok": np.arange(10.0), "bad": np.r_[np.inf, np.arange(9.0)]})
    with pytest.raises(ValueError, match="'bad'.*infinite"):
        aug.fit_resample(X, np.arange(10) % 2)


def test_y_wrong_length(aug):
    with pytest.raises(ValueError, match="y has 5 entries but X has 10 rows"):
        aug.fit_resample(np.random.rand(10, 2), np.arange(5) % 2)


def test_unknown_class_in_sample(mixed_df, aug):
    X, y = mixed_df
    aug.fit(X, y)
    with pytest.raises(ValueError, match="unknown class 'maybe'"):
        aug.sample(5, y="maybe")


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_non_positive_sample_counts(mixed_df, aug, n):
    X, y = mixed_df
    aug.fit(X, y)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        aug.sample(n)


def test_unmodellable_column_type_is_named(aug):
    X = pd.DataFrame({"when": pd.date_range("2020", periods=10), "x": np.arange(10.0)})
    with pytest.raises(TypeError, match="'when'.*datetime"):
        aug.fit_resample(X, np.arange(10) % 2)
    X = pd.DataFrame({"blob": [{"a": 1}] * 10, "x": np.arange(10.0)})
    with pytest.raises(TypeError, match="'blob'"):
        aug.fit_resample(X, np.arange(10) % 2)


def test_bad_parameters_are_named(mixed_df):
    X, y = mixed_df
    with pytest.raises(ValueError, match="preset"):
        GANAugmenter(preset="turbo").fit(X, y)
    with pytest.raises(ValueError, match="augment_ratio"):
        GANAugmenter(augment_ratio=-1).fit(X, y)
    with pytest.raises(ValueError, match="sampling_strategy"):
        GANAugmenter(sampling_strategy="most").fit(X, y)


def test_one_dimensional_x(aug):
    with pytest.raises(ValueError, match="2-dimensional"):
        aug.fit_resample(np.arange(10.0), np.arange(10) % 2)


def test_sparse_input_is_refused(aug):
    from scipy import sparse

    with pytest.raises(TypeError, match="sparse"):
        aug.fit_resample(sparse.random(10, 3, density=0.5, format="csr"), np.arange(10) % 2)
