"""Oversampling baselines the augmenter is compared with: random oversampling and
SMOTE / SMOTENC / SMOTEN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.columns import column_kinds
from ganaug.core.errors import MethodSkipped
from ganaug.evaluation.frames import (
    _NAN_TOKEN,
    _as_float,
    _as_frame,
    _as_tokens,
    _to_1d,
)

# --- oversampling baselines ------------------------------------------------------------------


def _concat_rows(X: Any, y: Any, X_new: pd.DataFrame, y_new: np.ndarray) -> tuple[Any, Any]:
    """Original rows first, then new ones, in the input's container types."""
    if isinstance(X, pd.DataFrame):
        X_out = pd.concat([X, X_new.set_axis(X.columns, axis=1)], ignore_index=True)
    else:
        arr = np.asarray(X)
        new = X_new.to_numpy()
        if arr.ndim == 1:
            new = new.ravel()
        X_out = np.concatenate([arr, new.astype(arr.dtype, copy=False)])
    if isinstance(y, pd.Series):
        y_out = pd.concat([y, pd.Series(y_new, name=y.name).astype(y.dtype)], ignore_index=True)
    else:
        y_arr = np.asarray(y)
        y_out = np.concatenate([y_arr.reshape(-1) if y_arr.ndim > 1 else y_arr, y_new])
    return X_out, y_out


def _smote_new_rows(
    frame: pd.DataFrame,
    y: np.ndarray,
    sampling_strategy: Any,
    k_neighbors: int,
    random_state: int | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic rows from SMOTE / SMOTENC / SMOTEN, in ``frame``'s dtypes."""
    from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC
    from imblearn.utils import check_sampling_strategy

    targets = check_sampling_strategy(sampling_strategy, y, "over-sampling")
    grow = [c for c, n in targets.items() if n > 0]
    if not grow:
        return frame.iloc[:0], y[:0]
    counts = pd.Series(y).value_counts()
    smallest = int(min(counts[c] for c in grow))
    if smallest < 2:
        raise MethodSkipped(
            f"SMOTE needs at least 2 rows per oversampled class; the smallest has {smallest}"
        )
    k = min(int(k_neighbors), smallest - 1)

    kinds = column_kinds(frame)
    cat_pos = [i for i, c in enumerate(frame.columns) if kinds[c] == "categorical"]
    # work on a copy: numerics median-imputed, categoricals as strings (missing = token)
    work = pd.DataFrame(index=range(len(frame)))
    back: dict[Any, dict[str, Any]] = {}
    for col in frame.columns:
        if kinds[col] == "numeric":
            vals = _as_float(frame[col])
            finite = vals[~np.isnan(vals)]
            work[col] = np.where(np.isnan(vals), np.median(finite) if finite.size else 0.0, vals)
        else:
            tokens = _as_tokens(frame[col])
            back[col] = {t: v for t, v in zip(tokens, frame[col].astype(object), strict=True)}
            back[col][_NAN_TOKEN] = np.nan
            work[col] = pd.Series(tokens, dtype=object)
    work.columns = range(work.shape[1])  # imblearn-friendly column labels

    if not cat_pos:
        sampler: Any = SMOTE(
            sampling_strategy=sampling_strategy, k_neighbors=k, random_state=random_state
        )
    elif len(cat_pos) == frame.shape[1]:
        sampler = SMOTEN(
            sampling_strategy=sampling_strategy, k_neighbors=k, random_state=random_state
        )
    else:
        sampler = SMOTENC(
            categorical_features=cat_pos,
            sampling_strategy=sampling_strategy,
            k_neighbors=k,
            random_state=random_state,
        )
    X_res, y_res = sampler.fit_resample(work, y)
    new = pd.DataFrame(np.asarray(X_res, dtype=object)[len(frame) :], columns=frame.columns)
    for col in frame.columns:
        dtype = frame[col].dtype
        if kinds[col] == "categorical":
            new[col] = new[col].map(lambda t, m=back[col]: m.get(str(t), np.nan))
            if not new[col].isna().any() or not pd.api.types.is_bool_dtype(dtype):
                new[col] = new[col].astype(dtype)
        else:
            vals = new[col].astype(float)
            if pd.api.types.is_integer_dtype(dtype):
                vals = vals.round()
            new[col] = vals.astype(dtype)
    return new, np.asarray(y_res)[len(frame) :]


def oversample(
    X: Any,
    y: Any,
    method: str,
    *,
    sampling_strategy: Any = "auto",
    k_neighbors: int = 5,
    random_state: int | None = 0,
) -> tuple[Any, Any]:
    """Oversample a classification training set with a classical baseline.

    Parameters
    ----------
    X : array-like or pandas.DataFrame
        Training features; mixed numeric / categorical columns and missing values allowed.
    y : array-like
        Class labels.
    method : {"none", "random", "smote"}
        ``"random"``: :class:`imblearn.over_sampling.RandomOverSampler` (duplicates rows).
        ``"smote"``: SMOTE for all-numeric tables, SMOTENC for mixed tables (categorical
        columns passed by position), SMOTEN for all-categorical tables.  ``k_neighbors`` is
        lowered to ``smallest oversampled class count - 1``; missing numerics are
        median-imputed (missing categoricals kept as a category) only to generate the new rows,
        the original rows are returned unchanged.
    sampling_strategy : str, float or dict, default="auto"
        As in imbalanced-learn (a dict gives the target count per class).
    k_neighbors : int, default=5
    random_state : int or None, default=0

    Returns
    -------
    X_res, y_res
        Original rows first, then the new rows; same container types as the input
        (a DataFrame comes back with a fresh RangeIndex).

    Raises
    ------
    MethodSkipped
        If SMOTE cannot be applied (an oversampled class has a single row).
    ValueError
        For an unknown method.
    """
    from imblearn.over_sampling import RandomOverSampler

    y_arr = _to_1d(y)
    if len(y_arr) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y_arr)} labels")
    if method == "none":
        return X, y
    if method == "random":
        ros = RandomOverSampler(sampling_strategy=sampling_strategy, random_state=random_state)
        idx, y_res = ros.fit_resample(np.arange(len(y_arr)).reshape(-1, 1), y_arr)
        idx = np.asarray(idx).ravel()[len(y_arr) :]
        frame = _as_frame(X)
        return _concat_rows(
            X, y, frame.iloc[idx].reset_index(drop=True), np.asarray(y_res)[len(y_arr) :]
        )
    if method == "smote":
        frame = _as_frame(X)
        new, y_new = _smote_new_rows(frame, y_arr, sampling_strategy, k_neighbors, random_state)
        return _concat_rows(X, y, new, y_new)
    raise ValueError(f"unknown oversampling method {method!r}; expected none, random or smote")
