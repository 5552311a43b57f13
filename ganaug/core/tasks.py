"""Task inference from a target: classification or regression (numpy and pandas only).

One rule shared by the dataset adapters, the augmenter and the evaluation, so a target is read the
same way everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: the learning tasks ganaug knows
TASKS: tuple[str, ...] = ("classification", "regression")

#: a float target with at most this many distinct integer values is read as class labels
MAX_CLASSES_FOR_INFERENCE = 20


def infer_task(y: Any) -> str:
    """Guess the learning task of a target.

    Classification when ``y`` is not of a float dtype (integers, strings, booleans,
    categories) or when it is float but integer-valued with at most
    :data:`MAX_CLASSES_FOR_INFERENCE` distinct values; regression otherwise.

    Parameters
    ----------
    y : array-like or pandas.Series
        Target values.

    Returns
    -------
    {"classification", "regression"}
    """
    series = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y).ravel())
    if not pd.api.types.is_float_dtype(series.dtype):
        return "classification"
    values = series.dropna().to_numpy(dtype=float)
    integral = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))
    if integral and len(np.unique(values)) <= MAX_CLASSES_FOR_INFERENCE:
        return "classification"
    return "regression"


def looks_continuous(y: Any) -> str | None:
    """Why a numeric target read as class labels looks like a quantity, or None.

    A number column with more than :data:`MAX_CLASSES_FOR_INFERENCE` distinct values (an age, a
    price in whole units) would become one class per value; the reason names the count and how
    many of those classes hold fewer than 5 rows.

    ``y``: an array-like or Series of target values, as for :func:`infer_task`.
    """
    series = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y).ravel())
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        return None
    counts = series.value_counts()
    if len(counts) <= MAX_CLASSES_FOR_INFERENCE:
        return None
    tiny = int((counts < 5).sum())
    return f"{len(counts)} distinct numeric values ({tiny} of them in fewer than 5 rows)"
