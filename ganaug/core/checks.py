"""Cross-checks of a stored model description (an artifact's ``ganaug.json``), numpy/pandas only.

Only the weights of an artifact are checksummed; its JSON description can be edited by hand or
damaged, and every field of it is used at sampling time. These checks run at load, so an edited
field is refused with an :class:`~ganaug.core.errors.ArtifactError` that names the file and the
field, instead of an ``IndexError`` at sample, a silently dropped class, or an export that the
runtime refuses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganaug.core.dtypes import canonical, pandas_dtype
from ganaug.core.errors import ArtifactError
from ganaug.core.labels import TARGET_COLUMN, classes_from_json, to_python
from ganaug.core.limits import MAX_ROWS
from ganaug.core.schema import KNOT_SAMPLE_ROWS, MAX_KNOTS, ROWS_PER_KNOT, Schema

TASKS = ("classification", "regression")


def is_number(value: Any) -> bool:
    """Whether a JSON value is a number (a bool is not)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def is_count(value: Any) -> bool:
    """Whether a JSON value is an integer (a bool is not)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_schema(schema: Schema, source: str) -> None:
    """Check a stored schema's columns field by field.

    Parameters
    ----------
    schema : Schema
        As read back with :meth:`Schema.from_dict`.
    source : str
        The file it came from, for messages.

    Raises
    ------
    ArtifactError
        Naming the file, the column and the field.
    """
    if schema.container not in ("pandas", "numpy"):
        raise ArtifactError(
            f"{source}: field 'schema.container' must be 'pandas' or 'numpy'; got {schema.container!r}"
        )
    if not isinstance(schema.columns, list) or not schema.columns:
        raise ArtifactError(f"{source}: field 'schema.columns' must list at least one column")
    names = [c.name for c in schema.columns]
    for name in names:
        if isinstance(name, bool) or not isinstance(name, (str, int)):
            raise ArtifactError(
                f"{source}: field 'schema.columns' has a column name {name!r} that is neither a "
                "string nor an integer"
            )
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ArtifactError(f"{source}: field 'schema.columns' names column {dup!r} twice")
    if schema.container == "numpy":
        if names != list(range(len(names))):
            raise ArtifactError(
                f"{source}: field 'schema.columns' of a numpy table must be named 0..{len(names) - 1}"
            )
        _check_dtype(schema.numpy_dtype, f"{source}: field 'schema.numpy_dtype'", numpy=True)
    for column in schema.columns:
        _check_column(column, f"{source}: column {column.name!r}")


def _check_dtype(dtype: Any, where: str, numpy: bool = False) -> None:
    """A column's dtype is one of ganaug's names; a numpy table's (``numpy``) is numpy's own."""
    try:
        if not isinstance(dtype, str):
            raise TypeError(f"not a string: {dtype!r}")
        if numpy:
            np.dtype(dtype)
        else:
            canonical(dtype)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"{where} is not a known dtype ({exc})") from None


def _check_column(column: Any, where: str) -> None:
    if column.kind not in ("numeric", "categorical"):
        raise ArtifactError(f"{where}: field 'kind' must be 'numeric' or 'categorical'; got {column.kind!r}")
    _check_dtype(column.dtype, f"{where}: field 'dtype'")
    rate = column.missing_rate
    if not is_number(rate) or not 0.0 <= rate < 1.0:
        raise ArtifactError(f"{where}: field 'missing_rate' must be a number in [0, 1); got {rate!r}")
    if column.kind == "numeric":
        _check_numeric(column, where)
    else:
        _check_categorical(column, where)


def _value_dtype(name: str) -> np.dtype | None:
    """The numpy dtype a column's values take under dtype ``name`` (a sparse or nullable dtype's
    own), or None for object, category and text dtypes, which hold anything."""
    if name in ("category", "object"):
        return None
    dtype = pandas_dtype(name)
    dtype = getattr(dtype, "subtype", dtype)  # a sparse dtype's values
    dtype = getattr(dtype, "numpy_dtype", dtype)  # a nullable dtype's values
    return dtype if isinstance(dtype, np.dtype) and dtype.kind in "biuf" else None


def _integer_range(dtype: np.dtype) -> tuple[int, int] | None:
    return (int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)) if dtype.kind in "iu" else None


def _check_numeric_dtype(column: Any, where: str) -> None:
    """A numeric column's dtype must be able to hold its values: a number dtype (or object),
    an integer one only for integer values inside its range."""
    values = _value_dtype(column.dtype)
    if values is None and column.dtype != "object":
        raise ArtifactError(
            f"{where}: field 'dtype' is {column.dtype!r}, which cannot hold the numbers of a "
            "numeric column"
        )
    if values is not None and values.kind == "b":
        raise ArtifactError(
            f"{where}: field 'dtype' is {column.dtype!r} but the column is numeric (its quantile "
            f"table runs from {column.minimum} to {column.maximum}); boolean columns are categorical"
        )
    bounds = _integer_range(values) if values is not None else None
    if bounds is not None and not column.integer:
        raise ArtifactError(
            f"{where}: field 'dtype' is {column.dtype!r}, an integer dtype, but field 'integer' is "
            "false (the column holds fractions)"
        )
    if bounds is not None and not bounds[0] <= column.minimum <= column.maximum <= bounds[1]:
        raise ArtifactError(
            f"{where}: field 'dtype' is {column.dtype!r}, whose range [{bounds[0]}, {bounds[1]}] "
            f"does not hold the column's range [{column.minimum}, {column.maximum}]"
        )


def _check_category_dtype(column: Any, where: str) -> None:
    """A categorical column's levels must be values of its dtype."""
    values = _value_dtype(column.dtype)
    if values is None:
        fits = (lambda c: isinstance(c, str)) if column.dtype in ("str", "string") else None
    elif values.kind == "b":
        fits = lambda c: isinstance(c, bool)
    elif values.kind in "iu":
        low, high = _integer_range(values)  # type: ignore[misc]
        fits = lambda c: is_number(c) and float(c).is_integer() and low <= c <= high
    else:
        fits = is_number
    bad = [c for c in column.categories if c is not None and fits is not None and not fits(c)]
    if bad:
        raise ArtifactError(
            f"{where}: field 'dtype' is {column.dtype!r} but field 'categories' holds "
            f"{bad[0]!r}{f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''}, which is not "
            "a value of that dtype"
        )


def check_knots(schema: Schema, class_counts: Any, source: str) -> None:
    """A numeric column's quantile table has as many knots as its training rows give it.

    The codec builds ``max(2, min(MAX_KNOTS, n // ROWS_PER_KNOT))`` knots from the ``n``
    observed values of a column (of a sample of at most :data:`KNOT_SAMPLE_ROWS` rows for a
    streamed table); the class counts (labeled rows) and the missing rate bound ``n`` from below,
    so a table cut after training (its outermost knots kept) is refused, naming the column.
    """
    rows = min(int(sum(class_counts)), KNOT_SAMPLE_ROWS)
    for column in schema.numeric_columns:
        observed = int(0.9 * rows * (1.0 - column.missing_rate))  # 10% slack for rounding
        expected = max(2, min(MAX_KNOTS, observed // ROWS_PER_KNOT))
        if len(column.quantiles) < expected:
            raise ArtifactError(
                f"{source}: column {column.name!r}: field 'quantiles' has {len(column.quantiles)} "
                f"knots, but the {sum(class_counts)} training rows (field 'class_counts') give a "
                f"table of at least {expected}: the table was cut"
            )


def _check_numeric(column: Any, where: str) -> None:
    if not isinstance(column.integer, bool):
        raise ArtifactError(f"{where}: field 'integer' must be true or false; got {column.integer!r}")
    for field in ("minimum", "maximum"):
        value = getattr(column, field)
        if not is_number(value) or not np.isfinite(value):
            raise ArtifactError(f"{where}: field {field!r} must be a finite number; got {value!r}")
    if column.minimum > column.maximum:
        raise ArtifactError(
            f"{where}: field 'minimum' ({column.minimum}) is above 'maximum' ({column.maximum})"
        )
    q = column.quantiles
    if not isinstance(q, list) or len(q) < 2:
        got = len(q) if isinstance(q, list) else repr(q)
        raise ArtifactError(f"{where}: field 'quantiles' must list at least 2 values; got {got}")
    if not all(is_number(v) for v in q) or not np.isfinite(np.asarray(q, dtype=np.float64)).all():
        raise ArtifactError(f"{where}: field 'quantiles' must hold finite numbers only")
    steps = np.diff(np.asarray(q, dtype=np.float64))
    if (steps < 0).any():
        i = int(np.argmax(steps < 0)) + 1
        raise ArtifactError(
            f"{where}: field 'quantiles' must be non-decreasing; value {i} ({q[i]}) is below "
            f"value {i - 1} ({q[i - 1]})"
        )
    if column.categories:
        raise ArtifactError(f"{where}: field 'categories' must be empty for a numeric column")
    _check_numeric_dtype(column, where)


def _check_labels(labels: Any, where: str, field: str) -> None:
    """A non-empty list of JSON scalars (labels of classes or categories; null: missing)."""
    if not isinstance(labels, list) or not labels:
        raise ArtifactError(f"{where}: field {field!r} must be a non-empty list; got {labels!r}")
    for label in labels:
        if label is not None and not isinstance(label, (str, int, float, bool)):
            raise ArtifactError(
                f"{where}: field {field!r} holds {label!r} of type {type(label).__name__}; labels "
                "are strings, numbers or booleans"
            )


def _check_categorical(column: Any, where: str) -> None:
    cats = column.categories
    _check_labels(cats, where, "categories")
    # True and 1 are different categories (1 and 1.0 are one value, as in pandas)
    keys = [(isinstance(c, bool), c) for c in cats]
    if len(set(keys)) != len(keys):
        dup = next(c for c, k in zip(cats, keys) if keys.count(k) > 1)
        raise ArtifactError(f"{where}: field 'categories' lists {dup!r} twice")
    if None in cats[:-1]:
        raise ArtifactError(f"{where}: field 'categories' may hold null (missing) only last")
    if (cats[-1] is None) != (column.missing_rate > 0):
        raise ArtifactError(
            f"{where}: field 'categories' {'has' if cats[-1] is None else 'lacks'} a null "
            f"(missing) level but 'missing_rate' is {column.missing_rate}"
        )
    _check_category_dtype(column, where)


def read_classes(meta: dict[str, Any], source: str) -> np.ndarray:
    """The class labels of a stored description, after checking them and their counts.

    Parameters
    ----------
    meta : dict
        A description with ``classes``, ``class_dtype`` (see
        :func:`~ganaug.core.labels.classes_to_json`) and ``class_counts``.
    source : str
        The file it came from, for messages.

    Returns
    -------
    ndarray
        The labels in their stored dtype.

    Raises
    ------
    ArtifactError
        Naming the file and the field.
    """
    raw, counts = meta.get("classes"), meta.get("class_counts")
    _check_labels(raw, source, "classes")
    if None in raw and len(raw) > 1:
        raise ArtifactError(
            f"{source}: field 'classes' holds null (an unconditional model) beside other classes"
        )
    dtype = meta.get("class_dtype")
    try:
        if not isinstance(dtype, str):
            raise TypeError(f"not a string: {dtype!r}")
        np.dtype(dtype)
        classes = classes_from_json(meta)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(
            f"{source}: field 'class_dtype' cannot hold the classes {raw[:10]} ({exc})"
        ) from None
    keys = [to_python(c) for c in classes]
    for before, after in zip(raw, keys):
        if after != before or isinstance(after, bool) != isinstance(before, bool):
            raise ArtifactError(f"{source}: field 'class_dtype' turns class {before!r} into {after!r}")
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ArtifactError(
            f"{source}: field 'classes' lists {dup!r} twice (a class would never be sampled)"
        )
    if not isinstance(counts, list) or len(counts) != len(raw):
        got = f"{len(counts)} entries" if isinstance(counts, list) else repr(counts)
        raise ArtifactError(
            f"{source}: field 'class_counts' must have one count per class ({len(raw)}); got {got}"
        )
    for label, count in zip(keys, counts):
        if not is_count(count) or not 1 <= count <= MAX_ROWS:
            raise ArtifactError(
                f"{source}: field 'class_counts' gives class {label!r} {count!r} rows; counts are "
                f"positive integers of at most {MAX_ROWS:,}"
            )
    return classes


def check_task(task: Any, classes: np.ndarray, schema: Schema, source: str, field: str = "task") -> None:
    """Check that a stored task agrees with the classes and the schema.

    A regression model is unconditional (its one class is null) and models its target as the
    table's last column, which is numeric.

    Raises
    ------
    ArtifactError
        Naming the file and the field.
    """
    if task not in TASKS:
        raise ArtifactError(f"{source}: field {field!r} must be one of {list(TASKS)}; got {task!r}")
    if task != "regression":
        return
    keys = [to_python(c) for c in classes]
    if keys != [None]:
        raise ArtifactError(
            f"{source}: field {field!r} is 'regression' but the model is conditioned on classes "
            f"{keys[:10]}: it is a classifier"
        )
    last = schema.columns[-1]
    if last.kind != "numeric" or (schema.container == "pandas" and last.name != TARGET_COLUMN):
        raise ArtifactError(
            f"{source}: field {field!r} is 'regression' but the last column {last.name!r} is not a "
            f"modelled target (a numeric column{' named ' + TARGET_COLUMN if schema.container == 'pandas' else ''})"
        )
