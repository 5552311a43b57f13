"""Orchestration: train downstream models on the real training split alone and augmented by
ganaug, SMOTE/SMOTENC and random oversampling, all scored on one real test split; summarize.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ganaug.evaluation.baselines import MethodSkipped, oversample
from ganaug.evaluation.scoring import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    ModelsArg,
    infer_task,
    resolve_models,
    score_models,
)


def downstream_scores(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    augmenter: Any = None,
    models: ModelsArg = None,
    methods: Sequence[str] | None = None,
    task: str | None = None,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Score downstream models trained on real data alone and on augmented training sets.

    Every model is trained on (a) the real training split (``"none"``), (b) it plus
    ``augmenter``'s synthetic rows (``"ganaug"``), (c) it plus SMOTE's (SMOTENC for mixed
    tables; ``"smote"``) and (d) random oversampling (``"random"``), and all are scored on the
    same real test split.

    Parameters
    ----------
    X_train, y_train : array-like or pandas
        Real training split.
    X_test, y_test : array-like or pandas
        Real test split.
    augmenter : object with ``fit_resample(X, y)``, optional
        E.g. :class:`ganaug.GANAugmenter`; fitted in place on the training split.  It must
        return the original rows first, then the synthetic ones.
    models : None, mapping or sequence of str
        See :func:`resolve_models`.  Models must accept the table as given (the built-in
        ``ganaug.registry.models`` pipelines handle categorical columns and missing values).
    methods : sequence of str, optional
        Subset of ``("none", "ganaug", "smote", "random")``.  Default: all four for
        classification (without ``"ganaug"`` when ``augmenter`` is None); ``("none",
        "ganaug")`` for regression, where SMOTE and random oversampling do not apply.
    task : {"classification", "regression"}, optional
        Inferred from ``y_train`` when omitted.
    random_state : int or None, default=0
        Seed for the oversamplers and the models.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per model and method: ``model``, ``method``, the metric columns
        (see :func:`score_models`), ``fit_seconds`` (model fit), ``resample_seconds`` (time to
        build the training set), ``n_train``, ``n_synthetic`` and ``note`` (the reason when a
        method was skipped, in which case the metrics are NaN).
    """
    task = task or infer_task(y_train)
    if methods is None:
        methods = (
            ("none", "ganaug", "smote", "random")
            if task == "classification"
            else (
                "none",
                "ganaug",
            )
        )
        if augmenter is None:
            methods = tuple(m for m in methods if m != "ganaug")
    methods = tuple(methods)
    known = {"none", "ganaug", "smote", "random"}
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; expected a subset of {sorted(known)}")
    if "ganaug" in methods and augmenter is None:
        raise ValueError("method 'ganaug' needs an augmenter (e.g. ganaug.GANAugmenter())")
    if task == "regression" and {"smote", "random"} & set(methods):
        raise ValueError("SMOTE and random oversampling apply to classification only")
    factories = resolve_models(models, task, random_state)
    metric_names = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS

    frames = []
    for method in methods:
        note = ""
        t0 = time.perf_counter()
        try:
            if method == "ganaug":
                X_res, y_res = augmenter.fit_resample(X_train, y_train)
            else:
                X_res, y_res = oversample(X_train, y_train, method, random_state=random_state)
        except MethodSkipped as exc:
            X_res = y_res = None
            note = f"skipped: {exc}"
        seconds = time.perf_counter() - t0
        if X_res is None:
            df = pd.DataFrame({"model": list(factories)})
            for m in metric_names:
                df[m] = np.nan
            df["fit_seconds"] = np.nan
            df["n_train"] = len(X_train)
            n_syn = 0
        else:
            df = score_models(
                X_res,
                y_res,
                X_test,
                y_test,
                models=factories,
                task=task,
                random_state=random_state,
            )
            n_syn = len(X_res) - len(X_train)
        df.insert(1, "method", method)
        df["resample_seconds"] = seconds
        df["n_synthetic"] = n_syn
        df["note"] = note
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def summarize(scores: pd.DataFrame, *, baseline: str = "none") -> pd.DataFrame:
    """Pivot long-format scores to method x metric (mean over models) with lift columns.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of :func:`downstream_scores` or :func:`tstr_scores`.
    baseline : str, default="none"
        Method the lift is measured against (use ``"TRTR"`` for :func:`tstr_scores`).

    Returns
    -------
    pandas.DataFrame
        Index ``method`` (in first-appearance order); the mean of each metric, a
        ``<metric>_lift`` column (method minus baseline; for ``mae`` lower is better, so a
        negative lift is an improvement; NaN when the baseline is absent) and the mean of the
        ``*_seconds`` columns.
    """
    metrics = [m for m in (*CLASSIFICATION_METRICS, *REGRESSION_METRICS) if m in scores]
    seconds = [c for c in scores.columns if str(c).endswith("_seconds")]
    order = list(dict.fromkeys(scores["method"]))
    means = scores.groupby("method", sort=False)[metrics + seconds].mean().reindex(order)
    out = means[metrics].copy()
    for m in metrics:
        base = means.loc[baseline, m] if baseline in means.index else np.nan
        out[f"{m}_lift"] = means[m] - base
    for c in seconds:
        out[c] = means[c]
    return out
