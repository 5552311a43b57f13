"""Public import path for plugins and users (``from ganaug.datasets import DatasetAdapter``);
defined in :mod:`ganaug.registry.datasets`."""

from ganaug.core.tasks import MAX_CLASSES_FOR_INFERENCE, TASKS, infer_task  # noqa: F401
from ganaug.registry.datasets import (  # noqa: F401
    MODALITIES,
    DatasetAdapter,
    DatasetFileNotFoundError,
    DatasetScheme,
    get_dataset,
    list_dataset_schemes,
    list_datasets,
)
