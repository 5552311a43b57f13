"""``GANFeatures``: a GAN's critic, pretrained without labels, as a scikit-learn transformer."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ganaug.gan.presets import GANConfig
from ganaug.learn._inputs import check_rows, input_tags
from ganaug.learn.pretraining import PRETRAINING_CONSTRAINTS, PRETRAINING_GAN_PARAMS, pretrain


@dataclass(eq=False, repr=False, kw_only=True)
class GANFeatures(TransformerMixin, BaseEstimator):
    """The hidden-layer activations of a GAN's critic, pretrained on unlabeled rows.

    ``fit`` trains an unconditional GAN on every row of ``X`` (no labels needed; ``y`` is
    ignored) or takes a pretrained one (``generator``); ``transform`` encodes rows with the GAN's
    codec and returns the critic's hidden activations, every hidden layer side by side (a row is
    judged as a pack of copies of itself, see :class:`ganaug.gan.critic_features.CriticTrunk`).

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
    gan_params : dict, optional
        More parameters of the pretrained :class:`ganaug.gan.synthesizer.ConditionalGAN`
        (``batch_size``, ``verbose``, ``early_stopping``, ``validation_fraction``,
        ``patience``); the parameters above that share its names reach it as they are.
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
    #: parameters that reach the ConditionalGAN under the same names (see make_gan)
    _gan_params: ClassVar[tuple[str, ...]] = PRETRAINING_GAN_PARAMS

    # Parameters, declared once: the dataclass's __init__ stores exactly these (scikit-learn's
    # rule; get_params reads its signature). eq/repr=False keep BaseEstimator's hash and repr.
    preset: str | GANConfig = "default"
    epochs: int | None = None
    categorical_features: Sequence[str | int] | None = None
    generator: Any = None
    include_input: bool = False
    device: str = "auto"
    time_budget: float | None = None
    gan_params: dict[str, Any] | None = None
    random_state: Any = None

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
        from ganaug.gan.critic_features import CriticTrunk

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
        :class:`ganaug.runtime.row_model.OnnxRowModel`; ``include_input`` is not exported: the
        file gives the features)."""
        from ganaug.gan.critic_features import FeatureModule, TableEncoder, export_rows_onnx

        check_is_fitted(self, "gan_")
        module = FeatureModule(TableEncoder(self.gan_.codec_), copy.deepcopy(self.trunk_).float())
        return export_rows_onnx(module, self.gan_.codec_, path, kind="features")

    def __sklearn_tags__(self):
        return input_tags(super().__sklearn_tags__())
