"""Unlabeled rows in ``y``: scikit-learn's semi-supervised convention, checked once for every
ganaug estimator that accepts them (``GANAugmenter``, ``DiscriminatorClassifier``).

A row is unlabeled when its label equals ``unlabeled_value``: ``-1`` by default, as for
``SelfTrainingClassifier`` and ``LabelSpreading``; any other value for string labels (``"?"``,
``""``), or ``NaN`` / ``None`` for missing labels; ``None`` turns the convention off. Labels are
compared as :func:`ganaug.core.labels.to_python` compares them (``-1``, ``np.int64(-1)`` and
``-1.0`` are one label; the string ``"-1"`` is another).

A marker that is also a real label cannot always be told apart from the data. The rules: when
the default ``-1`` would leave a single labeled class, ``-1`` is a class (labels -1/+1, the other
common binary convention, which scikit-learn's own checks use) and no row is unlabeled; any
other marker that leaves a single class is refused with :class:`LabelError`, as is a marker that
is one of a pretrained generator's classes. Labels such as -1/0/1 with the default marker are
read as two classes plus unlabeled rows: pass ``unlabeled_value=None`` there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.errors import LabelError
from ganaug.core.labels import to_python

#: scikit-learn's marker of an unlabeled row
DEFAULT_MARKER = -1


def unlabeled_rows(y: Any, unlabeled_value: Any) -> np.ndarray:
    """Boolean mask of the rows of 1-D ``y`` whose label is ``unlabeled_value``.

    ``None`` marks nothing (the convention is off); ``NaN`` or ``pd.NA`` marks missing labels.
    The default ``-1`` marks nothing when the other rows have a single class (labels -1/+1).
    """
    labels = pd.Series(np.asarray(y), dtype=object)
    if unlabeled_value is None:
        return np.zeros(len(labels), dtype=bool)
    marker = to_python(unlabeled_value)
    if marker is None:
        return labels.isna().to_numpy()
    values = labels.unique()
    marked = [v for v in values if _same(to_python(v), marker)]
    if _same(marker, DEFAULT_MARKER) and len(values) - len(marked) == 1:
        return np.zeros(len(labels), dtype=bool)  # -1/+1 labels: -1 is a class
    return labels.isin(marked).to_numpy()


def _same(a: Any, b: Any) -> bool:
    # a string never equals a number, nor a bool a number (True == 1 in Python)
    if isinstance(a, str) != isinstance(b, str) or isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def check_semi_labels(y: np.ndarray, unlabeled: np.ndarray, unlabeled_value: Any) -> None:
    """Refuse labels that semi-supervised fitting cannot use, with a :class:`LabelError`.

    ``y`` holds every row's label, ``unlabeled`` marks the unlabeled rows. Refused: no labeled
    row at all; a marker that leaves a single labeled class (it is then a real label); a class
    with a single labeled row.
    """
    if not unlabeled.any():
        return
    n = len(y)
    labeled = y[~unlabeled]
    if len(labeled) == 0:
        raise LabelError(
            f"y has no labeled rows: all {n} labels are the unlabeled marker {unlabeled_value!r}; "
            "at least 2 labeled rows per class are needed"
        )
    classes, counts = np.unique(labeled, return_counts=True)
    if len(classes) < 2:
        raise LabelError(
            f"the marker {unlabeled_value!r} leaves a single labeled class "
            f"({to_python(classes[0])!r}; {int(unlabeled.sum())} rows unlabeled): at least 2 "
            f"classes are needed. If {unlabeled_value!r} is a real label, pass another "
            "unlabeled_value (or None)"
        )
    few = [to_python(c) for c, k in zip(classes, counts) if k < 2]
    if few:
        raise LabelError(
            f"class {few[0]!r} has a single labeled row (y also has {int(unlabeled.sum())} "
            "unlabeled rows): semi-supervised fitting needs at least 2 labeled rows per class"
        )


def check_marker_not_a_class(unlabeled_value: Any, classes: Any, source: str) -> None:
    """A :class:`LabelError` if the marker is one of ``classes`` (those of ``source``)."""
    if unlabeled_value is None:
        return
    marker = to_python(unlabeled_value)
    if any(_same(to_python(c), marker) for c in np.asarray(classes, dtype=object)):
        raise LabelError(
            f"the unlabeled marker {unlabeled_value!r} is also a class of {source}: pass another "
            "unlabeled_value (or None)"
        )
