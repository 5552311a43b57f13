"""ganaug plugin: LightGBM downstream models (``lgbm`` for classification and regression)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganaug.hookspecs import hookimpl
from ganaug.models import ModelSpec, make_pipeline

__version__ = "0.1.0"

# small and single-threaded: downstream models are refitted many times during evaluation
LGBM_PARAMS: dict[str, Any] = {"n_estimators": 100, "verbose": -1, "n_jobs": 1}


def lgbm_classifier(random_state: int | None = None) -> Any:
    """LightGBM classifier behind ganaug's mixed-table preprocessing."""
    from lightgbm import LGBMClassifier

    return make_pipeline(LGBMClassifier(random_state=random_state, **LGBM_PARAMS))


def lgbm_regressor(random_state: int | None = None) -> Any:
    """LightGBM regressor behind ganaug's mixed-table preprocessing."""
    from lightgbm import LGBMRegressor

    return make_pipeline(LGBMRegressor(random_state=random_state, **LGBM_PARAMS))


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(ModelSpec("lgbm", "classification", "LightGBM, 100 trees", lgbm_classifier))
    register(ModelSpec("lgbm", "regression", "LightGBM, 100 trees", lgbm_regressor))
