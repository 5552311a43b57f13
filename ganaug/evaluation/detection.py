"""Detection AUC: can a classifier tell real rows from synthetic ones? (0.5 = indistinguishable,
1.0 = trivially separable).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ganaug.evaluation.frames import _align, _as_tokens, _encode_pair, _to_1d

# ---------------------------------------------------------------------------------------------
# detection AUC
# ---------------------------------------------------------------------------------------------


def _match_per_class(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    y_real: Any,
    y_synthetic: Any,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subsample both tables to equal per-class counts and append the label as a column."""
    yr, ys = _to_1d(y_real), _to_1d(y_synthetic)
    if len(yr) != len(real) or len(ys) != len(synthetic):
        raise ValueError("y_real / y_synthetic must have one label per row of real / synthetic")
    tr, ts = _as_tokens(pd.Series(yr)), _as_tokens(pd.Series(ys))
    keep_r: list[np.ndarray] = []
    keep_s: list[np.ndarray] = []
    for label in np.unique(np.concatenate([tr, ts])):
        ir, is_ = np.flatnonzero(tr == label), np.flatnonzero(ts == label)
        m = min(len(ir), len(is_))
        if m:
            keep_r.append(np.sort(rng.choice(ir, m, replace=False)))
            keep_s.append(np.sort(rng.choice(is_, m, replace=False)))
    idx_r = np.concatenate(keep_r) if keep_r else np.array([], dtype=int)
    idx_s = np.concatenate(keep_s) if keep_s else np.array([], dtype=int)
    label_col = "__label__"
    r = real.iloc[idx_r].reset_index(drop=True).assign(**{label_col: tr[idx_r]})
    s = synthetic.iloc[idx_s].reset_index(drop=True).assign(**{label_col: ts[idx_s]})
    return r, s


MIN_ROWS_DEFAULT_DETECTOR = 50
"""Fewest rows per table (after matching) :func:`detection_auc` accepts with its default classifier."""


def detection_auc(
    real: Any,
    synthetic: Any,
    *,
    cv: int = 5,
    random_state: int | None = 0,
    y_real: Any = None,
    y_synthetic: Any = None,
    classifier: Any = None,
) -> float:
    """Cross-validated ROC AUC of a classifier separating real from synthetic rows.

    The larger table is subsampled (without replacement) to the size of the smaller one, the
    rows are labelled real (0) / synthetic (1), and a classifier is scored with stratified
    K-fold cross-validation.  Identical rows are kept in the same fold, so synthetic rows that
    copy real ones (memorization, random oversampling) score about 0.5 rather than below it.

    Parameters
    ----------
    real, synthetic : array-like or pandas.DataFrame
        Tables with the same columns (matched by name for two DataFrames, by position
        otherwise).  Numeric, categorical and missing values are encoded automatically.
    cv : int, default=5
        Number of stratified folds.
    random_state : int or None, default=0
        Seed for the subsampling, the folds and the classifier.
    y_real, y_synthetic : array-like, optional
        Class labels of the rows.  When both are given, the rows are first subsampled to the
        same count per class (the smaller of the two counts) and the label is added as a
        categorical column, so a different class mix (e.g. oversampled minority rows against
        the whole training split) is not mistaken for a difference between the rows.
    classifier : sklearn classifier, optional
        Unfitted estimator with ``predict_proba``; cloned per fold.  Default:
        ``HistGradientBoostingClassifier(random_state=random_state)``.

    Returns
    -------
    float
        Mean ROC AUC over the folds: about 0.5 when synthetic rows are indistinguishable from
        real ones, about 1.0 when they are trivially separable.

    Raises
    ------
    ValueError
        If the columns do not match, ``cv < 2`` or either table has fewer than ``cv`` rows
        (after per-class matching), or fewer than :data:`MIN_ROWS_DEFAULT_DETECTOR` with the
        default classifier (its trees could not split, and the AUC would read 0.5).
    """
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold

    if int(cv) < 2:
        raise ValueError(f"cv must be at least 2, got {cv}")
    r, s = _align(real, synthetic)
    rng = np.random.default_rng(random_state)
    if (y_real is None) != (y_synthetic is None):
        raise ValueError("pass both y_real and y_synthetic, or neither")
    if y_real is not None:
        r, s = _match_per_class(r, s, y_real, y_synthetic, rng)
    n = min(len(r), len(s))
    if n < cv:
        raise ValueError(
            f"too few rows for detection_auc: real has {len(r)}, synthetic has {len(s)} "
            f"(after matching); each needs at least cv={cv}"
        )
    r = r.iloc[np.sort(rng.choice(len(r), n, replace=False))] if len(r) > n else r
    s = s.iloc[np.sort(rng.choice(len(s), n, replace=False))] if len(s) > n else s
    A, B = _encode_pair(r, s)
    X = np.vstack([A, B])
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    if classifier is None:
        if n < MIN_ROWS_DEFAULT_DETECTOR:
            # min_samples_leaf=20: on a few dozen rows the trees cannot split at all and the
            # AUC would be a silent, meaningless 0.5
            raise ValueError(
                f"too few rows for detection_auc's default classifier: real has {len(r)}, "
                f"synthetic has {len(s)} (after matching); it needs at least "
                f"{MIN_ROWS_DEFAULT_DETECTOR} each. Pass classifier= (e.g. a logistic regression) "
                "for tables this small"
            )
        classifier = HistGradientBoostingClassifier(random_state=random_state)
    # identical rows share a group, hence a fold: a copied row must not teach the classifier
    # that its twin belongs to the other class (that would push the AUC far below 0.5)
    groups = np.unique(X, axis=0, return_inverse=True)[1].ravel()
    if len(np.unique(groups)) < cv:
        raise ValueError(f"too few distinct rows for detection_auc with cv={cv}")
    folds = StratifiedGroupKFold(n_splits=int(cv), shuffle=True, random_state=random_state)
    aucs = []
    for train, test in folds.split(X, y, groups):
        clf = clone(classifier).fit(X[train], y[train])
        proba = clf.predict_proba(X[test])[:, list(clf.classes_).index(1)]
        aucs.append(roc_auc_score(y[test], proba))
    return float(np.mean(aucs))
