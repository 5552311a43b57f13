"""Parameters reach the GAN explicitly: every estimator parameter named like a ConditionalGAN
parameter is routed as it is, the rest through ``gan_params``, and nothing is matched by name."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from ganaug.gan.synthesizer import PARAMETERS, ConditionalGAN
from ganaug.learn.discriminator import DiscriminatorClassifier
from ganaug.learn.features import GANFeatures
from ganaug.learn.sampler import GANAugmenter

ESTIMATORS = [GANAugmenter, GANFeatures, DiscriminatorClassifier]
GAN_NAMES = set(inspect.signature(ConditionalGAN).parameters)

# a value other than the default for each ConditionalGAN parameter
VALUES = {
    "preset": "classic",
    "epochs": 3,
    "batch_size": 17,
    "categorical_features": ["c"],
    "device": "cpu",
    "early_stopping": True,
    "validation_fraction": 0.3,
    "patience": 4,
    "time_budget": 9.5,
    "verbose": True,
    "exact_structure": False,
    "constraints": ["a >= 0"],
}


class Reached(Exception):
    pass


def _own(cls):
    """Parameters that make the estimator pretrain a ConditionalGAN."""
    return {"design": "finetune"} if cls is DiscriminatorClassifier else {}


@pytest.fixture
def captured(monkeypatch):
    got = {}

    def fit(self, X, y=None, **kwargs):
        got.update({name: getattr(self, name) for name in GAN_NAMES})
        raise Reached

    monkeypatch.setattr(ConditionalGAN, "fit", fit)
    return got


def _fit(estimator):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.repeat([0, 1], 20)
    with pytest.raises(Reached):
        estimator.fit(X, y)


def test_gan_params_lists_every_conditional_gan_parameter_an_estimator_may_set():
    assert set(PARAMETERS) == GAN_NAMES - {"task", "random_state"}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_shared_parameter_is_routed_and_documented(cls):
    own = set(cls._get_param_names())
    # a parameter named like one of the GAN's is one of the GAN's: routed, never dropped
    assert own & set(PARAMETERS) == set(cls._gan_params)
    doc = inspect.getdoc(cls)
    for name in (*cls._gan_params, "gan_params"):
        assert re.search(rf"^{name} :", doc, re.MULTILINE), (
            f"{cls.__name__} does not document {name}"
        )


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_routed_parameter_reaches_the_fit(cls, captured):
    routed = {name: VALUES[name] for name in cls._gan_params}
    rest = {name: VALUES[name] for name in PARAMETERS if name not in routed}
    _fit(cls(**routed, **_own(cls), gan_params=rest, random_state=0))
    for name, value in {**routed, **rest}.items():
        assert captured[name] == value, name
    assert isinstance(captured["random_state"], int)


def test_the_augmenter_routes_its_task(captured):
    _fit(GANAugmenter(task="classification"))
    assert captured["task"] == "classification"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_gan_params_cannot_override_a_parameter_of_the_estimator(cls):
    with pytest.raises(ValueError, match="set them as parameters"):
        _fit(cls(**_own(cls), gan_params={"epochs": 2}))
    with pytest.raises(ValueError, match="random_state"):
        _fit(cls(**_own(cls), gan_params={"random_state": 2}))


def test_gan_params_names_an_unknown_parameter():
    with pytest.raises(ValueError, match=r"\['layers'\] are not ConditionalGAN parameters"):
        _fit(GANFeatures(gan_params={"layers": 2}))
