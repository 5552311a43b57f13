"""Can a pretrained generator serve new data? (numpy and pandas only)

A generator reused on new data (``GANAugmenter(generator=...)``, ``ganaug augment --generator``)
makes rows like its training data, whatever the new data looks like. Matching columns by name
alone let two mistakes pass silently: a column given in another kind (text where the generator
made numbers: the numbers became strings when the rows were joined) and data on another scale
(multiplied by 1000: the synthetic rows stayed on the old scale). :func:`check_reuse` refuses
the first and warns about the second, naming the columns.

Kinds are compared, not exact dtypes: ``int64`` data may reuse a generator trained on
``float64`` or ``Int64`` columns. The kinds are numbers, booleans and text (strings, mixed
objects); a categorical column's kind is that of its categories. A numeric column's scale is
the spread between its 5% and 95% quantiles, and its centre its median: new data whose spread
differs by more than :data:`SCALE_FACTOR` times, or whose median moved by more than
:data:`SCALE_FACTOR` spreads, gets a :class:`~ganaug.core.errors.ScaleShiftWarning`.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from ganaug.core.errors import ScaleShiftWarning, SchemaMismatchError
from ganaug.core.schema import Column, Schema

#: a spread this many times larger or smaller, or a median this many spreads away, is a shift
SCALE_FACTOR = 10.0

Family = Literal["number", "bool", "text"]
_NAMES_SHOWN = 8
_PROBABILITIES = (0.05, 0.5, 0.95)


def _value_family(values: Any) -> Family | None:
    """The kind of a set of present values (None when there are none)."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred == "empty":
        return None
    if inferred == "boolean":
        return "bool"
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "number"
    return "text"


def _stored_family(column: Column) -> Family | None:
    if column.kind == "numeric":
        return "number"
    return _value_family([c for c in column.categories if c is not None])


def _data_family(series: pd.Series) -> Family | None:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.CategoricalDtype):
        return _value_family(series.cat.categories)
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return _value_family(series)


def _centre_spread(q: np.ndarray) -> tuple[float, float]:
    return float(q[1]), float(q[2] - q[0])


def _shift(column: Column, series: pd.Series) -> str | None:
    """How the new values' scale differs from the training data's, or None if it does not."""
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    if len(column.quantiles) >= 2:
        table = np.asarray(column.quantiles, dtype=np.float64)
        old = np.interp(_PROBABILITIES, np.linspace(0.0, 1.0, len(table)), table)
    else:  # no quantile table: the stored range
        lo, hi = float(column.minimum or 0.0), float(column.maximum or 0.0)
        old = np.array([lo, (lo + hi) / 2, hi])
    m_old, s_old = _centre_spread(old)
    m_new, s_new = _centre_spread(np.quantile(values, _PROBABILITIES))
    if s_old > 0 and s_new > 0 and not 1 / SCALE_FACTOR <= s_new / s_old <= SCALE_FACTOR:
        return f"spread x{s_new / s_old:.3g}"
    tolerance = SCALE_FACTOR * max(s_old, s_new, 1e-12 * max(1.0, abs(m_old)))
    if abs(m_new - m_old) > tolerance:
        return f"median {m_old:.4g} -> {m_new:.4g}"
    return None


def as_frame(data: Any, schema: Schema) -> pd.DataFrame:
    """``data`` as a DataFrame labelled like ``schema`` (positions for a numpy-trained one)."""
    if not isinstance(data, pd.DataFrame):
        return pd.DataFrame(np.asarray(data))
    if schema.container == "numpy":
        return data.set_axis(range(data.shape[1]), axis=1)
    return data


def check_reuse(schema: Schema, data: Any) -> None:
    """Check that new ``data`` fits a pretrained generator's ``schema``.

    Parameters
    ----------
    schema : Schema
        The schema the generator was trained on.
    data : DataFrame or array-like of shape (n_samples, n_features)
        The data the generator's rows will join (with a regression target as its last column).

    Raises
    ------
    SchemaMismatchError
        If the column names or order differ, or a column is of another kind (numbers, booleans,
        text) than in training; the message names the column.

    Warns
    -----
    ScaleShiftWarning
        If numeric columns are on another scale than in training, naming them.
    """
    frame = as_frame(data, schema)
    names = list(frame.columns)
    if names != schema.names:
        raise SchemaMismatchError(
            f"the pretrained generator was trained on columns {schema.names[:_NAMES_SHOWN]} "
            f"({len(schema.names)}), but X has {names[:_NAMES_SHOWN]} ({len(names)})"
        )
    shifted = []
    for i, column in enumerate(schema.columns):
        series = frame.iloc[:, i]
        stored, given = _stored_family(column), _data_family(series)
        if stored is not None and given is not None and stored != given:
            raise SchemaMismatchError(
                f"column {column.name!r}: the pretrained generator was trained on {stored} values "
                f"(dtype {column.dtype}) but X gives {given} values (dtype {series.dtype}); its "
                "rows would not match: convert the column, or train a generator on this data"
            )
        if column.kind == "numeric" and given == "number":
            shift = _shift(column, series)
            if shift is not None:
                shifted.append(f"{column.name!r} ({shift})")
    if shifted:
        more = f" and {len(shifted) - _NAMES_SHOWN} more" if len(shifted) > _NAMES_SHOWN else ""
        warnings.warn(
            f"X is on another scale than the pretrained generator's training data in column(s) "
            f"{', '.join(shifted[:_NAMES_SHOWN])}{more}: the synthetic rows keep the training "
            "scale; rescale X or train a generator on this data",
            ScaleShiftWarning,
            stacklevel=3,
        )
