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

from ganaug.core.dtypes import canonical
from ganaug.core.errors import ArtifactError
from ganaug.core.labels import TARGET_COLUMN, classes_from_json, to_python
from ganaug.core.schema import Schema

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
        if not is_count(count) or count < 1:
            raise ArtifactError(
                f"{source}: field 'class_counts' gives class {label!r} {count!r} rows; counts are "
                "positive integers"
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
