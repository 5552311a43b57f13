"""``AugmentedEstimator``: a meta-estimator that augments its training set in ``fit`` only.

scikit-learn transformers cannot change the number of rows, so augmentation happens inside ``fit``:
the augmenter's ``fit_resample`` produces the training set, the wrapped estimator is fitted on it,
and prediction methods are delegated unchanged. It therefore works in a plain
``sklearn.pipeline.Pipeline``, ``GridSearchCV`` (grids over ``augmenter__*`` too) and
``cross_val_score``: synthetic rows never reach the validation folds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ganaug.learn._compat import HasMethods, check_sample_weight


def _estimator_has(attr: str):
    def check(self: AugmentedEstimator) -> bool:
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return hasattr(self.estimator, attr)

    return check


def _delegate(method: str, doc: str):
    """``AugmentedEstimator.<method>(X)``: the fitted estimator's ``method`` on ``X``, present
    (``available_if``) only when the estimator has that method."""

    def delegated(self: AugmentedEstimator, X: Any) -> Any:
        check_is_fitted(self, "estimator_")
        return getattr(self.estimator_, method)(X)

    delegated.__name__ = method
    delegated.__qualname__ = f"AugmentedEstimator.{method}"
    delegated.__doc__ = doc
    return available_if(_estimator_has(method))(delegated)


@dataclass(eq=False, repr=False)
class AugmentedEstimator(MetaEstimatorMixin, BaseEstimator):
    """Fit ``estimator`` on ``augmenter.fit_resample(X, y)``; predict with it on real data.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn estimator (or pipeline) with ``fit``.
    augmenter : sampler, optional
        Object with ``fit_resample``; default ``GANAugmenter()``. When ``estimator`` is a
        regressor and the augmenter has ``task="auto"``, its clone gets ``task="regression"``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    augmenter_ : sampler
        The fitted clone of ``augmenter``.
    classes_ : ndarray
        Class labels (classifiers).
    n_features_in_ : int
        Number of features seen in ``fit``.
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit"])],
        "augmenter": [HasMethods(["fit_resample"]), None],
    }

    # Parameters, declared once: the dataclass's __init__ stores exactly these (scikit-learn's
    # rule; get_params reads its signature). eq/repr=False keep BaseEstimator's hash and repr.
    estimator: Any
    augmenter: Any = None

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> AugmentedEstimator:
        """Augment ``(X, y)`` and fit the estimator on the result.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the real rows, passed to the estimator's ``fit`` aligned with the
            resampled rows: through the augmenter's ``sample_indices_`` when it has them (rows
            drawn from the real ones), otherwise the real rows, which ``GANAugmenter`` keeps
            first, keep their weights and each synthetic row gets the mean weight of the real
            rows of its class (of all real rows for regression).
        **fit_params : dict
            Passed to the estimator's ``fit``.

        Returns
        -------
        self : AugmentedEstimator
        """
        self._validate_params()
        if self.augmenter is None:
            from ganaug.learn.sampler import GANAugmenter

            augmenter = GANAugmenter()
        else:
            augmenter = clone(self.augmenter)
        regressor = get_tags(self.estimator).estimator_type == "regressor"
        if regressor and augmenter.get_params().get("task") == "auto":
            augmenter.set_params(task="regression")
        X_res, y_res = augmenter.fit_resample(X, y)
        self.augmenter_ = augmenter
        if sample_weight is not None:
            fit_params["sample_weight"] = _resampled_weights(
                augmenter, check_sample_weight(sample_weight, X), y, y_res, regressor
            )
        self.estimator_ = clone(self.estimator).fit(X_res, y_res, **fit_params)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        self.n_features_in_ = getattr(augmenter, "n_features_in_", None) or X_res.shape[1]
        if hasattr(augmenter, "feature_names_in_"):
            self.feature_names_in_ = augmenter.feature_names_in_
        return self

    # prediction: the fitted estimator's methods, on the real rows, present when it has them
    predict = _delegate("predict", "Predict with the fitted estimator.")
    predict_proba = _delegate("predict_proba", "Class probabilities from the fitted estimator.")
    predict_log_proba = _delegate(
        "predict_log_proba", "Log class probabilities from the fitted estimator."
    )
    decision_function = _delegate("decision_function", "Decision function of the fitted estimator.")

    @available_if(_estimator_has("score"))
    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The fitted estimator's score on real data."""
        check_is_fitted(self, "estimator_")
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = True
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = False
        return tags


def _resampled_weights(
    augmenter: Any, weights: np.ndarray, y: Any, y_res: Any, regressor: bool
) -> np.ndarray:
    """``sample_weight`` of the real rows, aligned with the rows ``fit_resample`` returned."""
    n, n_res = len(weights), len(y_res)
    indices = getattr(augmenter, "sample_indices_", None)
    if indices is not None:
        return weights[np.asarray(indices)]
    from ganaug.learn.sampler import GANAugmenter

    if not isinstance(augmenter, GANAugmenter):
        raise TypeError(
            f"sample_weight cannot be aligned with the rows of {type(augmenter).__name__}: it "
            "neither exposes sample_indices_ nor keeps the real rows first"
        )
    out = np.empty(n_res, dtype=np.float64)
    out[:n] = weights
    if n_res == n:
        return out
    if regressor or augmenter.task_ == "regression":
        out[n:] = weights.mean()
        return out
    y_real = np.asarray(y).reshape(n, -1)
    y_new = np.asarray(y_res)[n:]
    if y_real.shape[1] > 1:  # label-indicator: compare class indices
        y_real, y_new = y_real.argmax(axis=1), np.asarray(y_new).reshape(n_res - n, -1).argmax(axis=1)
    else:
        y_real = y_real.ravel()
    for label in np.unique(y_new):
        out[n:][y_new == label] = weights[y_real == label].mean()
    return out
