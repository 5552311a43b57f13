"""Pretraining for the learn layer's estimators: the GAN an estimator's parameters describe
(explicit routing, :func:`make_gan`), a pretrained generator the user gives
(:func:`load_generator`, :func:`pretrained_gan`) and the one seed rule of a fit
(:func:`fit_seeds`)."""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ganaug.core.protocol import RowGenerator, WrapsGenerator
from ganaug.gan.presets import PRESETS, GANConfig
from ganaug.learn._compat import HasMethods, Interval, StrOptions


def declared_task(task: str, generator_task: str | None) -> str:
    """The task of a fit: ``task``, or with ``"auto"`` the pretrained generator's (a
    classification by default); a ValueError when the two disagree."""
    if task == "auto":  # a pretrained generator knows what it was trained for
        return generator_task or "classification"
    if generator_task is not None and generator_task != task:
        raise ValueError(
            f"task={task!r}, but the pretrained generator was trained for "
            f"{generator_task}: pass task={generator_task!r} or task='auto'"
        )
    return task


def load_generator(source: Any) -> tuple[RowGenerator, str]:
    """The pretrained generator ``source`` names (a fitted generator, an artifact directory or
    an ``.onnx`` file) and the task it was trained for."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix == ".onnx":
            from ganaug.runtime import OnnxGenerator

            model: RowGenerator = OnnxGenerator(path)
        else:
            from ganaug.gan import artifact

            model = artifact.load(path)[0]
    elif isinstance(source, RowGenerator):
        model = source
    else:
        raise TypeError(
            "generator must be a fitted ConditionalGAN or OnnxGenerator, an artifact directory "
            f"or an .onnx file; got {type(source).__name__}"
        )
    return model, model.task


def pretrained_gan(source: Any) -> Any:
    """A fitted ConditionalGAN from a GAN, a fitted ``GANAugmenter`` or an artifact directory.

    An exported ``.onnx`` generator has no critic, so it cannot serve here: a clear ValueError.
    """
    from ganaug.gan.synthesizer import ConditionalGAN

    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix == ".onnx":
            raise ValueError(
                f"{path} is an exported generator, which holds no critic: pass the artifact "
                "directory it was exported from (ganaug pretrain stores one)"
            )
        from ganaug.gan import artifact

        return artifact.load(path)[0]
    model = source.fitted_generator() if isinstance(source, WrapsGenerator) else source
    if isinstance(model, ConditionalGAN):
        model._check_fitted()
        return model
    if isinstance(model, RowGenerator):
        raise ValueError(  # noqa: TRY004 - a generator of the wrong kind: a ValueError as before
            "the augmenter samples from an ONNX generator, which has no critic: pass an "
            "artifact directory or a GAN trained by ganaug"
        )
    raise TypeError(
        "generator must be a fitted ConditionalGAN or GANAugmenter or an artifact directory; got "
        f"{type(source).__name__}"
    )


def pretrain(estimator: Any, X: Any) -> Any:
    """The unconditional GAN an estimator's parameters describe, fitted on every row of X (or
    its ``generator``, loaded)."""
    if estimator.generator is not None:
        return pretrained_gan(estimator.generator)
    return make_gan(estimator, fit_seeds(estimator.random_state)[0]).fit(X)


def make_gan(estimator: Any, seed: int, **fixed: Any) -> Any:
    """The unfitted ConditionalGAN an estimator describes.

    Its parameters listed in ``_gan_params`` (the same names and meanings as ConditionalGAN's),
    then the ConditionalGAN parameters of its ``gan_params`` dict, then ``fixed`` (what the
    estimator works out itself, such as the task), with the seed ``seed``.
    """
    from ganaug.gan.synthesizer import PARAMETERS, ConditionalGAN

    routed = {name: getattr(estimator, name) for name in estimator._gan_params}
    extra = dict(estimator.gan_params or {})
    taken = sorted(set(extra) & (set(routed) | set(fixed) | {"random_state"}))
    if taken:
        raise ValueError(
            f"gan_params sets {taken}: set them as parameters of {type(estimator).__name__} "
            "(random_state seeds the GAN itself)"
        )
    unknown = sorted(set(extra) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"gan_params: {unknown} are not ConditionalGAN parameters; known: {list(PARAMETERS)}")
    return ConditionalGAN(**routed, **extra, **fixed, random_state=seed)


#: the parameters GANFeatures and DiscriminatorClassifier pass to the GAN they pretrain
PRETRAINING_GAN_PARAMS = ("preset", "epochs", "categorical_features", "device", "time_budget")

#: the parameters GANFeatures and DiscriminatorClassifier share, with their constraints
PRETRAINING_CONSTRAINTS: dict[str, list[Any]] = {
    "preset": [StrOptions(set(PRESETS)), GANConfig],
    "epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "categorical_features": ["array-like", None],
    "generator": [str, os.PathLike, HasMethods(["fit"]), None],
    "device": [StrOptions({"auto", "cpu", "cuda"}), str],
    "time_budget": [Interval(numbers.Real, 0, None, closed="neither"), None],
    "gan_params": [dict, None],
    "random_state": ["random_state"],
}


def fit_seeds(random_state: Any) -> tuple[int, int]:
    """The seeds of a fit, ``(training, sampling)``, drawn from ``random_state``: the one rule of
    every path that trains a generator (an augmenter's ``fit``, the distributed trainer, the
    pretraining of GANFeatures and DiscriminatorClassifier), so one ``random_state`` gives one
    model. None draws fresh entropy (numpy's global RandomState
    is neither read nor changed)."""
    if random_state is None:
        seeds = np.random.default_rng().integers(0, 2**31 - 1, size=2)
    else:
        seeds = check_random_state(random_state).randint(0, 2**31 - 1, size=2)
    return int(seeds[0]), int(seeds[1])
