"""Built-in plugin: the small datasets bundled with scikit-learn (no network access)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ganaug.registry.datasets import DatasetAdapter, DatasetScheme
from ganaug.registry.hookspecs import hookimpl

# name -> (sklearn loader function, task, modality, description)
SKLEARN_DATASETS: dict[str, tuple[str, str, str, str]] = {
    "breast_cancer": (
        "load_breast_cancer",
        "classification",
        "table",
        "Breast cancer Wisconsin: 569 rows, 30 numeric features, 2 classes (212/357)",
    ),
    "wine": (
        "load_wine",
        "classification",
        "table",
        "Wine cultivars: 178 rows, 13 numeric features, 3 classes",
    ),
    "iris": (
        "load_iris",
        "classification",
        "table",
        "Iris flowers: 150 rows, 4 numeric features, 3 classes",
    ),
    "digits": (
        "load_digits",
        "classification",
        "image",
        "Handwritten digits: 1797 8x8 images flattened to 64 features, 10 classes",
    ),
    "diabetes": (
        "load_diabetes",
        "regression",
        "table",
        "Diabetes progression: 442 rows, 10 numeric features, continuous target",
    ),
}


def _load(function_name: str, modality: str) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd
    import sklearn.datasets

    load = getattr(sklearn.datasets, function_name)
    if modality == "image":
        bunch = load()
        return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)
    bunch = load(as_frame=True)
    X, y = bunch.data, bunch.target.rename("target")
    names = getattr(bunch, "target_names", None)
    if names is not None and y.dtype.kind in "iu":
        # the labels a user types (``--class malignant``), not the integer codes
        y = pd.Series(np.asarray(names, dtype=object)[y.to_numpy()], index=y.index, name="target")
    return X, y


def _adapter(name: str) -> DatasetAdapter:
    function_name, task, modality, description = SKLEARN_DATASETS[name]
    return DatasetAdapter(
        name=name,
        description=description,
        task=task,
        modality=modality,
        target="target",
        loader=partial(_load, function_name, modality),
    )


def _from_uri(name: str, target: str | None) -> DatasetAdapter:
    """Factory of the ``sklearn:NAME`` scheme."""
    if name not in SKLEARN_DATASETS:
        raise ValueError(
            f"unknown scikit-learn dataset {name!r}; available: {', '.join(SKLEARN_DATASETS)}"
        )
    return _adapter(name)


@hookimpl
def register_datasets(register: Callable[[DatasetAdapter], None]) -> None:
    for name in SKLEARN_DATASETS:
        register(_adapter(name))


@hookimpl
def register_dataset_schemes(register: Callable[[DatasetScheme], None]) -> None:
    register(
        DatasetScheme(
            name="sklearn",
            description="dataset bundled with scikit-learn: sklearn:NAME",
            factory=_from_uri,
        )
    )
