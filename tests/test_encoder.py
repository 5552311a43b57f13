"""One encoder of table rows (ganaug.gan.encoder.TableEncoder): the codec's encoding for training
is the torch encoder's exact (float64) path, and equals, bit for bit, the quantile-normal encoding
written out in numpy below (np.interp for the position in the knots, scipy's ndtri); the float32
path that the exported feature graphs run agrees with it within float32 rounding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import ndtri

from ganaug.core.rows import split_rows
from ganaug.gan.codec import TableCodec
from ganaug.gan.encoder import P_EPS, TableEncoder


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "count": rng.integers(0, 4, n).astype(float),  # ties: knots on plateaus
            "price": np.round(rng.gamma(2, 10, n), 2),
            "constant": np.full(n, 3.0),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "heavy": np.exp(rng.normal(0, 3, n)),
        }
    )
    X.loc[X.index % 7 == 0, "a"] = np.nan
    X.loc[X.index % 11 == 0, "city"] = None
    return X


def _reference(codec: TableCodec, X: pd.DataFrame) -> np.ndarray:
    """The encoding written out in numpy, span by span."""
    out = []
    for span in codec.spans_:
        column = codec.schema_.columns[span.column]
        series = X.iloc[:, span.column]
        if span.kind == "numeric":
            v = series.to_numpy(np.float64)
            if codec.numeric_encoding == "minmax":
                u = np.clip((v - column.minimum) / ((column.maximum - column.minimum) or 1.0), 0, 1)
                out.append(np.nan_to_num(u, nan=0.5)[:, None])
                continue
            q = np.asarray(column.quantiles)
            refs = np.linspace(0.0, 1.0, len(q))
            # ties land in the middle of their plateau: forward and backward interpolation averaged
            p = 0.5 * (np.interp(v, q, refs) - np.interp(-v, -q[::-1], -refs[::-1]))
            out.append(np.nan_to_num(ndtri(np.clip(p, P_EPS, 1 - P_EPS)), nan=0.0)[:, None])
        elif span.kind == "missing":
            missing = series.isna().to_numpy()
            out.append(np.stack([~missing, missing], axis=1))
        else:
            keys = [None if pd.isna(c) else c for c in series]
            out.append(np.array([[k == c for c in column.categories] for k in keys]))
    return np.concatenate(out, axis=1).astype(np.float32)


@pytest.mark.parametrize("encoding", ["quantile", "minmax"])
def test_training_encoding_is_the_torch_encoder_and_matches_numpy(table, encoding):
    codec = TableCodec(numeric_encoding=encoding).fit(table)
    # values between, on and beyond the knots (a column scaled past its training range)
    other = table.assign(a=table["a"] * 1.7, heavy=table["heavy"] * 3.0)
    for X in (table, other):
        encoded = codec.encode(X)
        assert encoded.dtype == np.float32
        np.testing.assert_array_equal(encoded, _reference(codec, X))
        # the graph's float32 path: the same encoder, Acklam's inverse CDF and counted knots
        numeric, codes = split_rows(codec.schema_, X)
        graph = TableEncoder(codec)(torch.from_numpy(numeric), torch.from_numpy(codes)).numpy()
        np.testing.assert_allclose(graph, encoded, atol=1e-3)
