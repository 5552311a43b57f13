"""``GANFeatures``: a GAN's critic, pretrained without labels, as a scikit-learn transformer."""

from __future__ import annotations

import copy
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ganaug.gan.presets import PRESETS, GANConfig
from ganaug.learn._compat import HasMethods, Interval, StrOptions
from ganaug.learn._inputs import check_2d


def pretrained_gan(source: Any) -> Any:
    """A fitted ConditionalGAN from a GAN, a fitted ``GANAugmenter`` or an artifact directory.

    An exported ``.onnx`` generator has no critic, so it cannot serve here: a clear ValueError.
    """
    if hasattr(source, "discriminator_"):
        return source
    model = getattr(source, "model_", None)
    if model is not None:
        if not hasattr(model, "discriminator_"):
            raise ValueError(
                "the augmenter samples from an ONNX generator, which has no critic: pass an "
                "artifact directory or a GAN trained by ganaug"
            )
        return model
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix == ".onnx":
            raise ValueError(
                f"{path} is an exported generator, which holds no critic: pass the artifact "
                "directory it was exported from (ganaug pretrain stores one)"
            )
        from ganaug.gan import artifact

        return artifact.load(path)[0]
    raise TypeError(
        "generator must be a fitted ConditionalGAN or GANAugmenter or an artifact directory; got "
        f"{type(source).__name__}"
    )


def pretrain(estimator: Any, X: Any) -> Any:
    """The unconditional GAN an estimator's parameters describe, fitted on every row of X (or
    its ``generator``, loaded)."""
    if estimator.generator is not None:
        return pretrained_gan(estimator.generator)
    seed = int(check_random_state(estimator.random_state).randint(0, 2**31 - 1))
    return make_gan(estimator, seed).fit(X)


def make_gan(estimator: Any, seed: int) -> Any:
    """An unfitted ConditionalGAN with the estimator's parameters of the same names."""
    import inspect

    from ganaug.gan.synthesizer import ConditionalGAN

    names = inspect.signature(ConditionalGAN).parameters
    shared = {n: getattr(estimator, n) for n in names if n != "random_state" and hasattr(estimator, n)}
    return ConditionalGAN(**shared, random_state=seed)


#: the parameters GANFeatures and DiscriminatorClassifier share, with their constraints
PRETRAINING_CONSTRAINTS: dict[str, list[Any]] = {
    "preset": [StrOptions(set(PRESETS)), GANConfig],
    "epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "categorical_features": ["array-like", None],
    "generator": [str, os.PathLike, HasMethods(["fit"]), None],
    "device": [StrOptions({"auto", "cpu", "cuda"}), str],
    "time_budget": [Interval(numbers.Real, 0, None, closed="neither"), None],
    "random_state": ["random_state"],
}


def input_tags(tags: Any) -> Any:
    """The input tags of a ganaug estimator that reads tables (NaN, strings, categories)."""
    tags.input_tags.sparse = False
    tags.input_tags.allow_nan = True
    tags.input_tags.string = True
    tags.input_tags.categorical = True
    tags.non_deterministic = False
    return tags


class GANFeatures(TransformerMixin, BaseEstimator):
    """The hidden-layer activations of a GAN's critic, pretrained on unlabeled rows.

    ``fit`` trains an unconditional GAN on every row of ``X`` (no labels needed; ``y`` is
    ignored) or takes a pretrained one (``generator``); ``transform`` encodes rows with the GAN's
    codec and returns the critic's hidden activations, every hidden layer side by side (a row is
    judged as a pack of copies of itself, see :class:`ganaug.gan.features.CriticTrunk`).

    Parameters
    ----------
    preset : {"default", "classic"} or GANConfig, default="default"
        GAN hyperparameters for pretraining.
    epochs : int, optional
        Overrides the preset's training length.
    categorical_features : sequence of str or int, optional
        Extra columns to model as categorical.
    generator : ConditionalGAN, GANAugmenter or path-like, optional
        Reuse a pretrained GAN (a fitted model or an artifact directory) instead of training.
        An exported ``.onnx`` generator has no critic and is refused.
    include_input : bool, default=False
        Also return the rows as the codec encodes them (quantile-normal numeric scores,
        one-hot categories, missing indicators) after the features.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Training device.
    time_budget : float, optional
        Seconds of adversarial training at most.
    random_state : int, RandomState or None
        Seeds pretraining.

    Attributes
    ----------
    gan_ : ConditionalGAN
        The pretrained GAN.
    n_features_out_ : int
        Output columns.
    n_features_in_ : int
    feature_names_in_ : ndarray
        Column names, for DataFrame input.
    """

    _parameter_constraints: ClassVar[dict] = {
        **PRETRAINING_CONSTRAINTS,
        "include_input": ["boolean"],
    }

    def __init__(
        self,
        *,
        preset: str | GANConfig = "default",
        epochs: int | None = None,
        categorical_features: Sequence[str | int] | None = None,
        generator: Any = None,
        include_input: bool = False,
        device: str = "auto",
        time_budget: float | None = None,
        random_state: Any = None,
    ) -> None:
        self.preset = preset
        self.epochs = epochs
        self.categorical_features = categorical_features
        self.generator = generator
        self.include_input = include_input
        self.device = device
        self.time_budget = time_budget
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> GANFeatures:
        """Pretrain the GAN on every row of ``X`` (or load ``generator``).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : ignored
            Accepted for Pipeline compatibility; the pretraining uses no labels.

        Returns
        -------
        self : GANFeatures
        """
        self._validate_params()
        X = check_rows(X, min_rows=2)
        validate_data(self, X, reset=True, skip_check_array=True)
        self.gan_ = pretrain(self, X)
        self._build()
        self.n_features_out_ = self.trunk_.n_features + (
            self.gan_.codec_.output_dim if self.include_input else 0
        )
        return self

    def _build(self) -> None:
        from ganaug.gan.features import CriticTrunk

        # float64: a row's features do not depend on the rows batched with it
        self.trunk_ = CriticTrunk(self.gan_.discriminator_).double().eval()

    def transform(self, X: Any) -> np.ndarray:
        """The critic's features of the rows ``X`` (then their encoding if ``include_input``).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features_out_), float64
        """
        import torch

        check_is_fitted(self, "gan_")
        X = check_rows(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        encoded = self.gan_.codec_.encode(X)
        with torch.no_grad():
            features = self.trunk_(torch.from_numpy(encoded).double()).numpy()
        parts = [features, encoded] if self.include_input else [features]
        return np.hstack(parts).astype(np.float64)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``ganfeatures0, ...`` then, with ``include_input``, ``input0, ...``."""
        check_is_fitted(self, "gan_")
        names = [f"ganfeatures{i}" for i in range(self.trunk_.n_features)]
        if self.include_input:
            names += [f"input{i}" for i in range(self.gan_.codec_.output_dim)]
        return np.asarray(names, dtype=object)

    def export_onnx(self, path: str | os.PathLike[str]) -> Path:
        """Export the encoder and the critic's layers to one ``.onnx`` file (read it with
        :class:`ganaug.runtime.features.OnnxRowModel`; ``include_input`` is not exported: the
        file gives the features)."""
        from ganaug.gan.features import FeatureModule, TableEncoder, export_rows_onnx

        check_is_fitted(self, "gan_")
        module = FeatureModule(TableEncoder(self.gan_.codec_), copy.deepcopy(self.trunk_).float())
        return export_rows_onnx(module, self.gan_.codec_, path, kind="features")

    def __sklearn_tags__(self):
        return input_tags(super().__sklearn_tags__())


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
