"""``AugmentedEstimator``: a meta-estimator that augments its training set in ``fit`` only.

scikit-learn transformers cannot change the number of rows, so augmentation happens inside ``fit``:
the augmenter's ``fit_resample`` produces the training set, the wrapped estimator is fitted on it,
and prediction methods are delegated unchanged. It therefore works in a plain
``sklearn.pipeline.Pipeline``, ``GridSearchCV`` (grids over ``augmenter__*`` too) and
``cross_val_score``: synthetic rows never reach the validation folds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted


def _estimator_has(attr: str):
    def check(self: AugmentedEstimator) -> bool:
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return hasattr(self.estimator, attr)

    return check


class AugmentedEstimator(MetaEstimatorMixin, BaseEstimator):
    """Fit ``estimator`` on ``augmenter.fit_resample(X, y)``; predict with it on real data.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn estimator (or pipeline) with ``fit``.
    augmenter : sampler, optional
        Object with ``fit_resample``; default ``GANAugmenter()``.

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

    def __init__(self, estimator: Any, augmenter: Any = None) -> None:
        self.estimator = estimator
        self.augmenter = augmenter

    def fit(self, X: Any, y: Any, **fit_params: Any) -> AugmentedEstimator:
        """Augment ``(X, y)`` and fit the estimator on the result.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
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
        X_res, y_res = augmenter.fit_resample(X, y)
        self.augmenter_ = augmenter
        self.estimator_ = clone(self.estimator).fit(X_res, y_res, **fit_params)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        self.n_features_in_ = getattr(augmenter, "n_features_in_", None) or X_res.shape[1]
        if hasattr(augmenter, "feature_names_in_"):
            self.feature_names_in_ = augmenter.feature_names_in_
        return self

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        """Predict with the fitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities from the fitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """Log class probabilities from the fitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """Decision function of the fitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("score"))
    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The fitted estimator's score on real data."""
        check_is_fitted(self, "estimator_")
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = True
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = False
        return tags
