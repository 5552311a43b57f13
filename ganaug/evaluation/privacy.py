"""Privacy: are synthetic rows closer to the training rows than unseen real rows are?

Distance to the closest record (DCR): for each synthetic row, the distance to its nearest real
training row, in a fixed encoding fitted on the training rows (numeric columns standardized and
median-imputed with a missing indicator, categorical ones one-hot). The same distance for real
rows the generator never saw (a held-out split) is the yardstick: a ratio synthetic / held-out
of at least 1 means the synthetic rows are no closer to the training rows than new real data
is. The nearest-neighbour distance ratio (NNDR, nearest over second-nearest training row) near
0 flags rows that sit on one training row in particular (copies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

#: at most this many synthetic (and held-out) rows are compared
DCR_MAX_ROWS = 2000


def distance_encoder(X_real: pd.DataFrame) -> Callable[[pd.DataFrame], np.ndarray]:
    """The fixed DCR preprocessing, fitted on the real training rows.

    Numeric columns: median-imputed, standardized (mean / std of the real rows), plus a 0/1
    missing indicator for every column with missing values in the real rows; categorical
    columns: one-hot over the real rows' levels (missing is a level; unseen levels encode as
    all zeros). Returns ``encode(frame) -> float matrix``.
    """
    from ganaug.learn.preprocessing import make_preprocessor

    X_real = pd.DataFrame(X_real)
    encoder = make_preprocessor(scale=True, missing_indicator=True, missing_category=True)
    encoder.fit(X_real)

    def encode(frame: pd.DataFrame) -> np.ndarray:
        frame = pd.DataFrame(frame)
        return np.asarray(encoder.transform(frame[list(X_real.columns)]), dtype=float)

    return encode


def distance_to_closest_record(
    X_train: Any,
    X_synthetic: Any,
    X_holdout: Any,
    *,
    y_synthetic: Any = None,
    y_holdout: Any = None,
    random_state: int | None = 0,
    max_rows: int = DCR_MAX_ROWS,
) -> dict[str, float]:
    """DCR of synthetic and held-out rows to the training rows, their ratio, and the NNDR.

    Parameters
    ----------
    X_train : DataFrame or array-like
        The real rows the generator was fitted on.
    X_synthetic : DataFrame or array-like
        Synthetic rows (same columns).
    X_holdout : DataFrame or array-like
        Real rows the generator never saw.
    y_synthetic, y_holdout : array-like, optional
        Labels: when both are given, only held-out rows of the synthetic rows' classes are
        compared (synthetic minority rows against real minority rows).
    random_state : int or None, default=0
        Seed of the subsampling to ``max_rows``.
    max_rows : int, default=2000

    Returns
    -------
    dict
        ``dcr_synthetic`` and ``dcr_holdout`` (median distances to the closest training row),
        ``dcr_ratio`` (synthetic / held-out; >= 1: no closer than unseen real rows),
        ``nndr_synthetic`` and ``nndr_holdout`` (median nearest / second-nearest distance
        ratio) and ``copies`` (fraction of synthetic rows at distance 0 from a training row).
    """
    from sklearn.neighbors import NearestNeighbors

    X_train, X_synthetic, X_holdout = (pd.DataFrame(x) for x in (X_train, X_synthetic, X_holdout))
    X_synthetic.columns = X_holdout.columns = X_train.columns
    rng = np.random.default_rng(random_state)
    encode = distance_encoder(X_train)
    nn = NearestNeighbors(n_neighbors=min(2, len(X_train))).fit(encode(X_train))
    if y_synthetic is not None and y_holdout is not None:
        X_holdout = X_holdout[np.isin(np.asarray(y_holdout), np.unique(np.asarray(y_synthetic)))]

    def distances(frame: pd.DataFrame) -> np.ndarray:
        if len(frame) > max_rows:
            frame = frame.iloc[np.sort(rng.choice(len(frame), max_rows, replace=False))]
        if not len(frame):
            return np.full((0, 2), np.nan)
        d = nn.kneighbors(encode(frame))[0]
        return d if d.shape[1] == 2 else np.column_stack([d, d])

    d_syn, d_held = distances(X_synthetic), distances(X_holdout)

    def nndr(d: np.ndarray) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(d[:, 1] > 0, d[:, 0] / d[:, 1], 1.0)
        return float(np.median(ratio)) if len(ratio) else float("nan")

    syn = float(np.median(d_syn[:, 0])) if len(d_syn) else float("nan")
    held = float(np.median(d_held[:, 0])) if len(d_held) else float("nan")
    return {
        "dcr_synthetic": syn,
        "dcr_holdout": held,
        "dcr_ratio": syn / held if held > 0 else float("nan"),
        "nndr_synthetic": nndr(d_syn),
        "nndr_holdout": nndr(d_held),
        "copies": float(np.mean(d_syn[:, 0] == 0)) if len(d_syn) else float("nan"),
    }
