"""The column-typing rule: is a column categorical or numeric? (numpy and pandas only).

One rule shared by the codec (what the GAN models as one-hot), the preprocessing of the downstream
models and the realism filter (what is one-hot encoded), and the evaluation metrics (KS or TVD), so
a column is typed the same way everywhere:

* object, category, bool and string dtypes are categorical, except an object column whose present
  values are all real numbers (numpy object arrays of floats), which is numeric;
* columns the user names (``categorical_features``) are categorical whatever their dtype;
* everything else is numeric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ganaug.core.labels import to_python

#: pandas dtypes whose columns are categorical (an object column of numbers excepted)
CATEGORICAL_DTYPES: tuple[str, ...] = ("object", "category", "bool", "string")

Kind = Literal["numeric", "categorical"]


def is_categorical_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is one of :data:`CATEGORICAL_DTYPES` (object, category, bool, string)."""
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def object_is_numeric(series: pd.Series) -> bool:
    """An object column holding only real numbers (numpy object arrays of floats), no booleans."""
    values = series.dropna()
    return len(values) > 0 and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
        for v in values
    )


def is_categorical(series: pd.Series, named: bool = False) -> bool:
    """The rule: categorical dtype (an object column of numbers excepted), or ``named``.

    Parameters
    ----------
    series : pandas.Series
        The column.
    named : bool, default False
        The user named the column categorical (``categorical_features``).
    """
    if named:
        return True
    dtype = series.dtype
    if not is_categorical_dtype(dtype):
        return False
    return not (pd.api.types.is_object_dtype(dtype) and object_is_numeric(series))


def named_columns(
    frame: pd.DataFrame, categorical_features: Sequence[Any] | np.ndarray | None
) -> set[Any]:
    """The columns of ``frame`` that ``categorical_features`` names.

    ``categorical_features`` is a sequence of column labels or positions, or a boolean mask with
    one entry per column; None names none. An unknown entry is a ValueError.
    """
    if categorical_features is None:
        return set()
    cols = list(frame.columns)
    cf_arr = np.asarray(categorical_features)
    if cf_arr.dtype == bool:
        if len(cf_arr) != len(cols):
            raise ValueError(
                f"categorical_features mask has {len(cf_arr)} entries for {len(cols)} columns"
            )
        return {c for c, m in zip(cols, cf_arr) if m}
    chosen = set()
    for item in categorical_features:
        if item in cols:
            chosen.add(item)
        elif isinstance(item, (int, np.integer)) and 0 <= int(item) < len(cols):
            chosen.add(cols[int(item)])
        else:
            raise ValueError(f"categorical_features names unknown column {item!r}")
    return chosen


def column_kinds(
    *frames: pd.DataFrame, categorical_features: Sequence[Any] | np.ndarray | None = None
) -> dict[Any, Kind]:
    """``{column: "categorical" | "numeric"}`` for the columns of the first frame.

    With several frames (real and synthetic tables), a column is categorical when it is
    categorical in any of them.
    """
    named = named_columns(frames[0], categorical_features)
    return {
        col: (
            "categorical"
            if any(is_categorical(f[col], named=col in named) for f in frames)
            else "numeric"
        )
        for col in frames[0].columns
    }


def categorical_columns(frame: pd.DataFrame) -> list[Any]:
    """Labels of the categorical columns of ``frame``, in order."""
    return [c for c, k in column_kinds(frame).items() if k == "categorical"]


def numeric_columns(frame: pd.DataFrame) -> list[Any]:
    """Labels of the numeric columns of ``frame``, in order."""
    return [c for c, k in column_kinds(frame).items() if k == "numeric"]


def category_key(value: Any) -> Any:
    """The key under which a category is looked up: :func:`ganaug.core.labels.to_python`, with
    booleans kept apart from the numbers 0 and 1 (``True == 1`` in Python, so a dict or a hash
    table would merge them, and one of the two would never be generated)."""
    value = to_python(value)
    return (bool, value) if isinstance(value, bool) else value


def factorize_categories(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize`` (codes, -1 for missing; uniques in first-seen order) that keeps
    ``True`` and ``1`` (``False`` and ``0``) apart.

    Hash tables merge them, so a column holding both goes through :func:`category_key`, one
    Python call per row; pandas' type inference (in C) keeps every other column on the fast path.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mixed = pd.api.types.infer_dtype(uniques, skipna=True) in ("mixed", "mixed-integer")
    if not (mixed and any(_is_zero_or_one(u) for u in uniques)):
        return codes, uniques
    keys = np.empty(len(values), dtype=object)
    keys[:] = [category_key(v) for v in np.asarray(values, dtype=object)]
    codes, key_uniques = pd.factorize(keys, use_na_sentinel=True)
    uniques = np.empty(len(key_uniques), dtype=object)
    uniques[:] = [k[1] if isinstance(k, tuple) else k for k in key_uniques]
    return codes, uniques


def _is_zero_or_one(value: Any) -> bool:
    return isinstance(value, (bool, int, float, np.number)) and value in (0, 1)
