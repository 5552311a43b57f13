"""Built-in plugin: scikit-learn downstream models with mixed-table preprocessing."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ganaug.learn.preprocessing import make_pipeline
from ganaug.registry.hookspecs import hookimpl
from ganaug.registry.models import ModelSpec

# Factories import scikit-learn lazily so that loading plugins stays cheap.


def logreg(random_state: int | None = None) -> Any:
    from sklearn.linear_model import LogisticRegression

    return make_pipeline(LogisticRegression(max_iter=1000, random_state=random_state), scale=True)


def random_forest(task: str, random_state: int | None = None) -> Any:
    from sklearn import ensemble

    classification = task == "classification"
    forest = ensemble.RandomForestClassifier if classification else ensemble.RandomForestRegressor
    return make_pipeline(forest(n_estimators=200, n_jobs=1, random_state=random_state))


def gradient_boosting(task: str, random_state: int | None = None) -> Any:
    from sklearn import ensemble

    classification = task == "classification"
    boosting = (
        ensemble.HistGradientBoostingClassifier if classification
        else ensemble.HistGradientBoostingRegressor
    )
    return make_pipeline(boosting(random_state=random_state))


def mlp_classifier(random_state: int | None = None) -> Any:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=(100,), max_iter=300, early_stopping=True, random_state=random_state
    )
    return make_pipeline(model, scale=True)


def ridge(random_state: int | None = None) -> Any:
    from sklearn.linear_model import Ridge

    return make_pipeline(Ridge(alpha=1.0), scale=True)


def mlp_regressor(random_state: int | None = None) -> Any:
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    mlp = MLPRegressor(
        hidden_layer_sizes=(100,), max_iter=300, early_stopping=True, random_state=random_state
    )
    # the network trains on a standardised target; predictions are mapped back
    return make_pipeline(
        TransformedTargetRegressor(regressor=mlp, transformer=StandardScaler()), scale=True
    )


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("logreg", "classification", "logistic regression (scaled, one-hot)", logreg),
    ModelSpec("rf", "classification", "random forest, 200 trees",
              partial(random_forest, "classification")),
    ModelSpec("hgb", "classification", "histogram gradient boosting",
              partial(gradient_boosting, "classification")),
    ModelSpec("mlp", "classification", "MLP (100 units, early stopping)", mlp_classifier),
    ModelSpec("ridge", "regression", "ridge regression (scaled, one-hot)", ridge),
    ModelSpec("rf", "regression", "random forest, 200 trees", partial(random_forest, "regression")),
    ModelSpec("hgb", "regression", "histogram gradient boosting",
              partial(gradient_boosting, "regression")),
    ModelSpec("mlp", "regression", "MLP (100 units, early stopping, scaled target)", mlp_regressor),
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    for spec in MODELS:
        register(spec)
