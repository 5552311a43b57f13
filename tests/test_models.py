"""Downstream model factories and their mixed-table preprocessing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ganaug.learn.preprocessing import make_preprocessor
from ganaug.registry.datasets import get_dataset
from ganaug.registry.models import ModelSpec, get_model, list_models, make_model

BUILTIN = {
    "classification": ["logreg", "rf", "hgb", "mlp"],
    "regression": ["ridge", "rf", "hgb", "mlp"],
}
PLUGIN = "ganaug.default_plugins.sklearn_models"


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    """Mixed dtypes with missing values everywhere."""
    rng = np.random.default_rng(0)
    n = 120

    def holes(values) -> np.ndarray:
        out = np.asarray(values, dtype=object)
        out[rng.random(n) < 0.1] = None
        return out

    frame = pd.DataFrame(
        {
            "num": pd.Series(holes(rng.normal(size=n)), dtype=float),
            "int": pd.array(holes(rng.integers(0, 5, n)), dtype="Int64"),
            "obj": pd.Series(holes(rng.choice(["a", "b", "c"], n)), dtype=object),
            "cat": pd.Categorical(holes(rng.choice(["u", "v"], n))),
            "flag": rng.random(n) > 0.5,
            "text": pd.Series(holes(rng.choice(["p", "q"], n)), dtype="str"),
        }
    )
    frame.loc[0, "obj"] = 7  # mixed types in an object column
    return frame


@pytest.fixture(scope="module")
def breast_cancer():
    return get_dataset("breast_cancer").load()


@pytest.fixture(scope="module")
def diabetes():
    return get_dataset("diabetes").load()


def test_builtin_models_listed_first() -> None:
    for task, names in BUILTIN.items():
        specs = list_models(task)
        assert [s.name for s in specs[: len(names)]] == names
        assert all(s.plugin == PLUGIN and s.task == task and s.description for s in specs[:4])


def _small(model: Pipeline) -> Pipeline:
    """Fewer trees for the extra fits, to keep the suite fast."""
    if "model__n_estimators" in model.get_params():
        model.set_params(model__n_estimators=10)
    return model


@pytest.mark.parametrize(("name", "task"), [(n, t) for t, names in BUILTIN.items() for n in names])
def test_model_fits_and_predicts(name, task, mixed, breast_cancer, diabetes) -> None:
    model = make_model(name, task, random_state=0)
    assert isinstance(model, Pipeline)
    assert [step for step, _ in model.steps] == ["preprocess", "model"]
    X, y = breast_cancer if task == "classification" else diabetes
    score = model.fit(X, y).score(X, y)
    assert score > (0.9 if task == "classification" else 0.3)
    # numpy input: every column numeric
    array_model = _small(clone(model)).fit(X.to_numpy(), y.to_numpy())
    assert array_model.predict(X.to_numpy()[:3]).shape == (3,)
    # mixed DataFrame with NaN and categoricals, unseen category at predict time
    target = (mixed["num"].fillna(0) > 0).astype(int)
    if task == "regression":
        target = mixed["num"].fillna(0) * 2.0
    fitted = _small(make_model(name, task, random_state=0)).fit(mixed, target)
    unseen = mixed.iloc[:5].assign(obj="zzz")
    predictions = fitted.predict(unseen)
    assert predictions.shape == (5,) and np.all(np.isfinite(predictions.astype(float)))


def test_preprocessor_one_hot_and_scaling(mixed) -> None:
    out = make_preprocessor(scale=True).fit(mixed)
    names = list(out.get_feature_names_out())
    assert names[:2] == ["numeric__num", "numeric__int"]
    assert "categorical__obj_7" in names and "categorical__flag_True" in names
    matrix = out.transform(mixed)
    assert not np.isnan(matrix).any()
    np.testing.assert_allclose(matrix[:, :2].mean(axis=0), 0, atol=1e-9)
    raw = make_preprocessor(scale=False).fit_transform(np.array([[1.0, np.nan], [3.0, 2.0]]))
    np.testing.assert_allclose(raw, [[1.0, 2.0], [3.0, 2.0]])


def test_make_model_is_fresh_and_seeded() -> None:
    a, b = make_model("rf", "classification", random_state=5), make_model("rf", "classification")
    assert a is not b
    assert a.get_params()["model__random_state"] == 5
    assert b.get_params()["model__random_state"] is None
    assert get_model("logreg").task == "classification"  # unique name, task optional
    assert isinstance(get_model("ridge", "regression"), ModelSpec)


def test_model_errors() -> None:
    with pytest.raises(
        ValueError, match=r"unknown model 'nope'; known: logreg, rf, hgb, mlp, ridge"
    ):
        get_model("nope")
    with pytest.raises(ValueError, match=r"unknown regression model 'logreg'; known: ridge"):
        make_model("logreg", task="regression")
    with pytest.raises(ValueError, match=r"'rf' exists for several tasks"):
        make_model("rf")
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        list_models("ranking")
    with pytest.raises(ValueError, match="unknown task"):
        ModelSpec("x", "ranking", "x", lambda random_state=None: None)
