"""Quality metrics for synthetic tabular data.

Four families of checks, all deterministic given ``random_state``:

* :func:`detection_auc` -- can a classifier tell real rows from synthetic ones?
  (0.5 = indistinguishable, 1.0 = trivially separable);
* :func:`column_fidelity` -- per-column Kolmogorov-Smirnov statistic (numeric) or
  total-variation distance (categorical), and the gap between real and synthetic
  correlation matrices;
* :func:`tstr_scores` -- train on synthetic, test on real (TSTR) next to train on real,
  test on real (TRTR);
* :func:`downstream_scores` -- train downstream models on the real training split alone and
  augmented by ganaug, SMOTE/SMOTENC and random oversampling, all scored on one real test split.
  :func:`summarize` pivots the result and adds the lift over ``"none"``.

Inputs may be numpy arrays or pandas DataFrames with mixed numeric / categorical
(object, category, bool, string) columns and missing values.  ``ganaug.sampler`` and
``ganaug.models`` are imported lazily, never at module import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "MethodSkipped",
    "column_fidelity",
    "detection_auc",
    "downstream_scores",
    "infer_task",
    "oversample",
    "resolve_models",
    "score_models",
    "summarize",
    "tstr_scores",
]

CLASSIFICATION_METRICS: tuple[str, ...] = ("balanced_accuracy", "f1_macro", "roc_auc")
REGRESSION_METRICS: tuple[str, ...] = ("r2", "mae")
DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "classification": ("logreg", "rf", "hgb"),
    "regression": ("ridge", "rf", "hgb"),
}
_NAN_TOKEN = "__ganaug_missing__"
_MAX_ONE_HOT = 64  # categorical columns with more levels are ordinal-coded instead

ModelsArg = Mapping[str, Any] | Sequence[str] | None


class MethodSkipped(ValueError):
    """An oversampling method cannot be applied to this data (the message says why)."""


# ---------------------------------------------------------------------------------------------
# table handling
# ---------------------------------------------------------------------------------------------


def _as_frame(X: Any) -> pd.DataFrame:
    """Return ``X`` as a DataFrame; object columns holding only numbers become float."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        return X.to_frame()
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D table, got an array of shape {arr.shape}")
    frame = pd.DataFrame(arr)
    for col in frame.columns:
        if frame[col].dtype == object:
            kind = pd.api.types.infer_dtype(frame[col], skipna=True)
            if kind in ("integer", "floating", "mixed-integer-float", "decimal", "empty"):
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return True
    return not pd.api.types.is_numeric_dtype(dtype)


def _align(real: Any, synthetic: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert both tables to DataFrames with the same column order, or raise ValueError."""
    r, s = _as_frame(real), _as_frame(synthetic)
    if list(r.columns) == list(s.columns):
        return r, s
    if set(r.columns) == set(s.columns) and len(r.columns) == len(s.columns):
        return r, s[list(r.columns)]
    positional = not isinstance(real, pd.DataFrame) or not isinstance(synthetic, pd.DataFrame)
    if positional and r.shape[1] == s.shape[1]:
        s = s.set_axis(r.columns, axis=1)
        return r, s
    missing = [c for c in r.columns if c not in s.columns]
    extra = [c for c in s.columns if c not in r.columns]
    raise ValueError(
        f"real and synthetic columns do not match ({r.shape[1]} vs {s.shape[1]} columns; "
        f"missing from synthetic: {missing[:10]}, unexpected in synthetic: {extra[:10]})"
    )


def _column_kinds(*frames: pd.DataFrame) -> dict[Any, str]:
    """``"categorical"`` when a column is non-numeric in any frame, else ``"numeric"``."""
    kinds = {}
    for col in frames[0].columns:
        cat = any(_is_categorical(f[col]) for f in frames)
        kinds[col] = "categorical" if cat else "numeric"
    return kinds


def _as_tokens(series: pd.Series) -> np.ndarray:
    """Categorical values as strings, missing values as a dedicated token."""
    values = series.astype(object).to_numpy()
    missing = pd.isna(values)
    out = np.array([str(v) for v in values], dtype=object)
    out[missing] = _NAN_TOKEN
    return out


def _as_float(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _encode_pair(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Encode two aligned tables into float matrices with one shared encoding.

    Numeric columns are median-imputed (median of both tables) and get a missing-value
    indicator when either table has missing values; categorical columns are one-hot encoded
    over the union of categories of both tables (ordinal codes above 64 levels).
    """
    kinds = _column_kinds(real, synthetic)
    blocks_r: list[np.ndarray] = []
    blocks_s: list[np.ndarray] = []
    for col, kind in kinds.items():
        if kind == "numeric":
            a, b = _as_float(real[col]), _as_float(synthetic[col])
            both = np.concatenate([a, b])
            finite = both[~np.isnan(both)]
            fill = float(np.median(finite)) if finite.size else 0.0
            na_a, na_b = np.isnan(a), np.isnan(b)
            blocks_r.append(np.where(na_a, fill, a)[:, None])
            blocks_s.append(np.where(na_b, fill, b)[:, None])
            if na_a.any() or na_b.any():
                blocks_r.append(na_a[:, None].astype(float))
                blocks_s.append(na_b[:, None].astype(float))
        else:
            a, b = _as_tokens(real[col]), _as_tokens(synthetic[col])
            levels = np.unique(np.concatenate([a, b]))
            codes_a, codes_b = np.searchsorted(levels, a), np.searchsorted(levels, b)
            if len(levels) > _MAX_ONE_HOT:
                blocks_r.append(codes_a[:, None].astype(float))
                blocks_s.append(codes_b[:, None].astype(float))
            else:
                eye = np.eye(len(levels))
                blocks_r.append(eye[codes_a])
                blocks_s.append(eye[codes_b])
    if not blocks_r:
        raise ValueError("tables have no columns")
    return np.hstack(blocks_r), np.hstack(blocks_s)


def _to_1d(y: Any) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D target, got shape {arr.shape}")
    return arr


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


# ---------------------------------------------------------------------------------------------
# column fidelity
# ---------------------------------------------------------------------------------------------


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of the non-missing values."""
    a, b = np.sort(a[~np.isnan(a)]), np.sort(b[~np.isnan(b)])
    if a.size == 0 or b.size == 0:
        return float("nan") if a.size == b.size else 1.0
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def _tvd(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two categorical samples (missing = own category)."""
    pa = pd.Series(a).value_counts(normalize=True)
    pb = pd.Series(b).value_counts(normalize=True)
    pa, pb = pa.align(pb, fill_value=0.0)
    return float(0.5 * np.abs(pa - pb).sum())


def _correlations(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pearson correlation matrices of the numeric columns (pairwise complete; NaN -> 0)."""
    kinds = _column_kinds(real, synthetic)
    cols = [c for c, k in kinds.items() if k == "numeric"]
    out = []
    for frame in (real, synthetic):
        num = pd.DataFrame({c: _as_float(frame[c]) for c in cols}, columns=cols)
        corr = num.corr(method="pearson")
        # constant or all-missing columns have undefined correlation: count them as 0
        out.append(corr.fillna(0.0))
    return out[0], out[1]


def column_fidelity(real: Any, synthetic: Any) -> dict[str, Any]:
    """Per-column distribution distances and the correlation-matrix gap.

    Parameters
    ----------
    real, synthetic : array-like or pandas.DataFrame
        Tables with the same columns.  A column is categorical when it is non-numeric (object,
        category, bool, string) in either table.

    Returns
    -------
    dict
        ``"columns"``: ``{column: {"kind": "numeric", "ks": float}}`` or
        ``{column: {"kind": "categorical", "tvd": float}}`` -- the two-sample
        Kolmogorov-Smirnov statistic of the non-missing values, or the total-variation
        distance of the category frequencies (missing counted as a category); both lie in
        [0, 1], 0 meaning identical.  Each entry also has ``"missing_difference"``, the
        absolute difference of the missing-value fractions.
        ``"mean_ks"`` / ``"mean_tvd"``: means over numeric / categorical columns (NaN when
        there are none).
        ``"correlation_difference"``: mean absolute difference between the real and synthetic
        Pearson correlation matrices of the numeric columns, over the pairs above the diagonal
        (pairwise-complete; undefined correlations count as 0; NaN with fewer than two
        numeric columns).

    Raises
    ------
    ValueError
        If the columns do not match or either table is empty.
    """
    r, s = _align(real, synthetic)
    if len(r) == 0 or len(s) == 0:
        raise ValueError("column_fidelity needs at least one row in each table")
    kinds = _column_kinds(r, s)
    columns: dict[Any, dict[str, Any]] = {}
    for col, kind in kinds.items():
        miss = abs(float(r[col].isna().mean()) - float(s[col].isna().mean()))
        if kind == "numeric":
            stat = _ks_statistic(_as_float(r[col]), _as_float(s[col]))
            columns[col] = {"kind": kind, "ks": stat, "missing_difference": miss}
        else:
            stat = _tvd(_as_tokens(r[col]), _as_tokens(s[col]))
            columns[col] = {"kind": kind, "tvd": stat, "missing_difference": miss}
    ks = [v["ks"] for v in columns.values() if "ks" in v and not np.isnan(v["ks"])]
    tvd = [v["tvd"] for v in columns.values() if "tvd" in v]
    corr_r, corr_s = _correlations(r, s)
    if corr_r.shape[0] >= 2:
        upper = np.triu_indices(corr_r.shape[0], k=1)
        corr_diff = float(np.mean(np.abs(corr_r.to_numpy() - corr_s.to_numpy())[upper]))
    else:
        corr_diff = float("nan")
    return {
        "columns": columns,
        "mean_ks": float(np.mean(ks)) if ks else float("nan"),
        "mean_tvd": float(np.mean(tvd)) if tvd else float("nan"),
        "correlation_difference": corr_diff,
    }


# ---------------------------------------------------------------------------------------------
# downstream models
# ---------------------------------------------------------------------------------------------


def infer_task(y: Any) -> str:
    """``"regression"`` or ``"classification"``, by :func:`ganaug.tasks.infer_task`'s rule.

    Raises ValueError for multilabel or multi-output targets
    (:func:`sklearn.utils.multiclass.type_of_target`).
    """
    from sklearn.utils.multiclass import type_of_target

    from ganaug.tasks import infer_task as infer

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
        ``ganaug.models.make_model(name, task=task, random_state=random_state)``; or a mapping
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
    from ganaug.models import make_model  # lazy: helper plugin registry

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
    X_syn: Any,
    y_syn: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    models: ModelsArg = None,
    task: str | None = None,
    random_state: int | None = 0,
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


# --- oversampling baselines ------------------------------------------------------------------


def _concat_rows(X: Any, y: Any, X_new: pd.DataFrame, y_new: np.ndarray) -> tuple[Any, Any]:
    """Original rows first, then new ones, in the input's container types."""
    if isinstance(X, pd.DataFrame):
        X_out = pd.concat([X, X_new.set_axis(X.columns, axis=1)], ignore_index=True)
    else:
        arr = np.asarray(X)
        new = X_new.to_numpy()
        if arr.ndim == 1:
            new = new.ravel()
        X_out = np.concatenate([arr, new.astype(arr.dtype, copy=False)])
    if isinstance(y, pd.Series):
        y_out = pd.concat([y, pd.Series(y_new, name=y.name).astype(y.dtype)], ignore_index=True)
    else:
        y_arr = np.asarray(y)
        y_out = np.concatenate([y_arr.reshape(-1) if y_arr.ndim > 1 else y_arr, y_new])
    return X_out, y_out


def _smote_new_rows(
    frame: pd.DataFrame,
    y: np.ndarray,
    sampling_strategy: Any,
    k_neighbors: int,
    random_state: int | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic rows from SMOTE / SMOTENC / SMOTEN, in ``frame``'s dtypes."""
    from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC
    from imblearn.utils import check_sampling_strategy

    targets = check_sampling_strategy(sampling_strategy, y, "over-sampling")
    grow = [c for c, n in targets.items() if n > 0]
    if not grow:
        return frame.iloc[:0], y[:0]
    counts = pd.Series(y).value_counts()
    smallest = int(min(counts[c] for c in grow))
    if smallest < 2:
        raise MethodSkipped(
            f"SMOTE needs at least 2 rows per oversampled class; the smallest has {smallest}"
        )
    k = min(int(k_neighbors), smallest - 1)

    kinds = _column_kinds(frame)
    cat_pos = [i for i, c in enumerate(frame.columns) if kinds[c] == "categorical"]
    # work on a copy: numerics median-imputed, categoricals as strings (missing = token)
    work = pd.DataFrame(index=range(len(frame)))
    back: dict[Any, dict[str, Any]] = {}
    for col in frame.columns:
        if kinds[col] == "numeric":
            vals = _as_float(frame[col])
            finite = vals[~np.isnan(vals)]
            work[col] = np.where(np.isnan(vals), np.median(finite) if finite.size else 0.0, vals)
        else:
            tokens = _as_tokens(frame[col])
            back[col] = {t: v for t, v in zip(tokens, frame[col].astype(object), strict=True)}
            back[col][_NAN_TOKEN] = np.nan
            work[col] = pd.Series(tokens, dtype=object)
    work.columns = range(work.shape[1])  # imblearn-friendly column labels

    if not cat_pos:
        sampler: Any = SMOTE(
            sampling_strategy=sampling_strategy, k_neighbors=k, random_state=random_state
        )
    elif len(cat_pos) == frame.shape[1]:
        sampler = SMOTEN(
            sampling_strategy=sampling_strategy, k_neighbors=k, random_state=random_state
        )
    else:
        sampler = SMOTENC(
            categorical_features=cat_pos,
            sampling_strategy=sampling_strategy,
            k_neighbors=k,
            random_state=random_state,
        )
    X_res, y_res = sampler.fit_resample(work, y)
    new = pd.DataFrame(np.asarray(X_res, dtype=object)[len(frame) :], columns=frame.columns)
    for col in frame.columns:
        dtype = frame[col].dtype
        if kinds[col] == "categorical":
            new[col] = new[col].map(lambda t, m=back[col]: m.get(str(t), np.nan))
            if not new[col].isna().any() or not pd.api.types.is_bool_dtype(dtype):
                new[col] = new[col].astype(dtype)
        else:
            vals = new[col].astype(float)
            if pd.api.types.is_integer_dtype(dtype):
                vals = vals.round()
            new[col] = vals.astype(dtype)
    return new, np.asarray(y_res)[len(frame) :]


def oversample(
    X: Any,
    y: Any,
    method: str,
    *,
    sampling_strategy: Any = "auto",
    k_neighbors: int = 5,
    random_state: int | None = 0,
) -> tuple[Any, Any]:
    """Oversample a classification training set with a classical baseline.

    Parameters
    ----------
    X : array-like or pandas.DataFrame
        Training features; mixed numeric / categorical columns and missing values allowed.
    y : array-like
        Class labels.
    method : {"none", "random", "smote"}
        ``"random"``: :class:`imblearn.over_sampling.RandomOverSampler` (duplicates rows).
        ``"smote"``: SMOTE for all-numeric tables, SMOTENC for mixed tables (categorical
        columns passed by position), SMOTEN for all-categorical tables.  ``k_neighbors`` is
        lowered to ``smallest oversampled class count - 1``; missing numerics are
        median-imputed (missing categoricals kept as a category) only to generate the new rows,
        the original rows are returned unchanged.
    sampling_strategy : str, float or dict, default="auto"
        As in imbalanced-learn (a dict gives the target count per class).
    k_neighbors : int, default=5
    random_state : int or None, default=0

    Returns
    -------
    X_res, y_res
        Original rows first, then the new rows; same container types as the input
        (a DataFrame comes back with a fresh RangeIndex).

    Raises
    ------
    MethodSkipped
        If SMOTE cannot be applied (an oversampled class has a single row).
    ValueError
        For an unknown method.
    """
    from imblearn.over_sampling import RandomOverSampler

    y_arr = _to_1d(y)
    if len(y_arr) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y_arr)} labels")
    if method == "none":
        return X, y
    if method == "random":
        ros = RandomOverSampler(sampling_strategy=sampling_strategy, random_state=random_state)
        idx, y_res = ros.fit_resample(np.arange(len(y_arr)).reshape(-1, 1), y_arr)
        idx = np.asarray(idx).ravel()[len(y_arr) :]
        frame = _as_frame(X)
        return _concat_rows(
            X, y, frame.iloc[idx].reset_index(drop=True), np.asarray(y_res)[len(y_arr) :]
        )
    if method == "smote":
        frame = _as_frame(X)
        new, y_new = _smote_new_rows(frame, y_arr, sampling_strategy, k_neighbors, random_state)
        return _concat_rows(X, y, new, y_new)
    raise ValueError(f"unknown oversampling method {method!r}; expected none, random or smote")


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
        ``ganaug.models`` pipelines handle categorical columns and missing values).
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
