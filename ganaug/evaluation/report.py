"""A self-contained HTML evaluation report: does augmenting this table help, how real do the
synthetic rows look, how close are they to the training rows, and what produced them.

:func:`evaluation_report` computes an :class:`EvaluationReport`; :meth:`EvaluationReport.html`
renders one HTML page (inline CSS, inline SVG charts, no script, nothing fetched from the
network) and :meth:`EvaluationReport.write` writes it atomically. ``ganaug evaluate DATA
--report report.html`` does both.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ganaug.evaluation import svg
from ganaug.evaluation.repeated import (
    cut_classes,
    lift_intervals,
    repeated_scores,
    verdict,
)
from ganaug.evaluation.report_html import render

#: at most this many columns get a marginal chart per class (the worst-matching ones first)
MAX_MARGINALS = 12
#: at most this many numeric columns in a correlation heatmap (the most variable ones)
MAX_HEATMAP = 24


@dataclass
class ClassSection:
    """Real-vs-synthetic comparison of one class's rows."""

    label: Any
    n_real: int
    n_synthetic: int
    columns: list[dict[str, Any]]  # name, kind, distance (KS or TVD), svg
    correlation_difference: float
    heatmap: str
    detection_auc: float | None = None


@dataclass
class EvaluationReport:
    """Everything the HTML report shows; :meth:`html` renders it.

    Attributes
    ----------
    title : str
    task : str
    settings : dict
        How the numbers were made (splits, test size, cut, preset, seed).
    scores : DataFrame
        :func:`~ganaug.evaluation.repeated.repeated_scores`'s per-split scores.
    intervals : DataFrame
        :func:`~ganaug.evaluation.repeated.lift_intervals` of ``scores``.
    verdict : str
        One line: is there a measurable gain?
    metric_note : str or None
        Why balanced accuracy and F1 disagree here, and which to trust (None when they agree).
    classes : list of ClassSection
        Minority class first.
    detection_auc : float or None
    privacy : dict
        :func:`~ganaug.evaluation.privacy.distance_to_closest_record` of the showcase fit.
    stage : dict
        What produced the rows (from the fitted model's ``history_``).
    timings : dict
        Fit and sample seconds of the showcase fit, resample seconds per method.
    """

    title: str
    task: str
    settings: dict[str, Any]
    scores: pd.DataFrame
    intervals: pd.DataFrame
    verdict: str
    metric_note: str | None = None
    classes: list[ClassSection] = field(default_factory=list)
    detection_auc: float | None = None
    privacy: dict[str, float] = field(default_factory=dict)
    stage: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def html(self) -> str:
        """The report as one self-contained HTML page."""
        return render(self)

    def write(self, path: str | Path) -> Path:
        """Write :meth:`html` to ``path`` atomically; returns the path."""
        from ganaug.core.files import atomic_write_bytes

        path = Path(path)
        atomic_write_bytes(path, self.html().encode("utf-8"))
        return path


def evaluation_report(
    X: Any,
    y: Any,
    *,
    augmenter: Any = None,
    n_splits: int = 5,
    test_size: float = 0.4,
    minority_fraction: float | None = None,
    models: Any = None,
    task: str = "classification",
    random_state: int = 0,
    title: str = "ganaug evaluation",
    scores: pd.DataFrame | None = None,
    showcase: ShowcaseFit | None = None,
    on_split: Any = None,
) -> EvaluationReport:
    """Evaluate augmentation on ``(X, y)`` and collect everything the HTML report shows.

    1. The lift: :func:`~ganaug.evaluation.repeated.repeated_scores` on ``n_splits``
       stratified splits (a fresh augmenter per split), with 95% intervals and a verdict.
    2. A showcase fit on the first split's training rows (cut as in step 1): per class, minority
       first, real-vs-synthetic marginals and the difference of the correlation matrices;
       detection AUC; distance to the closest record against the split's held-out rows; the
       stage that produced the rows; fit and sample times.

    Parameters
    ----------
    X, y : the whole table (classification)
    augmenter : estimator with ``fit_resample`` and ``sample``, optional
        Default: ``GANAugmenter(random_state=random_state)``.
    n_splits, test_size, minority_fraction, models :
        As in :func:`~ganaug.evaluation.repeated.repeated_scores`.
    task : {"classification"}
        The report covers classification (the per-class sections need classes).
    random_state : int, default=0
    title : str
    scores : DataFrame, optional
        Per-split scores already computed (skips step 1's training).
    showcase : ShowcaseFit, optional
        :func:`showcase_fit`'s result, already computed (skips step 2's fit).
    on_split : callable, optional
        Progress callback of :func:`repeated_scores`.

    Returns
    -------
    EvaluationReport
    """
    if task != "classification":
        raise ValueError("the HTML report covers classification tables (per-class sections)")
    if augmenter is None:
        from ganaug.learn.sampler import GANAugmenter

        augmenter = GANAugmenter(random_state=random_state)
    if scores is None:
        scores = repeated_scores(
            X, y, augmenter=augmenter, n_splits=n_splits, test_size=test_size,
            minority_fraction=minority_fraction, models=models, task=task,
            random_state=random_state, on_split=on_split,
        )
    intervals = lift_intervals(scores)
    fit = showcase or showcase_fit(X, y, augmenter, test_size=test_size,
                                   minority_fraction=minority_fraction, random_state=random_state)
    X, y = fit.X, fit.y
    X_tr, y_tr, X_te, y_te, aug = fit.X_train, fit.y_train, fit.X_test, fit.y_test, fit.augmenter
    X_show, y_show = fit.X_synthetic, fit.y_synthetic
    y_tr_obj = np.asarray(y_tr, dtype=object)
    labels, counts = np.unique(y_tr_obj, return_counts=True)
    order = fit.classes

    sections = [
        _class_section(label, X_tr[y_tr_obj == label], X_show[y_show == label], random_state)
        for label in order
    ]
    detection = _safe_detection(X_tr, X_show, y_tr_obj, y_show, random_state)
    from ganaug.evaluation.privacy import distance_to_closest_record

    minority = set(order[:-1]) or set(order)
    syn_mask = np.isin(y_show, list(minority))
    privacy = distance_to_closest_record(
        X_tr, X_show[syn_mask], X_te, y_synthetic=y_show[syn_mask],
        y_holdout=np.asarray(y_te, dtype=object), random_state=random_state,
    )
    resample = scores.groupby("method", sort=False)["resample_seconds"].mean().to_dict()
    settings = {
        "rows": len(y), "columns": X.shape[1], "classes": dict(zip(*np.unique(np.asarray(y, dtype=object),
                                                                              return_counts=True))),
        "splits": int(scores["split"].nunique()), "test_size": test_size,
        "minority_fraction": minority_fraction, "models": sorted(set(scores["model"])),
        "augmenter": _describe(augmenter), "seed": random_state,
        "showcase_train_classes": dict(zip(labels, counts.tolist())),
    }
    return EvaluationReport(
        title=title, task=task, settings=settings, scores=scores, intervals=intervals,
        verdict=verdict(intervals), metric_note=metric_note(intervals),
        classes=sections, detection_auc=detection, privacy=privacy,
        stage=_stage(aug), timings={"fit_seconds": fit.fit_seconds, "sample_seconds": fit.sample_seconds,
                                    "synthetic_rows": float(fit.n_resampled),
                                    **{f"resample_seconds_{k}": float(v) for k, v in resample.items()}},
    )


@dataclass
class ShowcaseFit:
    """One augmenter fitted on one split's training rows, and synthetic rows of every class."""

    X: pd.DataFrame
    y: pd.Series
    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    augmenter: Any
    X_synthetic: pd.DataFrame
    y_synthetic: np.ndarray
    classes: list[Any]  # training classes, smallest first
    n_resampled: int
    fit_seconds: float
    sample_seconds: float


def showcase_fit(X: Any, y: Any, augmenter: Any, *, test_size: float = 0.4,
                 minority_fraction: float | None = None, random_state: int = 0,
                 task: str = "classification") -> ShowcaseFit:
    """Fit a clone of ``augmenter`` on the first split's training rows (cut like
    :func:`~ganaug.evaluation.repeated.repeated_scores` cuts them) and draw synthetic rows:
    ``fit_resample``'s, topped up with :meth:`sample` so every class has at least
    ``max(200, its real rows)`` to compare. For regression (``classes`` empty) the split is not
    stratified, nothing is cut and only ``fit_resample``'s rows are kept."""
    from sklearn.base import clone
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X)).add_prefix("x")
    y = pd.Series(np.asarray(y))
    regression = task == "regression"
    splitter = (ShuffleSplit if regression else StratifiedShuffleSplit)(
        n_splits=1, test_size=test_size, random_state=random_state)
    train, test = next(splitter.split(np.zeros((len(y), 1)), y))
    X_tr, y_tr = X.iloc[train].reset_index(drop=True), y.iloc[train].reset_index(drop=True)
    X_te, y_te = X.iloc[test].reset_index(drop=True), y.iloc[test].reset_index(drop=True)
    if minority_fraction is not None and not regression:
        X_tr, y_tr = cut_classes(X_tr, y_tr, minority_fraction, random_state)
        X_tr, y_tr = X_tr.reset_index(drop=True), pd.Series(np.asarray(y_tr))
    aug = clone(augmenter)
    if "random_state" in aug.get_params():
        aug.set_params(random_state=random_state)
    t0 = time.perf_counter()
    X_res, y_res = aug.fit_resample(X_tr, y_tr)
    fit_seconds = time.perf_counter() - t0
    X_syn = pd.DataFrame(X_res).iloc[len(X_tr):].reset_index(drop=True)
    y_syn = np.asarray(y_res, dtype=object)[len(X_tr):]
    if regression:
        labels, counts = np.array([], dtype=object), np.array([], dtype=int)
    else:
        labels, counts = np.unique(np.asarray(y_tr, dtype=object), return_counts=True)
    t0 = time.perf_counter()
    shown_X, shown_y = [X_syn], [y_syn]
    for label, count in zip(labels, counts):
        missing = max(200, int(count)) - int(np.sum(y_syn == label))
        if missing > 0:
            extra, _ = aug.sample(missing, y=label, random_state=random_state + 1)
            shown_X.append(pd.DataFrame(extra).reset_index(drop=True))
            shown_y.append(np.full(missing, label, dtype=object))
    sample_seconds = time.perf_counter() - t0
    return ShowcaseFit(
        X=X, y=y, X_train=X_tr, y_train=y_tr, X_test=X_te, y_test=y_te, augmenter=aug,
        X_synthetic=pd.concat(shown_X, ignore_index=True), y_synthetic=np.concatenate(shown_y),
        classes=[labels[i] for i in np.argsort(counts, kind="stable")], n_resampled=len(X_syn),
        fit_seconds=fit_seconds, sample_seconds=sample_seconds,
    )


def metric_note(intervals: pd.DataFrame, method: str = "ganaug") -> str | None:
    """Why balanced accuracy and macro F1 disagree about ``method`` (None when they agree).

    They disagree when one lift's interval is above zero and the other's is not, or their
    means have opposite signs.
    """
    rows = intervals[(intervals["model"] == "mean") & (intervals["method"] == method)].set_index("metric")
    if not {"balanced_accuracy", "f1_macro"} <= set(rows.index):
        return None
    ba, f1 = rows.loc["balanced_accuracy"], rows.loc["f1_macro"]

    def sign(r: pd.Series) -> int:
        return 1 if r["low"] > 0 else -1 if r["high"] < 0 else 0

    if sign(ba) == sign(f1) and np.sign(ba["lift"]) == np.sign(f1["lift"]):
        return None
    return (
        f"Balanced accuracy ({ba['lift']:+.3f}) and macro F1 ({f1['lift']:+.3f}) disagree. "
        "Balanced accuracy is the mean recall of the classes: it rewards finding more rows of the "
        "rare class, even at the price of more false alarms. Macro F1 also weighs precision, so "
        "those false alarms cost it. Adding rare-class rows moves a model's default decision "
        "threshold towards the rare class: recall up, precision down. Trust balanced accuracy when "
        "missing a rare case costs more than a false alarm (screening, fraud, churn outreach); "
        "trust F1 when false alarms are expensive. Either way, the threshold is a choice: tune it "
        "on validation data for your costs, and compare ROC AUC, which does not depend on it."
    )


def _describe(augmenter: Any) -> str:
    params = augmenter.get_params(deep=False) if hasattr(augmenter, "get_params") else {}
    shown = {k: v for k, v in params.items() if k in ("preset", "epochs", "sampling_strategy", "augment_ratio")
             and v is not None}
    text = {k: repr(v) if isinstance(v, (str, int, float)) else f"<{type(v).__name__}>" for k, v in shown.items()}
    return f"{type(augmenter).__name__}({', '.join(f'{k}={v}' for k, v in text.items())})"


def _stage(aug: Any) -> dict[str, Any]:
    """What produced the rows, from the fitted model's ``history_`` (when it has one)."""
    history = getattr(getattr(aug, "model_", None), "history_", None) or {}
    out: dict[str, Any] = {}
    if "stage" in history:
        out["stage"] = history["stage"]
        reason = history.get("stage_reason", history.get("reason"))
        if reason:
            out["reason"] = reason
    elif "selected_step" in history:
        step = history["selected_step"]
        out["stage"] = "closed-form copula (no adversarial step kept)" if step == 0 else \
            f"adversarial fine-tuning, checkpoint at step {step}"
        out["reason"] = ("hold-out selection: the checkpoint whose rows were closest (kernel "
                         "two-sample distance) to the held-out real rows")
    elif history:
        out["stage"] = "adversarial training (last step)"
    selection = history.get("copula_selection")
    if isinstance(selection, dict):
        out["mixture copula test"] = ", ".join(
            f"{str(k).replace('_', ' ')} {v:.3g}" if isinstance(v, float) else f"{str(k).replace('_', ' ')} {v}"
            for k, v in selection.items() if not isinstance(v, (list, dict))
        )
    steps = history.get("validation_steps")
    if steps:
        out["steps trained"] = int(max(steps))
    return out


def _safe_detection(X_real: pd.DataFrame, X_syn: pd.DataFrame, y_real: Any, y_syn: Any,
                    random_state: int) -> float | None:
    """Detection AUC, with a logistic regression for tables too small for the default trees."""
    from ganaug.evaluation.detection import MIN_ROWS_DEFAULT_DETECTOR, detection_auc

    try:
        n = min(len(X_real), len(X_syn))
        if n >= MIN_ROWS_DEFAULT_DETECTOR:
            return detection_auc(X_real, X_syn, y_real=y_real, y_synthetic=y_syn, random_state=random_state)
        from sklearn.linear_model import LogisticRegression

        return detection_auc(X_real, X_syn, y_real=y_real, y_synthetic=y_syn, random_state=random_state,
                             cv=min(5, max(2, n // 2)), classifier=LogisticRegression(max_iter=1000))
    except ValueError:  # too few rows or distinct rows to cross-validate
        return None


def _class_section(label: Any, real: pd.DataFrame, synthetic: pd.DataFrame, random_state: int) -> ClassSection:
    from ganaug.core.columns import column_kinds
    from ganaug.evaluation.fidelity import column_fidelity
    from ganaug.evaluation.frames import _as_float, _as_tokens

    fidelity = column_fidelity(real, synthetic) if len(real) and len(synthetic) else {"columns": {}}
    stats = []
    for name, info in fidelity["columns"].items():
        distance = info.get("ks", info.get("tvd", float("nan")))
        stats.append((name, info["kind"], distance))
    stats.sort(key=lambda t: -(t[2] if not math.isnan(t[2]) else -1))
    columns = []
    for name, kind, distance in stats[:MAX_MARGINALS]:
        label_text = f"{name} ({'KS' if kind == 'numeric' else 'TVD'} {distance:.2f})"
        if kind == "numeric":
            chart = svg.histogram(_as_float(real[name]), _as_float(synthetic[name]), label_text)
        else:
            r, s = pd.Series(_as_tokens(real[name])), pd.Series(_as_tokens(synthetic[name]))
            freq_r, freq_s = r.value_counts(normalize=True), s.value_counts(normalize=True)
            levels = list(freq_r.add(freq_s, fill_value=0).sort_values(ascending=False).index[:8])
            chart = svg.bars(levels, [float(freq_r.get(v, 0)) for v in levels],
                             [float(freq_s.get(v, 0)) for v in levels], label_text)
        columns.append({"name": name, "kind": kind, "distance": distance, "svg": chart})
    kinds = column_kinds(real, synthetic) if len(real) else {}
    numeric = [c for c, k in kinds.items() if k == "numeric"]
    if len(numeric) > MAX_HEATMAP:
        spread = {c: np.nanstd(_as_float(real[c])) / (abs(np.nanmean(_as_float(real[c]))) + 1e-12) for c in numeric}
        numeric = [c for c in numeric if c in sorted(spread, key=lambda c: -np.nan_to_num(spread[c]))[:MAX_HEATMAP]]
    heat, diff = "", float("nan")
    if len(numeric) >= 2 and len(real) >= 3 and len(synthetic) >= 3:
        corr_r = pd.DataFrame({c: _as_float(real[c]) for c in numeric}).corr().fillna(0.0).to_numpy()
        corr_s = pd.DataFrame({c: _as_float(synthetic[c]) for c in numeric}).corr().fillna(0.0).to_numpy()
        delta = corr_s - corr_r
        upper = np.triu_indices(len(numeric), k=1)
        diff = float(np.mean(np.abs(delta[upper])))
        heat = svg.heatmap(delta, numeric, f"synthetic − real correlation (mean |Δ| {diff:.3f})")
    return ClassSection(label=label, n_real=len(real), n_synthetic=len(synthetic), columns=columns,
                        correlation_difference=diff, heatmap=heat)
