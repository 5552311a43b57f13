"""Table handling shared by the metrics: align real and synthetic tables, type their columns
(numeric or categorical, by the one rule of :mod:`ganaug.core.columns`), encode them for a
classifier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.columns import column_kinds

_NAN_TOKEN = "__ganaug_missing__"
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
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _encode_pair(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Encode two aligned tables into float matrices with one shared encoding.

    Numeric columns are median-imputed (median of both tables) and get a missing-value
    indicator when either table has missing values; categorical columns are one-hot encoded
    over the union of categories of both tables (ordinal codes above 64 levels).
    """
    kinds = column_kinds(real, synthetic)
    blocks_r: list[np.ndarray] = []
    blocks_s: list[np.ndarray] = []
    for col, kind in kinds.items():
        if kind == "numeric":
            a, b = _as_float(real[col]), _as_float(synthetic[col])
            both = np.concatenate([a, b])
            finite = both[~np.isnan(both)]
            fill = float(np.median(finite)) if finite.size else 0.0
            na_a, na_b = np.isnan(a), np.isnan(b)
            blocks_r.append(np.where(na_a, fill, a)[:, None])
            blocks_s.append(np.where(na_b, fill, b)[:, None])
            if na_a.any() or na_b.any():
                blocks_r.append(na_a[:, None].astype(float))
                blocks_s.append(na_b[:, None].astype(float))
        else:
            a, b = _as_tokens(real[col]), _as_tokens(synthetic[col])
            levels = np.unique(np.concatenate([a, b]))
            codes_a, codes_b = np.searchsorted(levels, a), np.searchsorted(levels, b)
            if len(levels) > _MAX_ONE_HOT:
                blocks_r.append(codes_a[:, None].astype(float))
                blocks_s.append(codes_b[:, None].astype(float))
            else:
                eye = np.eye(len(levels))
                blocks_r.append(eye[codes_a])
                blocks_s.append(eye[codes_b])
    if not blocks_r:
        raise ValueError("tables have no columns")
    return np.hstack(blocks_r), np.hstack(blocks_s)


def _to_1d(y: Any) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D target, got shape {arr.shape}")
    return arr
