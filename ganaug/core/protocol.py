"""The interface every generator of rows implements: a GAN trained in torch
(:class:`ganaug.gan.synthesizer.ConditionalGAN`) and an exported one run by ONNX Runtime
(:class:`ganaug.runtime.onnx_generator.OnnxGenerator`) answer the same questions the same way,
so code above them never asks which kind it holds.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from ganaug.core.conditions import split_class_condition
from ganaug.core.labels import TARGET_COLUMN
from ganaug.core.limits import check_rows_in_memory
from ganaug.core.noise import check_n, plan_conditions
from ganaug.core.schema import Schema, split_target


@runtime_checkable
class RowGenerator(Protocol):
    """A fitted generator of table rows, conditioned on a class.

    Attributes
    ----------
    schema : Schema
        Columns, dtypes, categories and missing-value rates of the training table (regression:
        the jointly modelled target is its last column).
    classes_ : ndarray
        Class labels in condition-index order (a single ``None`` for unconditional models).
    class_counts_ : ndarray of int64
        Training rows per class (the default sampling proportions).
    task : {"classification", "regression"}
        What the generator was trained for.
    target : str, int or None
        The class column's name (classification) or the jointly modelled target column
        (regression); None when the training data did not name it.
    row_bytes : int
        Memory one sampled row takes, about (:func:`ganaug.core.limits.row_bytes`).
    """

    @property
    def schema(self) -> Schema: ...

    @property
    def classes_(self) -> np.ndarray: ...

    @property
    def class_counts_(self) -> np.ndarray: ...

    @property
    def task(self) -> str: ...

    @property
    def target(self) -> Any: ...

    @property
    def row_bytes(self) -> int: ...

    def class_index(self, labels: Any) -> np.ndarray:
        """Condition indices of class labels; an unknown label is a ValueError naming it."""
        ...

    def generate(self, conditions: Any, random_state: Any = None, *, where: Any = None) -> Any:
        """One row per entry of ``conditions`` (class indices), in the training container;
        regression models return the joint table; ``where``: column conditions."""
        ...

    def sample(self, n: int, y: Any = None, random_state: Any = None) -> tuple[Any, np.ndarray]:
        """``n`` rows and their labels (regression: the target values); the same ``(n, y, seed)``
        gives the same rows from every generator of one model."""
        ...


@runtime_checkable
class WrapsGenerator(Protocol):
    """An estimator that holds a fitted :class:`RowGenerator` (``GANAugmenter``)."""

    def fitted_generator(self) -> RowGenerator:
        """The fitted generator; a ValueError when the estimator is not fitted."""
        ...


def has_label(generator: RowGenerator) -> bool:
    """Whether sampled rows carry a class label: not for regression models (their rows hold the
    target) nor for unconditional ones (a single ``None`` class)."""
    classes = generator.classes_
    return generator.task != "regression" and not (len(classes) == 1 and classes[0] is None)


def target_column(schema: Schema) -> Any:
    """The column a regression model's joint table holds its target in (appended last)."""
    return TARGET_COLUMN if schema.container == "pandas" else schema.names[-1]


def sample_rows(
    generator: RowGenerator, n: int, y: Any = None, random_state: Any = None, conditions: Any = None
) -> tuple[Any, np.ndarray]:
    """What every ``sample`` method returns: ``n`` rows of ``generator`` and their labels.

    Parameters
    ----------
    generator : RowGenerator
        A fitted generator.
    n : int
        Number of rows (positive).
    y : label or array-like of labels, optional
        One label: all rows of that class. ``n`` labels: one row per label. None: classes in
        training proportions (exact counts by largest remainder). Must be None for regression.
    random_state : int, numpy Generator or RandomState, optional
        Seed of the noise. An int ``s`` gives row ``i`` the noise of row ``i`` of stream ``s``
        (:func:`ganaug.core.noise.noise_rows`): ``GANAugmenter.sample``, ``ConditionalGAN.sample``
        and ``OnnxGenerator.sample`` of one model give the same rows for the same ``(n, y, s)``.
        A Generator or RandomState gives one int seed drawn from it (advancing it); None a fresh
        one.

    Returns
    -------
    X : DataFrame or ndarray
        Rows in the training container and dtypes (regression: without the target column).
    y : ndarray
        Their class labels (regression: the generated target values).
    """
    n = check_rows_in_memory(check_n(n), generator.row_bytes)  # before any array of n rows
    if generator.task == "regression":
        if y is not None:
            raise ValueError("y must be None when sampling a regression model")
        joint = generator.generate(np.zeros(n, np.int64), random_state=random_state, where=conditions or None)
        return split_target(joint, target_column(generator.schema))
    y, where = split_class_condition(conditions, y, generator.target)
    plan = plan_conditions(n, y, generator.class_counts_, generator.class_index, generator.row_bytes)
    return generator.generate(plan, random_state=random_state, where=where), np.asarray(generator.classes_)[plan]
