"""Table codec: round trips (property-based), dtypes, missing values, images."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from ganaug.gan.codec import TableCodec


@st.composite
def mixed_tables(draw):
    n = draw(st.integers(min_value=2, max_value=40))
    n_cols = draw(st.integers(min_value=1, max_value=5))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    rng = np.random.default_rng(seed)
    data = {}
    for j in range(n_cols):
        kind = draw(st.sampled_from(["float", "int", "str", "bool", "category", "float_nan", "str_nan"]))
        if kind == "float":
            values = rng.normal(draw(st.floats(-1e3, 1e3)), draw(st.floats(0.01, 1e3)), n)
            if draw(st.booleans()):  # bimodal
                values[: n // 2] += 50.0
        elif kind == "int":
            values = rng.integers(-50, 50, n)
        elif kind == "str":
            values = rng.choice(["a", "bb", "ccc", "d d"], n).astype(object)
        elif kind == "bool":
            values = rng.random(n) > 0.5
        elif kind == "category":
            values = pd.Categorical(rng.choice(["x", "y", "z"], n))
        elif kind == "float_nan":
            values = rng.normal(size=n)
            values[rng.random(n) < 0.3] = np.nan
            values[0] = 1.5  # never all-NaN
        else:
            values = rng.choice(["p", "q"], n).astype(object)
            values[rng.random(n) < 0.3] = None
            values[0] = "p"
        data[f"c{j}_{kind}"] = values
    return pd.DataFrame(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_tables())
def test_round_trip_mixed_tables(df):
    codec = TableCodec().fit(df)
    out = codec.decode(codec.encode(df))
    assert list(out.columns) == list(df.columns)
    assert out.dtypes.to_dict() == df.dtypes.to_dict()
    for name in df.columns:
        a, b = df[name], out[name]
        assert (a.isna() == b.isna()).all(), name
        if pd.api.types.is_float_dtype(a.dtype):
            scale = np.nanmax(np.abs(a.to_numpy())) + 1.0
            np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), atol=1e-5 * scale, rtol=1e-6)
        else:
            assert a.dropna().tolist() == b.dropna().tolist(), name


@pytest.mark.parametrize("encoding", ["quantile", "minmax"])
def test_round_trip_numpy_keeps_container_and_dtype(encoding):
    X = load_digits().data[:200]
    codec = TableCodec(numeric_encoding=encoding).fit(X)
    out = codec.decode(codec.encode(X))
    assert isinstance(out, np.ndarray) and out.dtype == X.dtype and out.shape == X.shape
    np.testing.assert_allclose(out, X, atol=1e-9 if encoding == "quantile" else 1e-6)


def test_integer_columns_decode_to_integers_within_range():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"n": rng.integers(3, 9, 100), "x": rng.normal(size=100)})
    codec = TableCodec().fit(df)
    z = rng.normal(scale=3.0, size=(500, codec.output_dim))  # arbitrary generator outputs
    out = codec.decode(z)
    assert out["n"].dtype == np.int64
    assert out["n"].between(3, 8).all()
    assert out["x"].between(df.x.min(), df.x.max()).all()


def test_bimodal_column_is_captured():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(-10, 1, 500), rng.normal(10, 1, 500)])
    codec = TableCodec().fit(x[:, None])
    # standard normal codes decode to the column's distribution: both modes, nothing in between
    decoded = codec.decode(rng.normal(size=(4000, 1)))[:, 0]
    assert abs(np.mean(decoded < 0) - 0.5) < 0.05
    assert np.mean(np.abs(decoded) < 5) < 0.02


def test_missing_values_are_modelled_as_indicator_span():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0, np.nan], "c": ["a", None, "b", "a"]})
    codec = TableCodec().fit(df)
    kinds = [s.kind for s in codec.spans_]
    assert kinds == ["numeric", "missing", "categorical"]
    assert codec.schema_.columns[0].missing_rate == 0.5
    assert codec.schema_.columns[1].categories == ["a", "b", None]


def test_user_named_integer_categorical():
    df = pd.DataFrame({"code": [10, 20, 10, 30], "x": [0.1, 0.2, 0.3, 0.4]})
    codec = TableCodec(categorical_features=["code"]).fit(df)
    assert codec.schema_.columns[0].kind == "categorical"
    out = codec.decode(codec.encode(df))
    assert out["code"].tolist() == [10, 20, 10, 30] and out["code"].dtype == np.int64


def test_encode_rejects_unseen_category_and_wrong_columns():
    df = pd.DataFrame({"c": ["a", "b"], "x": [1.0, 2.0]})
    codec = TableCodec().fit(df)
    with pytest.raises(ValueError, match="'c'.*unseen"):
        codec.encode(pd.DataFrame({"c": ["zzz"], "x": [1.0]}))
    with pytest.raises(ValueError, match="does not match the fitted schema"):
        codec.encode(pd.DataFrame({"x": [1.0], "c": ["a"]}))
