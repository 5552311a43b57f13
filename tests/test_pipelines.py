"""GANAugmenter and AugmentedEstimator inside scikit-learn and imbalanced-learn tooling."""

import numpy as np
import pytest
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ganaug import AugmentedEstimator, GANAugmenter


@pytest.fixture
def data():
    return make_classification(n_samples=120, n_features=6, weights=[0.8, 0.2], random_state=0)


class CountingEstimator(LogisticRegression):
    """Records how many rows each fit saw."""

    seen: list = []  # noqa: RUF012 - shared across clones on purpose

    def fit(self, X, y, sample_weight=None):
        CountingEstimator.seen.append(len(X))
        return super().fit(X, y, sample_weight=sample_weight)


def test_clone_round_trips(tiny):
    aug = GANAugmenter(preset=tiny, sampling_strategy="all", augment_ratio=0.5, random_state=3)
    assert clone(aug).get_params() == aug.get_params()
    est = AugmentedEstimator(LogisticRegression(C=2.0), aug)
    cloned = clone(est)
    assert cloned.get_params()["augmenter__augment_ratio"] == 0.5
    assert cloned.get_params()["estimator__C"] == 2.0


def test_imblearn_pipeline_resamples_in_fit_only(data, tiny):
    X, y = data
    CountingEstimator.seen = []
    pipe = ImbPipeline([("scale", StandardScaler()), ("aug", GANAugmenter(preset=tiny, random_state=0)),
                        ("clf", CountingEstimator())])
    pipe.fit(X, y)
    assert CountingEstimator.seen == [2 * np.bincount(y).max()]
    assert pipe.predict(X).shape == (len(X),)


def test_plain_sklearn_pipeline_with_meta_estimator(data, tiny):
    X, y = data
    pipe = Pipeline([("scale", StandardScaler()),
                     ("clf", AugmentedEstimator(LogisticRegression(), GANAugmenter(preset=tiny, random_state=0)))])
    pipe.fit(X, y)
    assert pipe.predict_proba(X).shape == (len(X), 2)
    assert pipe.decision_function(X).shape == (len(X),)
    assert 0.5 < pipe.score(X, y) <= 1.0
    aug = pipe.named_steps["clf"].augmenter_
    assert sum(aug.sampling_strategy_.values()) == np.bincount(y).max() - np.bincount(y).min()


def test_grid_search_over_augmenter_parameters(data, tiny):
    X, y = data
    est = AugmentedEstimator(LogisticRegression(), GANAugmenter(preset=tiny, random_state=0))
    grid = GridSearchCV(est, {"augmenter__sampling_strategy": ["auto", 0.5], "estimator__C": [0.1, 1.0]},
                        cv=3, scoring="balanced_accuracy")
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["augmenter__sampling_strategy"] in ("auto", 0.5)


def test_cross_val_score_never_scores_on_synthetic_rows(data, tiny):
    X, y = data
    CountingEstimator.seen = []
    est = AugmentedEstimator(CountingEstimator(), GANAugmenter(preset=tiny, random_state=0))
    scores = cross_val_score(est, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.5)
    # each training fold (80 rows) was balanced, so the estimator saw more rows than the fold
    assert all(n > 80 for n in CountingEstimator.seen)


def test_delegation_follows_the_estimator(data, tiny):
    from sklearn.svm import LinearSVC

    est = AugmentedEstimator(LinearSVC(), GANAugmenter(preset=tiny, random_state=0))
    assert not hasattr(est, "predict_proba")
    X, y = data
    est.fit(X, y)
    assert est.decision_function(X).shape == (len(X),)
    np.testing.assert_array_equal(est.classes_, [0, 1])


def test_sample_weight_follows_the_resampled_rows(tiny):
    """Weights reach the estimator aligned with the rows fit_resample returned."""
    from imblearn.over_sampling import RandomOverSampler
    from sklearn.linear_model import LinearRegression, Ridge

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.array([0] * 45 + [1] * 15)
    w = np.where(y == 1, 3.0, 1.0) * rng.uniform(0.5, 1.5, 60)
    seen = {}

    class Spy(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            seen["X"], seen["y"], seen["w"] = X, y, sample_weight
            return super().fit(X, y, sample_weight=sample_weight)

    AugmentedEstimator(Spy(), GANAugmenter(preset=tiny, random_state=0)).fit(X, y, sample_weight=w)
    assert len(seen["w"]) == len(seen["y"]) == 90
    np.testing.assert_array_equal(seen["w"][:60], w)  # real rows keep their weights
    np.testing.assert_allclose(seen["w"][60:], w[y == 1].mean())  # synthetic: their class mean
    # a sampler that exposes sample_indices_: the weights follow the indices
    AugmentedEstimator(Spy(), RandomOverSampler(random_state=0)).fit(X, y, sample_weight=w)
    assert len(seen["w"]) == 90 and set(seen["w"]) <= set(w)
    # regression: a regressor makes the augmenter's task "regression"; new rows get the mean
    y_reg = X @ np.array([1.0, 2.0, -1.0])
    est = AugmentedEstimator(Ridge(), GANAugmenter(preset=tiny, random_state=0))
    est.fit(X, y_reg, sample_weight=w)
    assert est.augmenter_.task_ == "regression" and est.augmenter.task == "auto"
    with pytest.raises(TypeError, match="sample_weight cannot be aligned"):

        class Shuffler:
            def fit_resample(self, X, y):
                return X[::-1], y[::-1]

            def get_params(self, deep=True):
                return {}

        AugmentedEstimator(LinearRegression(), Shuffler()).fit(X, y_reg, sample_weight=w)
