"""Class labels: one set of helpers for every layer (numpy and pandas only).

Class labels travel as JSON in artifacts and ONNX metadata, are looked up as condition indices by
the torch model, the ONNX generator and the sampler, and come in as strings from the command line
and the HTTP server. These helpers do each of those in one way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

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
    """Inverse of :func:`classes_to_json`: labels back in their original dtype where possible."""
    classes = np.array(meta["classes"], dtype=object)
    try:
        return classes.astype(meta["class_dtype"])
    except (TypeError, ValueError):
        return classes


def class_lookup(classes: Sequence[Any] | np.ndarray) -> dict[Any, int]:
    """``{label: condition index}`` keyed by :func:`to_python` (build once, pass to
    :func:`class_index`)."""
    return {to_python(c): i for i, c in enumerate(classes)}


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
        try:
            out[i] = lookup[to_python(label)]
        except (KeyError, TypeError):
            known = [to_python(c) for c in classes]
            raise ValueError(f"unknown class {label!r}: this generator knows {known}") from None
    return out


def parse_label(
    label: Any, classes: Sequence[Any] | np.ndarray, lookup: dict[Any, int] | None = None
) -> int:
    """The condition index of a label typed by a person (command line, URL, form, JSON).

    The label itself first; then, for a string, the one class whose text it is (``"1"`` for a
    class ``1``: typed labels are often strings). An unknown or ambiguous label is a ValueError.
    """
    try:
        return int(class_index([label], classes, lookup)[0])
    except ValueError:
        pass
    if isinstance(label, str):
        matches = [i for i, c in enumerate(classes) if str(to_python(c)) == label]
        if len(matches) == 1:
            return matches[0]
    known = [to_python(c) for c in classes]
    raise ValueError(f"unknown class {label!r}: this generator knows {known}")
