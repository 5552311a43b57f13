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


#: the category that stands for a missing value when ``missing_category=True``
MISSING_TOKEN = "__ganaug_missing__"


def make_preprocessor(
    scale: bool = False,
    missing_indicator: bool = False,
    missing_category: bool = False,
    max_one_hot: int | None = None,
) -> Any:
    """Preprocessing for mixed tables: the one ``ColumnTransformer`` factory of ganaug.

    Numeric columns: median imputation (+ standard scaling when ``scale``).  Categorical
    columns (the rule of :mod:`ganaug.core.columns`: object, category, bool, string dtypes, an
    object column of numbers excepted): most-frequent imputation and one-hot
    encoding that ignores unseen categories.  NumPy input is treated as all numeric.

    The downstream models and the realism filter use the defaults; the evaluation's detection
    features and the benchmarks' distance-to-closest-record features use the options.

    Parameters
    ----------
    scale : bool, default False
        Standardise numeric columns (for linear models and neural networks).
    missing_indicator : bool, default False
        Add a 0/1 column (never scaled) for every numeric column with missing values in fit.
    missing_category : bool, default False
        A missing categorical value is a category of its own (:data:`MISSING_TOKEN`) rather
        than imputed with the most frequent one.
    max_one_hot : int, optional
        Categorical columns with more levels (in fit) are ordinal-coded (levels in sorted
        order, unseen levels as -1) instead of one-hot encoded.

    Returns
    -------
    sklearn.compose.ColumnTransformer
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        OneHotEncoder,
        OrdinalEncoder,
        StandardScaler,
    )

    numeric = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric.append(("scale", StandardScaler()))

    def categorical(name: str, encoder: Any) -> Pipeline:
        impute = (
            SimpleImputer(strategy="constant", fill_value=MISSING_TOKEN)
            if missing_category
            else SimpleImputer(strategy="most_frequent")
        )
        return Pipeline(
            [
                ("as_str", FunctionTransformer(_as_str_categories, feature_names_out="one-to-one")),
                ("impute", impute),
                (name, encoder),
            ]
        )

    def many_levels(X: Any) -> list[Any]:
        if max_one_hot is None:
            return []
        return [c for c in categorical_columns(X) if X[c].nunique(dropna=False) > max_one_hot]

    def few_levels(X: Any) -> list[Any]:
        many = set(many_levels(X))
        return [c for c in categorical_columns(X) if c not in many]

    branches = [
        ("numeric", Pipeline(numeric), numeric_columns),
        (
            "categorical",
            categorical("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            few_levels,
        ),
    ]
    if max_one_hot is not None:
        ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        branches.append(("ordinal", categorical("ordinal", ordinal), many_levels))
    if missing_indicator:
        branches.append(("missing", MissingIndicator(features="missing-only"), numeric_columns))
    return ColumnTransformer(branches, sparse_threshold=0.0)


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
