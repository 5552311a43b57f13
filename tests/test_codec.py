"""Table codec: round trips through the torch decode head (property-based), dtypes, missing
values, images; the vectorised categorical encoding."""


import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from ganaug.core.schema import assemble
from ganaug.gan.codec import TableCodec, _to_python
from ganaug.gan.decode import DecodeHead

#: one-hot blocks times this are logits whose softmax is one-hot to float32 precision
_SURE = 60.0


def head_decode(codec, Z):
    """Decode a matrix laid out by ``codec.spans_`` with the production decode head.

    The head samples categories and missing indicators from the softmax of their logits; an
    encoded one-hot block scaled by :data:`_SURE` makes that draw certain, so encoded rows come
    back as they went in, and numeric values go through the head's own inverse quantile map.
    """
    Z = np.array(Z, dtype=np.float32)
    start = 0
    for span in codec.spans_:
        if span.kind != "numeric":
            Z[:, start : start + span.dim] *= _SURE
        start += span.dim
    head = DecodeHead(codec)
    with torch.no_grad():
        numeric, codes = head(torch.from_numpy(Z), torch.zeros(len(Z), head.n_draws))
    return assemble(codec.schema_, numeric.numpy(), codes.numpy())


def inside_knots(codec, name, values):
    """What the decode head gives back for encoded ``values``: the values clipped to the outermost
    knots of the column's quantile table (rounded for integer columns), since the extremes of the
    training data are not stored (codec.quantile_knots); values inside come back as they went in."""
    column = next(c for c in codec.schema_.columns if c.name == name)
    return np.clip(np.asarray(values, dtype=np.float64), column.quantiles[0], column.quantiles[-1])


def assert_integers_near(decoded, expected):
    """Integer columns: each decoded value is an integer within 1/2 of the expected one (an
    outermost knot may be a half-integer, which float32 interpolation rounds either way)."""
    decoded = np.asarray(decoded, dtype=np.float64)
    assert (decoded == np.round(decoded)).all()
    assert np.abs(decoded - expected).max(initial=0.0) <= 0.5 + 1e-6


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
    out = head_decode(codec, codec.encode(df))
    assert list(out.columns) == list(df.columns)
    assert out.dtypes.to_dict() == df.dtypes.to_dict()
    for name in df.columns:
        a, b = df[name], out[name]
        assert (a.isna() == b.isna()).all(), name
        if pd.api.types.is_float_dtype(a.dtype):
            scale = np.nanmax(np.abs(a.to_numpy())) + 1.0
            expected = inside_knots(codec, name, a.to_numpy())
            np.testing.assert_allclose(b.to_numpy(), expected, atol=1e-5 * scale, rtol=1e-6)
        elif pd.api.types.is_integer_dtype(a.dtype):
            assert_integers_near(b.to_numpy(), inside_knots(codec, name, a.to_numpy()))
        else:
            assert a.dropna().tolist() == b.dropna().tolist(), name


@pytest.mark.parametrize("encoding", ["quantile", "minmax"])
def test_round_trip_numpy_keeps_container_and_dtype(encoding):
    X = load_digits().data[:200]
    codec = TableCodec(numeric_encoding=encoding).fit(X)
    out = head_decode(codec, codec.encode(X))
    assert isinstance(out, np.ndarray) and out.dtype == X.dtype and out.shape == X.shape
    expected = np.column_stack([inside_knots(codec, j, X[:, j]) for j in range(X.shape[1])])
    assert_integers_near(out, expected)  # digits: integer pixel values


def _codes_cell_by_cell(column, series):
    """The row-by-row categorical encoding the vectorised one replaced (reference)."""
    lookup = {c: i for i, c in enumerate(column.categories) if c is not None}
    missing = series.isna().to_numpy()
    codes = np.empty(len(series), dtype=np.int64)
    for i, (value, is_missing) in enumerate(zip(series.to_numpy(dtype=object), missing)):
        codes[i] = len(column.categories) - 1 if is_missing else lookup[_to_python(value)]
    return np.eye(len(column.categories), dtype=np.float32)[codes]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_tables())
def test_vectorised_categorical_encoding_is_unchanged(df):
    codec = TableCodec().fit(df)
    Z = codec.encode(df)
    start = 0
    for span in codec.spans_:
        if span.kind == "categorical":
            column = codec.schema_.columns[span.column]
            expected = _codes_cell_by_cell(column, df.iloc[:, span.column])
            np.testing.assert_array_equal(Z[:, start : start + span.dim], expected)
        start += span.dim


def test_categorical_encoding_of_mixed_python_and_numpy_values():
    df = pd.DataFrame(
        {
            "mixed": pd.Series([1, "a", 2.5, np.int64(1), None, "a", np.float64(2.5)], dtype=object),
            "named": [3, 1, 2, 3, 3, 1, 2],
            "flag": pd.array([True, False, None, True, True, False, False], dtype="boolean"),
            "s": pd.array(["x", None, "y", "x", "y", "y", "x"], dtype="string"),
        }
    )
    codec = TableCodec(categorical_features=["named"]).fit(df)
    Z = codec.encode(df)
    start = 0
    for span in codec.spans_:
        column = codec.schema_.columns[span.column]
        expected = _codes_cell_by_cell(column, df.iloc[:, span.column])
        np.testing.assert_array_equal(Z[:, start : start + span.dim], expected)
        start += span.dim
    out = head_decode(codec, Z)
    assert out["mixed"].tolist()[:4] == [1, "a", 2.5, 1] and pd.isna(out["mixed"][4])


def test_categorical_encoding_of_many_rows():
    # speed lives in benchmarks/speed.py; here: the vectorised encoding is right at scale
    rng = np.random.default_rng(0)
    n = 200_000
    df = pd.DataFrame({f"c{j}": rng.choice(["a", "bb", "ccc"], n).astype(object) for j in range(5)})
    codec = TableCodec().fit(df.iloc[:1000])
    Z = codec.encode(df)
    assert Z.shape == (n, 15) and (Z.sum(axis=1) == 5).all()
    levels = list(codec.schema_.columns[0].categories)
    np.testing.assert_array_equal(Z[:, :3].argmax(axis=1), [levels.index(v) for v in df["c0"]])


def test_numeric_round_trip_through_the_decode_head_at_scale():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.lognormal(size=3000), "n": rng.integers(0, 100, 3000)})
    for encoding in ("quantile", "minmax"):
        codec = TableCodec(numeric_encoding=encoding).fit(df)
        out = head_decode(codec, codec.encode(df))
        assert_integers_near(out["n"], inside_knots(codec, "n", df["n"]))
        # the head computes in float32: a few 1e-5 of the range between sparse tail quantiles
        span = float(df["x"].max() - df["x"].min())
        expected = inside_knots(codec, "x", df["x"])
        np.testing.assert_allclose(out["x"], expected, rtol=1e-5, atol=1e-4 * span)


def test_integer_columns_decode_to_integers_within_range():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"n": rng.integers(3, 9, 100), "x": rng.normal(size=100)})
    codec = TableCodec().fit(df)
    z = rng.normal(scale=3.0, size=(500, codec.output_dim))  # arbitrary generator outputs
    out = head_decode(codec, z)
    assert out["n"].dtype == np.int64
    assert out["n"].between(3, 8).all()
    # the decode head clips to float32 copies of the observed range (which may lie one float32 ulp
    # outside the float64 range)
    assert out["x"].between(np.float32(df.x.min()), np.float32(df.x.max())).all()


def test_bimodal_column_is_captured():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(-10, 1, 500), rng.normal(10, 1, 500)])
    codec = TableCodec().fit(x[:, None])
    # standard normal codes decode to the column's distribution: both modes, nothing in between
    decoded = head_decode(codec, rng.normal(size=(4000, 1)))[:, 0]
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
    out = head_decode(codec, codec.encode(df))
    assert out["code"].tolist() == [10, 20, 10, 30] and out["code"].dtype == np.int64


def test_encode_rejects_unseen_category_and_wrong_columns():
    df = pd.DataFrame({"c": ["a", "b"], "x": [1.0, 2.0]})
    codec = TableCodec().fit(df)
    with pytest.raises(ValueError, match="'c'.*unseen"):
        codec.encode(pd.DataFrame({"c": ["zzz"], "x": [1.0]}))
    with pytest.raises(ValueError, match="does not match the fitted schema"):
        codec.encode(pd.DataFrame({"x": [1.0], "c": ["a"]}))
