"""Table handling shared by the metrics: align real and synthetic tables, type their columns
(numeric or categorical, by the one rule of :mod:`ganaug.core.columns`), encode them for a
classifier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ganaug.learn.preprocessing import MISSING_TOKEN as _NAN_TOKEN

_MAX_ONE_HOT = 64  # categorical columns with more levels are ordinal-coded instead


# ---------------------------------------------------------------------------------------------
# table handling
# ---------------------------------------------------------------------------------------------


def _as_frame(X: Any) -> pd.DataFrame:
    """Return ``X`` as a DataFrame; object columns holding only numbers become float."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        return X.to_frame()
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D table, got an array of shape {arr.shape}")
    frame = pd.DataFrame(arr)
    for col in frame.columns:
        if frame[col].dtype == object:
            kind = pd.api.types.infer_dtype(frame[col], skipna=True)
            if kind in ("integer", "floating", "mixed-integer-float", "decimal", "empty"):
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def _align(real: Any, synthetic: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert both tables to DataFrames with the same column order, or raise ValueError."""
    r, s = _as_frame(real), _as_frame(synthetic)
    if list(r.columns) == list(s.columns):
        return r, s
    if set(r.columns) == set(s.columns) and len(r.columns) == len(s.columns):
        return r, s[list(r.columns)]
    positional = not isinstance(real, pd.DataFrame) or not isinstance(synthetic, pd.DataFrame)
    if positional and r.shape[1] == s.shape[1]:
        s = s.set_axis(r.columns, axis=1)
        return r, s
    missing = [c for c in r.columns if c not in s.columns]
    extra = [c for c in s.columns if c not in r.columns]
    raise ValueError(
        f"real and synthetic columns do not match ({r.shape[1]} vs {s.shape[1]} columns; "
        f"missing from synthetic: {missing[:10]}, unexpected in synthetic: {extra[:10]})"
    )


def _as_tokens(series: pd.Series) -> np.ndarray:
    """Categorical values as strings, missing values as a dedicated token."""
    values = series.astype(object).to_numpy()
    missing = pd.isna(values)
    out = np.array([str(v) for v in values], dtype=object)
    out[missing] = _NAN_TOKEN
    return out


def _as_float(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(series.isna().to_numpy(), np.nan, values)  # NaT is not the smallest int64


def _encode_pair(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Encode two aligned tables into float matrices with one shared encoding.

    The one preprocessing factory (:func:`ganaug.learn.preprocessing.make_preprocessor`), fitted
    on both tables together: numeric columns median-imputed (median of both tables) with a
    missing-value indicator when either table has missing values; categorical columns one-hot
    encoded over the union of categories of both tables, missing as a category of its own
    (ordinal codes above 64 levels).
    """
    from ganaug.learn.preprocessing import make_preprocessor  # sklearn, imported on use

    if real.shape[1] == 0:
        raise ValueError("tables have no columns")
    both = pd.concat([real, synthetic], ignore_index=True)
    # positional string names: scikit-learn refuses mixed names (0, 1, ..., "__label__")
    both.columns = [f"c{i}" for i in range(both.shape[1])]
    for col in both.columns:  # dates and durations are numeric (the core rule): as numbers
        if pd.api.types.is_datetime64_any_dtype(both[col]) or pd.api.types.is_timedelta64_dtype(
            both[col]
        ):
            both[col] = _as_float(both[col])
    encoder = make_preprocessor(
        missing_indicator=True, missing_category=True, max_one_hot=_MAX_ONE_HOT
    )
    Z = np.asarray(encoder.fit_transform(both), dtype=float)
    return Z[: len(real)], Z[len(real) :]


def _to_1d(y: Any) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D target, got shape {arr.shape}")
    return arr
