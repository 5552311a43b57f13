"""Repeated stratified splits, the lift over no augmentation with a confidence interval, and a
plain-language verdict.

One 60/40 split says little: on a few hundred rows two splits can disagree by more than any
augmentation moves a score. :func:`repeated_scores` runs :func:`downstream_scores` on several
stratified splits (a fresh augmenter per split, fitted on that split's training rows only),
:func:`lift_intervals` turns the paired per-split differences into a mean and a Student-t
interval, and :func:`verdict` says in one line whether there is a measurable gain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ganaug.evaluation.downstream import downstream_scores
from ganaug.evaluation.scoring import ModelsArg, infer_task

#: metrics where a lower value is better (their lift is reported as method minus baseline too)
LOWER_IS_BETTER = ("mae",)

#: what each metric is called in a sentence
METRIC_NAMES = {
    "balanced_accuracy": "balanced accuracy",
    "f1_macro": "macro F1",
    "roc_auc": "ROC AUC",
    "r2": "R²",
    "mae": "mean absolute error",
}

#: the display names of the methods
METHOD_NAMES = {"ganaug": "ganaug", "smote": "SMOTE", "random": "random oversampling", "none": "no augmentation"}


def cut_classes(X: Any, y: Any, fraction: float, random_state: int) -> tuple[Any, Any]:
    """Keep ``fraction`` of every class but the largest (at least 6 rows, or all it has).

    Parameters
    ----------
    X : DataFrame or array-like
    y : Series or array-like
    fraction : float in (0, 1]
    random_state : int

    Returns
    -------
    X_cut, y_cut : the kept rows, in the containers given
    """
    from imblearn.datasets import make_imbalance

    labels, counts = np.unique(np.asarray(y), return_counts=True)
    keep = {
        label: int(min(count, max(6, round(fraction * count))))
        for label, count in zip(labels, counts)
        if count != counts.max()
    }
    return make_imbalance(X, y, sampling_strategy=keep, random_state=random_state)


def repeated_scores(
    X: Any,
    y: Any,
    *,
    augmenter: Any = None,
    n_splits: int = 5,
    test_size: float = 0.4,
    minority_fraction: float | None = None,
    models: ModelsArg = None,
    methods: Sequence[str] | None = None,
    task: str | None = None,
    random_state: int = 0,
    on_split: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """:func:`downstream_scores` on ``n_splits`` stratified train/test splits.

    Parameters
    ----------
    X, y : the whole table
    augmenter : estimator with ``fit_resample``, optional
        Cloned for every split (``sklearn.base.clone``) and given the seed
        ``random_state + split`` when it has a ``random_state`` parameter, so each split trains
        a fresh GAN on that split's training rows alone.
    n_splits : int, default=5
        Number of random splits (``StratifiedShuffleSplit`` for classification).
    test_size : float, default=0.4
    minority_fraction : float, optional
        Keep only this fraction of every class but the largest in each *training* split
        (:func:`cut_classes`); the test split keeps every row. This is the regime where a rare
        class is what augmentation is for.
    models, methods, task :
        As in :func:`downstream_scores`.
    random_state : int, default=0
        Seed of the splits, the cut, the models and the oversamplers.
    on_split : callable ``(split, n_splits)``, optional
        Called before each split (progress reporting).

    Returns
    -------
    pandas.DataFrame
        :func:`downstream_scores`'s long format with a leading ``split`` column and the
        training split's size before augmentation in ``n_train``; ``stage`` and
        ``stage_reason``: which stage of the augmenter's GAN produced the split's rows and why
        (``history_["stage"]``, ``history_["stage_reason"]``; None without them).
    """
    from sklearn.base import clone
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2 to give an interval; got {n_splits}")
    task = task or infer_task(y)
    splitter_cls = StratifiedShuffleSplit if task == "classification" else ShuffleSplit
    splitter = splitter_cls(n_splits=n_splits, test_size=test_size, random_state=random_state)
    frames = []
    y_arr = np.asarray(y)
    for split, (train, test) in enumerate(splitter.split(np.zeros((len(y_arr), 1)), y_arr)):
        if on_split is not None:
            on_split(split, n_splits)
        X_tr, y_tr = _rows(X, train), _rows(y, train)
        X_te, y_te = _rows(X, test), _rows(y, test)
        if minority_fraction is not None and task == "classification":
            X_tr, y_tr = cut_classes(X_tr, y_tr, minority_fraction, random_state + split)
        aug = None
        if augmenter is not None:
            aug = clone(augmenter)
            if "random_state" in aug.get_params():
                aug.set_params(random_state=random_state + split)
        frame = downstream_scores(
            X_tr, y_tr, X_te, y_te, augmenter=aug, models=models, methods=methods, task=task,
            random_state=random_state + split,
        )
        frame.insert(0, "split", split)
        # which stage of the GAN produced this split's rows, and why (ConditionalGAN.history_)
        history = getattr(getattr(aug, "model_", None), "history_", None) or {}
        frame["stage"] = history.get("stage")
        frame["stage_reason"] = history.get("stage_reason")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _rows(data: Any, index: np.ndarray) -> Any:
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return data.iloc[index].reset_index(drop=True)
    return np.asarray(data)[index]


def lift_intervals(
    scores: pd.DataFrame, *, baseline: str = "none", confidence: float = 0.95
) -> pd.DataFrame:
    """Mean lift over ``baseline`` per model, method and metric, with a Student-t interval.

    The lift of a split is the method's score minus the baseline's on the same split and model
    (paired), so split-to-split noise that moves both cancels. ``model == "mean"`` rows average
    the models within each split first.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`repeated_scores`'s output (a ``split`` column).
    baseline : str, default="none"
    confidence : float, default=0.95

    Returns
    -------
    pandas.DataFrame
        Columns ``model, method, metric, score`` (mean score), ``lift``, ``low``, ``high``
        (interval of the lift), ``n_splits``; the baseline's own rows are left out.
    """
    from scipy import stats

    from ganaug.evaluation.scoring import CLASSIFICATION_METRICS, REGRESSION_METRICS

    metrics = [m for m in (*CLASSIFICATION_METRICS, *REGRESSION_METRICS) if m in scores]
    long = scores.melt(id_vars=["split", "model", "method"], value_vars=metrics, var_name="metric")
    mean_models = long.groupby(["split", "method", "metric"], as_index=False, sort=False)["value"].mean()
    mean_models.insert(1, "model", "mean")
    long = pd.concat([long, mean_models], ignore_index=True)
    wide = long.pivot_table(index=["model", "metric", "split"], columns="method", values="value",
                            sort=False, dropna=False)
    if baseline not in wide:
        raise ValueError(f"no {baseline!r} rows to measure the lift against")
    rows = []
    methods = [m for m in dict.fromkeys(scores["method"]) if m != baseline]
    for (model, metric), block in wide.groupby(level=["model", "metric"], sort=False):
        for method in methods:
            if method not in block:
                continue
            diff = (block[method] - block[baseline]).dropna().to_numpy()
            n = len(diff)
            lift = float(diff.mean()) if n else np.nan
            if n >= 2 and np.std(diff) > 0:
                half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n))
            else:
                half = 0.0 if n >= 2 else np.nan
            rows.append({"model": model, "method": method, "metric": metric,
                         "score": float(block[method].mean()), "lift": lift,
                         "low": lift - half, "high": lift + half, "n_splits": n})
    return pd.DataFrame(rows, columns=["model", "method", "metric", "score", "lift", "low", "high", "n_splits"])


def _signed(value: float) -> str:
    return f"{value:+.3f}"


def verdict(intervals: pd.DataFrame, *, metric: str | None = None, method: str = "ganaug") -> str:
    """One line: is there a measurable gain from ``method``'s rows?

    Reads the ``model == "mean"`` rows of :func:`lift_intervals` for ``metric`` (balanced
    accuracy for classification, R² for regression, when not given). "Measurable" means the
    95% interval of the lift excludes zero; the best other oversampler is named for comparison.

    Returns
    -------
    str
        e.g. ``"ganaug's rows lift balanced accuracy by +0.043 (95% CI +0.021 to +0.065) ..."``
        or ``"no measurable gain here: ..."``.
    """
    mean = intervals[intervals["model"] == "mean"]
    if metric is None:
        metric = "balanced_accuracy" if "balanced_accuracy" in set(mean["metric"]) else "r2"
    rows = mean[mean["metric"] == metric].set_index("method")
    if method not in rows.index:
        raise ValueError(f"no {method!r} rows for {metric!r} in the intervals")
    row = rows.loc[method]
    name = METRIC_NAMES.get(metric, metric)
    better = -1.0 if metric in LOWER_IS_BETTER else 1.0
    span = f"(95% CI {_signed(row['low'])} to {_signed(row['high'])}, {int(row['n_splits'])} splits)"
    lo, hi = sorted((row["low"] * better, row["high"] * better))  # in "higher is better" terms
    if lo > 0:
        head = f"ganaug's rows lift {name} by {_signed(row['lift'])} {span}"
    elif hi < 0:
        head = f"ganaug's rows LOWER {name}: {_signed(row['lift'])} {span}; do not augment this table this way"
    else:
        head = f"no measurable gain here: ganaug's rows change {name} by {_signed(row['lift'])} {span}"
    others = rows.drop(index=[method], errors="ignore")
    if len(others):
        best = others["lift"].idxmax() if better > 0 else others["lift"].idxmin()
        other = others.loc[best]
        head += (f"; {METHOD_NAMES.get(best, best)}: {_signed(other['lift'])} "
                 f"({_signed(other['low'])} to {_signed(other['high'])})")
    return head
