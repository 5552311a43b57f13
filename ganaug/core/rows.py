"""Rows of a user's table as the ``(numeric, codes)`` pair the ONNX graphs read (numpy and pandas
only): the inverse of :func:`ganaug.core.schema.assemble`, for graphs that take rows as input
(the feature extractor of :mod:`ganaug.gan.critic_features`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.labels import to_python
from ganaug.core.schema import Schema


def split_rows(schema: Schema, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(numeric float32 (n, n_numeric), codes int64 (n, n_categorical))`` of the rows ``X``.

    Numeric columns keep NaN for missing values; a categorical value becomes its index in the
    column's categories (a missing value the index of the ``None`` category).

    Raises
    ------
    ValueError
        If ``X`` does not have the schema's columns, or a column holds a category (or a missing
        value) the schema has not seen; the message names the column.
    """
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
    if frame.ndim != 2 or frame.shape[1] != len(schema.columns):
        raise ValueError(
            f"X must have the {len(schema.columns)} columns the model was fitted on; got shape "
            f"{getattr(X, 'shape', None)}"
        )
    pandas = schema.container == "pandas" and isinstance(X, pd.DataFrame)
    if pandas and list(frame.columns) != schema.names:
        raise ValueError(
            f"X does not match the fitted columns: expected {schema.names[:10]}, got "
            f"{list(frame.columns)[:10]}"
        )
    n = len(frame)
    numeric = np.empty((n, len(schema.numeric_columns)), dtype=np.float32)
    codes = np.empty((n, len(schema.categorical_columns)), dtype=np.int64)
    i = j = 0
    for position, column in enumerate(schema.columns):
        series = frame.iloc[:, position]
        if column.kind == "numeric":
            try:
                numeric[:, i] = pd.to_numeric(series, errors="raise").to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
            except (TypeError, ValueError):
                raise ValueError(f"column {column.name!r} must be numeric") from None
            i += 1
            continue
        lookup = {c: k for k, c in enumerate(column.categories)}
        values, uniques = pd.factorize(series, use_na_sentinel=True)
        mapped = np.empty(len(uniques) + 1, dtype=np.int64)
        for k, value in enumerate([*uniques, None]):  # the last slot is the missing value
            key = None if k == len(uniques) else to_python(value)
            if key not in lookup:
                if key is None and not (values == -1).any():
                    mapped[k] = 0  # no missing values in this column: the slot is unused
                    continue
                raise ValueError(
                    f"column {column.name!r} has "
                    f"{'missing values' if key is None else f'category {key!r}'} unseen in fit"
                )
            mapped[k] = lookup[key]
        codes[:, j] = mapped[values]  # -1 (missing) picks the last slot
        j += 1
    return numeric, codes
