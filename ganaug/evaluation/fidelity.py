"""Column fidelity: per-column Kolmogorov-Smirnov statistic (numeric) or total-variation distance
(categorical), and the gap between real and synthetic correlation matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from ganaug.core.columns import column_kinds
from ganaug.evaluation.frames import _align, _as_float, _as_tokens

# ---------------------------------------------------------------------------------------------
# column fidelity
# ---------------------------------------------------------------------------------------------


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of the non-missing values."""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float("nan") if a.size == b.size else 1.0
    return float(ks_2samp(a, b, method="asymp").statistic)


def _tvd(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two categorical samples (missing = own category)."""
    pa = pd.Series(a).value_counts(normalize=True)
    pb = pd.Series(b).value_counts(normalize=True)
    pa, pb = pa.align(pb, fill_value=0.0)
    return float(0.5 * np.abs(pa - pb).sum())


def _correlations(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pearson correlation matrices of the numeric columns (pairwise complete; NaN -> 0)."""
    kinds = column_kinds(real, synthetic)
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
        Tables with the same columns.  A column is categorical when it is categorical in either
        table by the rule of :mod:`ganaug.core.columns` (object, category, bool, string dtypes;
        an object column of numbers is numeric).

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
    kinds = column_kinds(r, s)
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
