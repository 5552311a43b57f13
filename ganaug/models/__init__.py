"""Public import path for plugins and users (``from ganaug.models import ModelSpec, make_pipeline``);
defined in :mod:`ganaug.registry.models` and :mod:`ganaug.learn.preprocessing`."""

from ganaug.learn.preprocessing import (  # noqa: F401 (``_as_str_categories``: fitted pipelines)
    CATEGORICAL_DTYPES,
    _as_str_categories,
    categorical_columns,
    make_pipeline,
    make_preprocessor,
    numeric_columns,
)
from ganaug.registry.models import ModelSpec, get_model, list_models, make_model  # noqa: F401
