"""Downstream scoring: resolve named models, score them, and train on synthetic / test on real
(TSTR) next to train on real / test on real (TRTR).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ganaug.evaluation.frames import _to_1d

CLASSIFICATION_METRICS: tuple[str, ...] = ("balanced_accuracy", "f1_macro", "roc_auc")
REGRESSION_METRICS: tuple[str, ...] = ("r2", "mae")
DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "classification": ("logreg", "rf", "hgb"),
    "regression": ("ridge", "rf", "hgb"),
}


ModelsArg = Mapping[str, Any] | Sequence[str] | None


# ---------------------------------------------------------------------------------------------
# downstream models
# ---------------------------------------------------------------------------------------------


def infer_task(y: Any) -> str:
    """``"regression"`` or ``"classification"``, by :func:`ganaug.core.tasks.infer_task`'s rule.

    Raises ValueError for multilabel or multi-output targets
    (:func:`sklearn.utils.multiclass.type_of_target`).
    """
    from sklearn.utils.multiclass import type_of_target

    from ganaug.core.tasks import infer_task as infer

    kind = type_of_target(_to_1d(y))
    if kind not in ("binary", "multiclass", "continuous"):
        raise ValueError(
            f"unsupported target type {kind!r}; expected binary, multiclass or continuous"
        )
    return infer(_to_1d(y))


def resolve_models(
    models: ModelsArg, task: str, random_state: int | None = 0
) -> dict[str, Callable[[], Any]]:
    """Turn the ``models`` argument into ``{name: zero-argument factory}``.

    Parameters
    ----------
    models : None, mapping or sequence of str
        None: the default names for ``task`` (``logreg, rf, hgb`` for classification,
        ``ridge, rf, hgb`` for regression); a sequence of names, resolved with
        ``ganaug.registry.models.make_model(name, task=task, random_state=random_state)``; or a mapping
        ``name -> factory`` where a factory is a zero-argument callable (or an estimator
        class) returning a fresh estimator, or an unfitted estimator instance (cloned
        before each fit).
    task : {"classification", "regression"}
    random_state : int or None, default=0
        Passed to ``make_model`` for named models.
    """
    from sklearn.base import clone

    if models is None:
        models = DEFAULT_MODELS[task]
    if isinstance(models, Mapping):
        out: dict[str, Callable[[], Any]] = {}
        for name, spec in models.items():
            if hasattr(spec, "fit") and not isinstance(spec, type):
                out[str(name)] = lambda est=spec: clone(est)
            elif callable(spec):
                out[str(name)] = spec
            else:
                raise TypeError(f"model {name!r}: expected a factory or an estimator, got {spec!r}")
        return out
    if isinstance(models, str):
        models = [models]
    from ganaug.registry.models import make_model  # lazy: helper plugin registry

    return {
        name: (lambda n=name: make_model(n, task=task, random_state=random_state))
        for name in models
    }


def _score(model: Any, X_test: Any, y_test: np.ndarray, task: str) -> dict[str, float]:
    from sklearn import metrics

    pred = model.predict(X_test)
    if task == "regression":
        return {
            "r2": float(metrics.r2_score(y_test, pred)),
            "mae": float(metrics.mean_absolute_error(y_test, pred)),
        }
    out = {
        "balanced_accuracy": float(metrics.balanced_accuracy_score(y_test, pred)),
        "f1_macro": float(metrics.f1_score(y_test, pred, average="macro", zero_division=0)),
        "roc_auc": float("nan"),
    }
    labels = np.unique(y_test)
    classes = list(getattr(model, "classes_", []))
    if len(labels) == 2 and hasattr(model, "predict_proba") and labels[1] in classes:
        proba = model.predict_proba(X_test)[:, classes.index(labels[1])]
        out["roc_auc"] = float(metrics.roc_auc_score(y_test == labels[1], proba))
    return out


def score_models(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    models: ModelsArg = None,
    task: str | None = None,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Fit every model on one training set and score it on the test set.

    Parameters
    ----------
    X_train, y_train, X_test, y_test : array-like
        Training and test data (passed to the estimators unchanged).
    models : None, mapping or sequence of str
        See :func:`resolve_models`.
    task : {"classification", "regression"}, optional
        Inferred from ``y_test`` when omitted (see :func:`infer_task`).
    random_state : int or None, default=0

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model``, the metrics (``balanced_accuracy``, ``f1_macro``,
        ``roc_auc`` (binary only, NaN otherwise) for classification; ``r2``, ``mae`` for
        regression), ``fit_seconds`` and ``n_train``.
    """
    y_test = _to_1d(y_test)
    task = task or infer_task(y_test)
    rows = []
    for name, factory in resolve_models(models, task, random_state).items():
        model = factory()
        t0 = time.perf_counter()
        model.fit(X_train, _to_1d(y_train))
        seconds = time.perf_counter() - t0
        rows.append(
            {
                "model": name,
                **_score(model, X_test, y_test, task),
                "fit_seconds": seconds,
                "n_train": len(X_train),
            }
        )
    return pd.DataFrame(rows)


def tstr_scores(
    X_syn: Any, y_syn: Any, X_train: Any, y_train: Any, X_test: Any, y_test: Any, *,
    models: ModelsArg = None, task: str | None = None, random_state: int | None = 0,
) -> pd.DataFrame:
    """Train on synthetic, test on real (TSTR) next to train on real, test on real (TRTR).

    Parameters
    ----------
    X_syn, y_syn : array-like
        Synthetic rows only (not concatenated with the real ones).
    X_train, y_train : array-like
        The real training split the synthesizer was fitted on.
    X_test, y_test : array-like
        Held-out real rows.
    models, task, random_state
        See :func:`score_models`.

    Returns
    -------
    pandas.DataFrame
        Long format: one row per model and ``method`` (``"TSTR"`` or ``"TRTR"``) with the
        metric columns, ``fit_seconds`` and ``n_train``.  ``summarize(df, baseline="TRTR")``
        gives the TSTR gap.
    """
    task = task or infer_task(y_test)
    frames = []
    for method, X, y in (("TRTR", X_train, y_train), ("TSTR", X_syn, y_syn)):
        df = score_models(X, y, X_test, y_test, models=models, task=task, random_state=random_state)
        df.insert(1, "method", method)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
