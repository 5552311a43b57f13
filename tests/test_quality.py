"""A quality check that can fail: the default preset must not hurt a linear model on an
imbalanced breast_cancer, and its rows must not be trivially separable from real ones."""

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ganaug import GANAugmenter
from ganaug.evaluation import detection_auc

SEEDS = (0, 1, 2)


def _split(seed):
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
    minority = np.argmin(np.bincount(y_tr))
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(y_tr == minority)
    kept = rng.choice(rows, size=int(0.15 * len(rows)), replace=False)
    keep = np.sort(np.r_[np.flatnonzero(y_tr != minority), kept])
    return (X_tr, y_tr), (X_tr[keep], y_tr[keep]), (X_te, y_te), minority


def _logreg():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))


def test_default_preset_does_not_hurt_and_is_not_trivially_detectable():
    base, augmented, detection = [], [], []
    for seed in SEEDS:
        _, (X_tr, y_tr), (X_te, y_te), _ = _split(seed)
        base.append(balanced_accuracy_score(y_te, _logreg().fit(X_tr, y_tr).predict(X_te)))
        aug = GANAugmenter(random_state=seed)
        X_res, y_res = aug.fit_resample(X_tr, y_tr)
        assert np.bincount(y_res)[0] == np.bincount(y_res)[1]
        augmented.append(balanced_accuracy_score(y_te, _logreg().fit(X_res, y_res).predict(X_te)))
        # synthetic rows with the training set's class mix vs the real rows the GAN learned from,
        # compared class by class
        X_syn, y_syn = aug.sample(len(y_tr), y=y_tr, random_state=seed)
        detection.append(
            detection_auc(X_tr, X_syn, y_real=y_tr, y_synthetic=y_syn, random_state=seed)
        )
    assert np.mean(augmented) >= np.mean(base) - 0.01, (base, augmented)
    assert np.mean(detection) < 0.9, detection
