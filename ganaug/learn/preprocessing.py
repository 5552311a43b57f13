"""Preprocessing for mixed tables: the scikit-learn pipeline every built-in downstream model uses.

Accepts NumPy arrays and pandas DataFrames with mixed dtypes and missing values.
"""

from __future__ import annotations

from typing import Any

from ganaug.core import columns as _columns
from ganaug.core.columns import CATEGORICAL_DTYPES  # noqa: F401 (re-exported)


def _is_frame(X: Any) -> bool:
    return hasattr(X, "dtypes") and hasattr(X, "columns")


def numeric_columns(X: Any) -> list[Any]:
    """Column selector: the numeric DataFrame columns (:mod:`ganaug.core.columns`), or every
    column of an array."""
    if _is_frame(X):
        return _columns.numeric_columns(X)
    return list(range(X.shape[1]))


def categorical_columns(X: Any) -> list[Any]:
    """Column selector: the categorical DataFrame columns (:mod:`ganaug.core.columns`: object,
    category, bool, string); none for arrays."""
    if _is_frame(X):
        return _columns.categorical_columns(X)
    return []


def _as_str_categories(X: Any) -> Any:
    """Object array with every present value as ``str`` and every missing one as NaN.

    Makes mixed-type, boolean, categorical and string columns safe for the imputer and the
    one-hot encoder.
    """
    import numpy as np
    import pandas as pd

    values = np.asarray(pd.DataFrame(X).astype(object), dtype=object)
    missing = pd.isna(values)
    out = values.astype(str).astype(object)
    out[missing] = np.nan
    return out


def make_preprocessor(scale: bool = False) -> Any:
    """Preprocessing for mixed tables.

    Numeric columns: median imputation (+ standard scaling when ``scale``).  Categorical
    columns (the rule of :mod:`ganaug.core.columns`: object, category, bool, string dtypes, an
    object column of numbers excepted): most-frequent imputation and one-hot
    encoding that ignores unseen categories.  NumPy input is treated as all numeric.

    Parameters
    ----------
    scale : bool, default False
        Standardise numeric columns (for linear models and neural networks).

    Returns
    -------
    sklearn.compose.ColumnTransformer
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric.append(("scale", StandardScaler()))
    categorical = Pipeline(
        [
            ("as_str", FunctionTransformer(_as_str_categories, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [
            ("numeric", Pipeline(numeric), numeric_columns),
            ("categorical", categorical, categorical_columns),
        ],
        sparse_threshold=0.0,
    )


def make_pipeline(estimator: Any, scale: bool = False) -> Any:
    """``Pipeline([("preprocess", make_preprocessor(scale)), ("model", estimator)])``.

    Parameters
    ----------
    estimator : sklearn.base.BaseEstimator
        Final estimator.
    scale : bool, default False
        Standardise numeric columns.

    Returns
    -------
    sklearn.pipeline.Pipeline
    """
    from sklearn.pipeline import Pipeline

    return Pipeline([("preprocess", make_preprocessor(scale)), ("model", estimator)])
