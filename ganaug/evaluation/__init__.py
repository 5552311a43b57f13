"""Quality metrics for synthetic tabular data.

Four families of checks, all deterministic given ``random_state``:

* :func:`detection_auc` -- can a classifier tell real rows from synthetic ones?
  (0.5 = indistinguishable, 1.0 = trivially separable);
* :func:`column_fidelity` -- per-column Kolmogorov-Smirnov statistic (numeric) or
  total-variation distance (categorical), and the gap between real and synthetic
  correlation matrices;
* :func:`tstr_scores` -- train on synthetic, test on real (TSTR) next to train on real,
  test on real (TRTR);
* :func:`repeated_scores` / :func:`lift_intervals` / :func:`verdict` -- the same over repeated
  stratified splits, the lift with a 95% interval, and a one-line verdict;
  :func:`evaluation_report` -- all of it as a self-contained HTML page;
* :func:`distance_to_closest_record` -- are synthetic rows closer to the training rows than
  unseen real rows are?
* :func:`downstream_scores` -- train downstream models on the real training split alone and
  augmented by ganaug, SMOTE/SMOTENC and random oversampling, all scored on one real test split.
  :func:`summarize` pivots the result and adds the lift over ``"none"``.

Inputs may be numpy arrays or pandas DataFrames with mixed numeric / categorical
(object, category, bool, string) columns and missing values.  ``ganaug.registry.models`` is
imported lazily, never at module import time.

One module per job: :mod:`~ganaug.evaluation.frames` (typing and encoding),
:mod:`~ganaug.evaluation.detection`, :mod:`~ganaug.evaluation.fidelity`,
:mod:`~ganaug.evaluation.scoring`, :mod:`~ganaug.evaluation.baselines` (SMOTE and random
oversampling), :mod:`~ganaug.evaluation.downstream` (orchestration) and
:mod:`~ganaug.evaluation.plots`; every public name is re-exported here.
"""

from __future__ import annotations

from ganaug.evaluation.baselines import MethodSkipped, oversample
from ganaug.evaluation.detection import MIN_ROWS_DEFAULT_DETECTOR, detection_auc
from ganaug.evaluation.downstream import downstream_scores, summarize
from ganaug.evaluation.fidelity import column_fidelity
from ganaug.evaluation.privacy import distance_to_closest_record
from ganaug.evaluation.repeated import cut_classes, lift_intervals, repeated_scores, verdict
from ganaug.evaluation.report import EvaluationReport, evaluation_report
from ganaug.evaluation.scoring import (
    CLASSIFICATION_METRICS,
    DEFAULT_MODELS,
    REGRESSION_METRICS,
    ModelsArg,
    infer_task,
    resolve_models,
    score_models,
    tstr_scores,
)

__all__ = [
    "CLASSIFICATION_METRICS",
    "DEFAULT_MODELS",
    "MIN_ROWS_DEFAULT_DETECTOR",
    "REGRESSION_METRICS",
    "EvaluationReport",
    "MethodSkipped",
    "ModelsArg",
    "column_fidelity",
    "cut_classes",
    "detection_auc",
    "distance_to_closest_record",
    "downstream_scores",
    "evaluation_report",
    "infer_task",
    "lift_intervals",
    "oversample",
    "repeated_scores",
    "resolve_models",
    "score_models",
    "summarize",
    "tstr_scores",
    "verdict",
]
