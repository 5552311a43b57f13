"""Fitted state comes from fit only: no training rows kept, the generator loaded in fit, one way
to a fitted augmenter from a generator (load, the distributed trainer), one seed rule."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from ganaug.learn.sampler import GANAugmenter, fit_seeds


def _semi(n=80):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    X = pd.DataFrame({"a": rng.normal(size=n) + 2 * y, "b": rng.choice(["p", "q"], n)})
    return X, np.where(np.arange(n) < 30, y, -1)


def test_fit_keeps_no_training_rows_and_no_preloaded_generator(tiny, tmp_path):
    X, y = _semi()
    aug = GANAugmenter(preset=tiny, random_state=0).fit(X, y)
    assert aug.n_unlabeled_ == 50
    assert not {"_X_unlabeled", "_pretrained"} & set(vars(aug))
    blob = pickle.dumps(aug)
    assert X["a"].to_numpy()[40:].tobytes() not in blob  # the unlabeled rows are not pickled
    path = aug.save(tmp_path / "art")
    # with a pretrained generator, fit loads it as model_ and keeps nothing else
    reused = GANAugmenter(generator=path, random_state=0)
    assert "model_" not in vars(reused)  # constructing and checking parameters load nothing
    reused.fit(X, y)
    assert not {"_X_unlabeled", "_pretrained"} & set(vars(reused))
    assert reused.model_.task == "classification"


def test_load_and_from_generator_give_the_same_fitted_augmenter(tiny, tmp_path):
    X, y = _semi()
    aug = GANAugmenter(preset=tiny, random_state=3).fit(X, y)
    loaded = GANAugmenter.load(aug.save(tmp_path / "art"))
    direct = GANAugmenter.from_generator(aug.model_, random_state=3)
    for other in (loaded, direct):
        assert other.task_ == "classification" and other.n_features_in_ == 2
        np.testing.assert_array_equal(other.classes_, aug.classes_)
        pd.testing.assert_frame_equal(
            other.sample(20, random_state=1)[0], aug.sample(20, random_state=1)[0]
        )


def test_one_seed_rule(tiny):
    X, y = _semi()
    aug = GANAugmenter(preset=tiny, random_state=5).fit(X, y)
    train, sample = fit_seeds(5)
    assert aug.model_.random_state == train and aug._sample_seed == sample
    assert fit_seeds(np.random.RandomState(5)) == (train, sample)
