"""Class labels: one set of helpers for every layer (numpy and pandas only).

Class labels travel as JSON in artifacts and ONNX metadata, are looked up as condition indices by
the torch model, the ONNX generator and the sampler, and come in as strings from the command line
and the HTTP server. These helpers do each of those in one way.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.errors import ArtifactError, DataError, LabelError

#: column name of a regression target modelled jointly with the features (DataFrame input)
TARGET_COLUMN = "__target__"


def to_python(value: Any) -> Any:
    """A plain, hashable Python scalar: numpy scalars unwrapped, missing values (None, NaN, NA) to
    None. The key under which labels and categories are compared."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def classes_to_json(classes: np.ndarray) -> dict[str, Any]:
    """Class labels as JSON (``classes`` and ``class_dtype``), for artifacts and ONNX metadata."""
    values = [c.item() if isinstance(c, np.generic) else c for c in classes]
    return {"classes": values, "class_dtype": str(np.asarray(classes).dtype)}


def classes_from_json(meta: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`classes_to_json`: the labels back in their original dtype.

    Raises
    ------
    ArtifactError
        If ``class_dtype`` is no numpy dtype, or the labels cannot be held in it (the file was
        edited or damaged).
    """
    classes = np.array(meta["classes"], dtype=object)
    if classes.ndim != 1:
        raise ArtifactError(f"classes must be a list of labels; got {meta['classes']!r}")
    try:
        dtype = np.dtype(meta["class_dtype"])
    except TypeError:
        raise ArtifactError(f"class_dtype {meta['class_dtype']!r} is not a numpy dtype") from None
    if dtype.kind in "biuf" and not all(
        isinstance(c, (int, float)) and (dtype.kind == "f" or float(c).is_integer()) for c in classes
    ):  # numpy would parse strings or truncate fractions: refuse instead
        raise ArtifactError(f"classes {meta['classes']!r} are not all of class_dtype {dtype}")
    try:
        return classes.astype(dtype)
    except (OverflowError, TypeError, ValueError) as exc:
        raise ArtifactError(f"classes {meta['classes']!r} do not fit class_dtype {dtype}: {exc}") from None


def check_labels_present(y: Any, what: str = "class label") -> None:
    """Every row must have its ``what``: a missing one (None, NaN, NA) is a DataError that says
    how many are missing and where (the first positions), before anything tries to sort them."""
    missing = np.flatnonzero(pd.isna(pd.Series(np.asarray(y, dtype=object).ravel())).to_numpy())
    if len(missing):
        where = ", ".join(str(i) for i in missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise DataError(
            f"y has {len(missing)} missing {what}(s) (None or NaN) at position(s) {where}: every "
            f"row needs a {what}; drop those rows or give them one"
        )


def check_several_classes(classes: Sequence[Any] | np.ndarray, source: str = "y") -> None:
    """A :class:`LabelError` unless ``classes`` (the distinct labels) holds at least two.

    The one check of every entry point that decides how many rows each class gets (the
    sampler, ``ganaug pretrain`` and ``augment``, the torchrun job): with a single class there
    is nothing to balance, and a one-class model would sample that class only.
    """
    if len(classes) < 2:
        found = f"a single class ({to_python(classes[0])!r})" if len(classes) else "no class"
        raise LabelError(
            f"{source} has {found}: at least 2 classes are needed to decide how many rows to add"
        )


def class_lookup(classes: Sequence[Any] | np.ndarray) -> dict[Any, int]:
    """``{label: condition index}`` keyed by :func:`to_python` (build once, pass to
    :func:`class_index`)."""
    return {to_python(c): i for i, c in enumerate(classes)}


def find_label(
    label: Any, classes: Sequence[Any] | np.ndarray, lookup: dict[Any, int] | None = None
) -> int | None:
    """The condition index of ``label`` (see :func:`class_index`), or None if it is no class."""
    if lookup is None:
        lookup = class_lookup(classes)
    key = to_python(label)
    if not isinstance(key, Hashable):
        return None
    return lookup.get(key)


def _unknown(label: Any, classes: Sequence[Any] | np.ndarray) -> ValueError:
    known = [to_python(c) for c in classes]
    return ValueError(f"unknown class {label!r}: this generator knows {known}")


def class_index(
    labels: Any, classes: Sequence[Any] | np.ndarray, lookup: dict[Any, int] | None = None
) -> np.ndarray:
    """Map class labels to condition indices (positions in ``classes``).

    ``np.int64(1)``, ``1`` and ``1.0`` are the same label. An unknown label is a ValueError that
    names it and the known classes.
    """
    labels = np.atleast_1d(np.asarray(labels, dtype=object))
    if lookup is None:
        lookup = class_lookup(classes)
    out = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        index = find_label(label, classes, lookup)
        if index is None:
            raise _unknown(label, classes)
        out[i] = index
    return out


def find_typed_label(
    label: Any, classes: Sequence[Any] | np.ndarray, lookup: dict[Any, int] | None = None
) -> int | None:
    """The condition index of a label typed by a person (command line, URL, form, JSON), or None.

    The label itself first; then, for a string, the one class whose text it is (``"1"`` for a
    class ``1``: typed labels are often strings). None when it is unknown or ambiguous.
    """
    index = find_label(label, classes, lookup)
    if index is None and isinstance(label, str):
        matches = [i for i, c in enumerate(classes) if str(to_python(c)) == label]
        if len(matches) == 1:
            index = matches[0]
    return index


def parse_label(
    label: Any, classes: Sequence[Any] | np.ndarray, lookup: dict[Any, int] | None = None
) -> int:
    """:func:`find_typed_label`, with a ValueError naming the label and the known classes."""
    index = find_typed_label(label, classes, lookup)
    if index is None:
        raise _unknown(label, classes)
    return index


def check_target_present(y: Any, target: str, source: str) -> None:
    """A DataError naming the column if ``y`` has missing values (empty cells)."""
    missing = int(pd.isna(pd.Series(y, copy=False)).sum())
    if missing:
        raise DataError(
            f"target column {target!r} in {source} has {missing} missing values: drop those rows, "
            "or (ganaug augment) pass --unlabeled-value nan to use them as unlabeled rows"
        )
