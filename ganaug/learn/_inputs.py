"""Input checks and output containers for :class:`ganaug.learn.sampler.GANAugmenter`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from imblearn.utils import check_target_type
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ganaug.core.errors import SchemaMismatchError
from ganaug.core.labels import TARGET_COLUMN, check_labels_present, check_several_classes
from ganaug.learn._compat import safe_indexing
from ganaug.learn.semi import check_semi_labels, unlabeled_rows

#: the hint added to scikit-learn's "Unknown label type" error for a continuous target
REGRESSION_HINT = (
    " GANAugmenter treats y as class labels unless told otherwise: pass task='regression' to "
    "model a continuous target jointly with X."
)


def n_rows(X: Any) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def check_2d(X: Any) -> Any:
    """X as a DataFrame or a 2-D ndarray (not None, not sparse); clear errors otherwise."""
    if X is None:
        raise ValueError("X is None: a 2-D table is required")
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError("sparse input is not supported by ganaug: pass a dense array or a DataFrame")
    if not isinstance(X, pd.DataFrame):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(
                f"X must be 2-dimensional (n_samples, n_features); got shape {X.shape}. "
                "Reshape your data with X.reshape(-1, 1) for a single feature."
            )
    return X


def check_table(X: Any, y: Any) -> tuple[Any, np.ndarray]:
    """X as a DataFrame or a 2-D ndarray, y as a 1-D ndarray; clear errors otherwise."""
    X = check_2d(X)
    if y is None:
        raise ValueError(
            "GANAugmenter requires y to be passed, but the target y is None: it conditions on "
            "the target"
        )
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = column_or_1d(y_arr, warn=True)  # DataConversionWarning, as sklearn does
    if y_arr.ndim != 1:
        raise ValueError(f"y must be 1-dimensional; got shape {y_arr.shape}")
    n = n_rows(X)
    if n == 0:
        raise ValueError(
            f"X is empty: found array with 0 sample(s) (shape={tuple(X.shape)}) while a minimum "
            "of 2 is required"
        )
    if X.shape[1] == 0:
        raise ValueError(
            f"X has no columns: found array with 0 feature(s) (shape={tuple(X.shape)}) while a "
            "minimum of 1 is required."
        )
    if n == 1:
        raise ValueError("X has a single row (n_samples=1): at least 2 rows are required to fit a GAN")
    if len(y_arr) != n:
        raise ValueError(f"y has {len(y_arr)} entries but X has {n} rows: they must match")
    return X, y_arr


def check_labels(y: Any) -> None:
    """scikit-learn's classification-target check, with a hint towards ``task='regression'``.

    Missing labels are refused first (a DataError naming their positions): scikit-learn would
    fail sorting ``None`` among strings without saying a label is missing.
    """
    check_labels_present(y)
    try:
        check_classification_targets(y)
    except ValueError as exc:
        if "Unknown label type" in str(exc) and "continuous" in str(exc):
            raise ValueError(str(exc) + REGRESSION_HINT) from None
        raise


def check_class_labels(y: np.ndarray) -> None:
    """Class labels: no missing values and at least two classes."""
    check_labels_present(y)
    check_several_classes(np.unique(y))


def check_regression_target(y: np.ndarray) -> None:
    """A numeric, finite regression target."""
    check_labels_present(y, what="target value")
    try:
        values = y.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"task='regression' needs a numeric y; got values of dtype {y.dtype} such as {y[0]!r}"
        ) from None
    if not np.isfinite(values).all():
        raise ValueError("y contains NaN or infinite values")


def concat_rows(X: Any, X_new: Any) -> Any:
    """The original rows followed by the new ones, in X's container and dtypes."""
    if isinstance(X, pd.DataFrame):
        if not isinstance(X_new, pd.DataFrame):
            X_new = pd.DataFrame(X_new, columns=X.columns)
        return pd.concat([X, as_dtypes(X_new, X.dtypes)], ignore_index=True)
    X_new = np.asarray(X_new)
    if len(X_new) == 0:
        return X.copy()
    return np.concatenate([X, X_new.astype(X.dtype, copy=False)], axis=0)


def as_dtypes(X_new: pd.DataFrame, dtypes: pd.Series) -> pd.DataFrame:
    """Synthetic rows in the dtypes of the real ones, so that concatenating keeps them.

    Sampled rows already come in the training dtypes; they differ when a pretrained generator
    samples for new data (an int column where it saw floats, categories of another order). An
    int column gets the nearest integers, except where the generator makes missing values
    (it saw some in training): ints cannot hold NaN, so that column stays float, as in
    :func:`ganaug.core.schema.assemble`. A column that cannot be converted is a
    SchemaMismatchError naming it, never left as it is.
    """
    changes = {c: t for c, t in dtypes.items() if X_new[c].dtype != t}
    if changes:
        X_new = X_new.copy(deep=False)
    for column, dtype in changes.items():
        values = X_new[column]
        if isinstance(dtype, np.dtype) and dtype.kind in "iub" and values.isna().any():
            continue
        if pd.api.types.is_integer_dtype(dtype) and pd.api.types.is_float_dtype(values.dtype):
            values = values.round()  # the nearest integer, not a truncation
        if isinstance(dtype, pd.CategoricalDtype):
            unknown = set(values.dropna().unique()) - set(dtype.categories)
            if unknown:
                raise SchemaMismatchError(
                    f"column {column!r}: the generator makes categories {sorted(map(str, unknown))} "
                    "that the data's categorical dtype does not have"
                )
        try:
            X_new[column] = values.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise SchemaMismatchError(
                f"column {column!r}: the generated values (dtype {values.dtype}) cannot be "
                f"converted to the data's dtype {dtype}: {exc}"
            ) from None
    return X_new


def target_template(y: Any) -> pd.Series | None:
    """An empty Series with ``y``'s name and dtype when ``y`` is a Series (None otherwise), so
    :meth:`GANAugmenter.sample` returns labels in the container ``fit`` was given."""
    return y.iloc[:0] if isinstance(y, pd.Series) else None


def as_target(values: np.ndarray, template: pd.Series | None, X: Any) -> Any:
    """``values`` as a Series like ``template`` (aligned on ``X``'s index), else as an ndarray.

    With no template (an augmenter loaded from an artifact), a DataFrame ``X`` gets an unnamed
    Series: pandas in, pandas out.
    """
    if template is None and not isinstance(X, pd.DataFrame):
        return np.asarray(values)
    index = X.index if isinstance(X, pd.DataFrame) else None
    if template is None:
        return pd.Series(values, index=index)
    try:
        return pd.Series(values, index=index, name=template.name, dtype=template.dtype)
    except (TypeError, ValueError):  # e.g. a nullable integer dtype and rounded floats
        return pd.Series(values, index=index, name=template.name)


def concat_target(y_in: Any, y: np.ndarray, y_new: np.ndarray) -> Any:
    """The original target followed by the new values, in ``y_in``'s container and dtype."""
    y_new = np.asarray(y_new)
    if y.dtype.kind in "iub" and y_new.dtype.kind == "f":  # an integer regression target
        y_new = np.rint(y_new)
    y_all = np.concatenate([y, y_new.astype(y.dtype, copy=False)])
    if isinstance(y_in, pd.Series):
        return pd.Series(y_all, name=y_in.name, dtype=y_in.dtype)
    if isinstance(y_in, pd.DataFrame):
        return pd.DataFrame(y_all, columns=y_in.columns)
    if isinstance(y_in, list):
        return y_all.tolist()
    return y_all


def input_tags(tags: Any) -> Any:
    """The input tags of a ganaug estimator that reads tables (NaN, strings, categories)."""
    tags.input_tags.sparse = False
    tags.input_tags.allow_nan = True
    tags.input_tags.string = True
    tags.input_tags.categorical = True
    tags.non_deterministic = False
    return tags


def check_rows(X: Any, min_rows: int = 1) -> Any:
    """X as a DataFrame or 2-D ndarray of at least ``min_rows`` rows and one column; clear
    errors otherwise (complex numbers refused as scikit-learn refuses them)."""
    X = check_2d(X)
    if not isinstance(X, pd.DataFrame) and np.iscomplexobj(X):
        raise ValueError("Complex data not supported: X holds complex numbers")
    if X.shape[0] == 0:
        raise ValueError(
            f"X is empty: found array with 0 sample(s) (shape={tuple(X.shape)}) while a minimum "
            "of 1 is required."
        )
    if X.shape[1] == 0:
        raise ValueError(
            f"X has no columns: found array with 0 feature(s) (shape={tuple(X.shape)}) while a "
            "minimum of 1 is required."
        )
    if X.shape[0] < min_rows:
        raise ValueError(
            f"X has {X.shape[0]} sample(s) (n_samples = {X.shape[0]}): pretraining a GAN needs "
            f"at least {min_rows}"
        )
    return X


def check_fit_inputs(X: Any, y: Any, task: str) -> tuple[Any, Any, bool]:
    """``(X, y, binarize_y)`` checked for a fit of ``task``: imbalanced-learn's target check (a
    label-indicator y becomes labels, ``binarize_y`` says so), X kept in its container."""
    binarize_y = False
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:  # label-indicator -> labels (imbalanced-learn)
            y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
    X, y = check_table(X, y)
    if task == "regression":
        check_regression_target(y)
    else:
        check_labels(y)
        check_class_labels(y)
    return X, y, binarize_y


def joint_table(X: Any, y: np.ndarray) -> Any:
    """X with the regression target appended as the last column (``__target__`` for DataFrames)."""
    if isinstance(X, pd.DataFrame):
        if TARGET_COLUMN in X.columns:
            raise ValueError(f"X already has a column named {TARGET_COLUMN!r}")
        return X.assign(**{TARGET_COLUMN: y.astype(np.float64)})
    return np.column_stack([X.astype(np.float64), y.astype(np.float64)])


def split_unlabeled(X: Any, y: Any, unlabeled_value: Any) -> tuple[Any, Any, Any]:
    """``(X, y)`` of the labeled rows, in their containers, and the unlabeled rows of X (None when
    there are none, or ``y`` is not 1-D): scikit-learn's semi-supervised convention, checked."""
    y_arr = np.asarray(y) if y is not None else None
    if y_arr is None or y_arr.ndim != 1:
        return X, y, None
    mask = unlabeled_rows(y_arr, unlabeled_value)
    check_semi_labels(y_arr, mask, unlabeled_value)
    if not mask.any() or n_rows(X) != len(y_arr):  # a shape mismatch: the next check reports it
        return X, y, None
    labeled = np.flatnonzero(~mask)
    return safe_indexing(X, labeled), safe_indexing(y, labeled), safe_indexing(X, np.flatnonzero(mask))
