"""``GANAugmenter``: an imbalanced-learn over-sampler whose new rows come from a conditional GAN."""

from __future__ import annotations

import numbers
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy
from sklearn.utils.validation import check_is_fitted, validate_data

from ganaug.core.labels import TARGET_COLUMN
from ganaug.core.limits import check_rows_in_memory, row_bytes
from ganaug.core.noise import check_n, seed_from
from ganaug.core.protocol import RowGenerator, sample_rows
from ganaug.core.reuse import check_reuse
from ganaug.gan.presets import PRESETS, GANConfig
from ganaug.learn._compat import HasMethods, Interval, StrOptions
from ganaug.learn._inputs import (
    as_target,
    check_fit_inputs,
    check_labels,
    check_table,
    concat_rows,
    concat_target,
    input_tags,
    joint_table,
    n_rows,
    split_unlabeled,
    target_template,
)
from ganaug.learn.filtering import draw_rows
from ganaug.learn.pretraining import declared_task, fit_seeds, load_generator, make_gan
from ganaug.learn.semi import check_marker_not_a_class, unlabeled_rows
from ganaug.learn.strategy import grow


@dataclass(eq=False, repr=False, kw_only=True)
class GANAugmenter(BaseOverSampler):
    """Over-sample (or grow) a training set with rows from a class-conditional GAN.

    ``fit_resample(X, y)`` returns the original rows followed by synthetic rows. ``y`` holds class
    labels (rows labeled ``unlabeled_value``, ``-1`` by default, are unlabeled: see below), as for every imbalanced-learn sampler (a continuous ``y`` is refused with "Unknown
    label type"), unless ``task="regression"``: then ``y`` is modelled jointly with ``X``.
    For classification the number of new rows per class follows ``sampling_strategy`` exactly as
    imbalanced-learn's samplers do (same per-class counts as ``RandomOverSampler``), then
    ``augment_ratio`` grows every class further.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        imbalanced-learn semantics: ``"auto"``, ``"minority"``, ``"not minority"``,
        ``"not majority"``, ``"all"``, a float (binary only), a dict ``{class: n_samples}`` or a
        callable ``y -> dict``. Ignored for regression.
    augment_ratio : float, optional
        After balancing, add ``augment_ratio * n_c`` more synthetic rows to each class ``c``
        (``n_c`` its size after balancing), for low-data augmentation. Default: 0 for
        classification, 1.0 for regression (doubles the data).
    preset : {"default", "classic", "conv"} or GANConfig, default="default"
        GAN hyperparameters. ``"classic"`` is the original MLP GAN; ``"conv"`` a DCGAN for
        images stored one numeric column per pixel (:mod:`ganaug.gan.conv`).
    epochs : int, optional
        Overrides the preset's training length.
    batch_size : int, optional
        Overrides the preset's batch size.
    categorical_features : sequence of str or int, optional
        Extra columns to model as categorical (object, category, bool and string columns are).
    generator : path-like, optional
        Start from a pretrained generator (an artifact directory or an exported ``.onnx`` file)
        instead of training: ``fit_resample`` then only samples. ``X`` must have the columns it
        was trained on, of the same kinds (numbers, booleans, text; a SchemaMismatchError
        otherwise); a numeric column on another scale gets a ScaleShiftWarning
        (:mod:`ganaug.core.reuse`).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Training device.
    early_stopping : bool, default=False
        Stop training when a held-out realism score stops improving.
    time_budget : float, optional
        Seconds of adversarial training at most; the default preset's length otherwise grows
        with the table (3 passes, 200 to 3,000 steps).
    filter_ratio : float, default=1.0
        Realism filtering: draw ``filter_ratio`` times more synthetic rows than needed and keep,
        per class, those closest to real rows of their own class (see
        :mod:`ganaug.learn.filtering`). 1.0 disables it.
    verbose : bool, default=False
        Show a training progress bar.
    task : {"auto", "classification", "regression"}, default="auto"
        What ``y`` is. "auto" is classification (imbalanced-learn's semantics: binary,
        multiclass or label-indicator targets), or, with ``generator``, the task the generator
        was trained for. Regression happens only when asked for: ``task="regression"`` (an
        integer target's synthetic values are then rounded to integers).
    unlabeled_value : label, default=-1
        Classification: rows whose label is this value are unlabeled (scikit-learn's
        semi-supervised convention; use a string such as ``"?"`` for string labels, ``NaN`` for
        missing labels, None to turn it off). They take part in pretraining (the codec's
        marginals, see :meth:`ganaug.gan.synthesizer.ConditionalGAN.fit`), not in the counts:
        ``sampling_strategy`` and ``augment_ratio`` apply to the labeled rows, and
        ``fit_resample`` returns the labeled rows followed by the synthetic ones, *without* the
        unlabeled rows. Refused with :class:`ganaug.core.errors.LabelError`: no labeled row, a
        class with a single labeled row, the default ``-1`` next to a single other class (then
        ``-1`` is taken to be a class; pass None), a marker that is a class of ``generator``.
    gan_params : dict, optional
        More parameters of the :class:`ganaug.gan.synthesizer.ConditionalGAN` it trains
        (``validation_fraction`` and ``patience`` of early stopping); ``preset``, ``epochs``,
        ``batch_size``, ``categorical_features``, ``device``, ``early_stopping``,
        ``time_budget`` and ``verbose`` reach it as they are.
    random_state : int, RandomState or None
        Seeds training and sampling; the same value gives the same rows. None draws fresh
        entropy from the operating system (``numpy.random.default_rng()``); numpy's global
        ``RandomState`` is never drawn from or changed.
    exact_structure : bool, default=True
        Learn what is exact in the training rows and keep it in the synthetic ones: each numeric
        column's precision (2 decimals, steps of 5, ...), columns equal to another or to a sum or
        difference of others, categorical columns that another determines (see
        :mod:`ganaug.core.exact`). The learned rules are listed in ``model_.history_["exact"]``.
    constraints : sequence of str or dict, optional
        Rules every synthetic row obeys: ``"end >= start"``, ``"amount in [0, limit]"``,
        ``"fixed city, zip"`` (only the training combinations). Refused with
        :class:`ganaug.errors.ConstraintError` when the training rows break one.

    Attributes
    ----------
    model_ : ConditionalGAN or OnnxGenerator
        The fitted (or loaded) generator.
    sampling_strategy_ : OrderedDict
        Synthetic rows per class added by ``fit_resample``.
    classes_ : ndarray
        Class labels (classification only).
    task_ : {"classification", "regression"}
        ``task``, or what was inferred from ``y``.
    n_unlabeled_ : int
        Unlabeled rows seen by ``fit`` (classification).
    n_features_in_ : int
        Number of features.
    feature_names_in_ : ndarray
        Column names, for DataFrame input.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseOverSampler._parameter_constraints,
        "augment_ratio": [Interval(numbers.Real, 0, None, closed="left"), None],
        "preset": [StrOptions(set(PRESETS)), GANConfig],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "categorical_features": ["array-like", None],
        "generator": [str, os.PathLike, HasMethods(["sample"]), None],
        "device": [StrOptions({"auto", "cpu", "cuda"}), str],
        "early_stopping": ["boolean"],
        "time_budget": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "filter_ratio": [Interval(numbers.Real, 1, None, closed="left")],
        "verbose": ["boolean"],
        "task": [StrOptions({"auto", "classification", "regression"})],
        "unlabeled_value": "no_validation",
        "exact_structure": ["boolean"],
        "constraints": ["array-like", None],
        "gan_params": [dict, None],
    }
    #: parameters that reach the ConditionalGAN under the same names (see learn.pretraining.make_gan)
    _gan_params: ClassVar[tuple[str, ...]] = ("preset", "epochs", "batch_size", "categorical_features",
                                              "device", "early_stopping", "time_budget", "verbose",
                                              "exact_structure", "constraints")

    # Parameters, declared once: the dataclass's __init__ stores exactly these (scikit-learn's
    # rule; get_params reads its signature). eq/repr=False keep BaseEstimator's hash and repr.
    # sampling_strategy is one of them: BaseSampler.__init__, which only stores it, is not called.
    sampling_strategy: Any = "auto"
    augment_ratio: float | None = None
    preset: str | GANConfig = "default"
    epochs: int | None = None
    batch_size: int | None = None
    categorical_features: Sequence[str | int] | None = None
    generator: str | os.PathLike[str] | None = None
    device: str = "auto"
    early_stopping: bool = False
    time_budget: float | None = None
    filter_ratio: float = 1.0
    verbose: bool = False
    task: str = "auto"
    unlabeled_value: Any = -1
    exact_structure: bool = True
    constraints: Sequence[Any] | None = None
    gan_params: dict[str, Any] | None = None
    random_state: Any = None

    # ----------------------------------------------------------------------- validation
    def _check_X_y(self, X: Any, y: Any, accept_sparse: Any = None) -> tuple[Any, np.ndarray, bool]:
        """imbalanced-learn's target check (a label-indicator y becomes labels), X kept as is.

        ``validate_data(skip_check_array=True)`` records ``n_features_in_`` and
        ``feature_names_in_`` without converting a mixed-type DataFrame to numbers.
        """
        X, y, binarize_y = check_fit_inputs(X, y, self.task_)
        validate_data(self, X, reset=True, skip_check_array=True)
        return X, y, binarize_y

    # -------------------------------------------------------------------------- fitting
    def _make_model(self, seed: int) -> Any:
        return make_gan(self, seed, task=self.task_)

    def fit(self, X: Any, y: Any, **params: Any) -> GANAugmenter:
        """Train the GAN (or load ``generator``) and work out how many rows to add.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : GANAugmenter
        """
        self._start(y)
        X, y = self._split_unlabeled(X, y)
        X, y, _ = self._check_X_y(X, y)
        self._fit(X, y)
        return self

    def _split_unlabeled(self, X: Any, y: Any) -> tuple[Any, Any]:
        """The labeled rows of ``(X, y)``; the unlabeled ones are kept for pretraining only."""
        if self.task_ != "classification":
            return X, y
        X, y, X_unlabeled = split_unlabeled(X, y, self.unlabeled_value)
        if X_unlabeled is not None:  # read (and dropped) by _fit
            self._X_unlabeled, self.n_unlabeled_ = X_unlabeled, n_rows(X_unlabeled)
        return X, y

    def _start(self, y: Any) -> None:
        """Validate the parameters and settle the task before anything reads ``y``."""
        self._validate_params()
        name = getattr(y, "name", None)
        self._target_name = name if isinstance(name, str) and name != TARGET_COLUMN else None
        generator_task = None
        if self.generator is not None:  # fit starts by loading the generator it samples from
            self.model_, generator_task = load_generator(self.generator)
        self.task_ = declared_task(self.task, generator_task)
        self.n_unlabeled_ = 0
        self._y_template = target_template(y)
        if y is None:
            check_table(np.zeros((2, 1)), None)  # the same error as for any other check
        if self.task_ == "classification":
            # before imbalanced-learn's check, to add the regression hint; rows marked unlabeled
            # (NaN marks missing labels) are not labels
            y_arr = np.asarray(y)
            labeled = y_arr[~unlabeled_rows(y_arr, self.unlabeled_value)] if y_arr.ndim == 1 else y
            check_labels(labeled)

    def _fit(self, X: Any, y: np.ndarray) -> Any:
        """Fit (or check the loaded) model on checked inputs; returns the table it models."""
        train_seed, self._sample_seed = fit_seeds(self.random_state)
        # the unlabeled rows serve this fit only: the fitted augmenter keeps no training rows
        X_unlabeled = self.__dict__.pop("_X_unlabeled", None)
        if self.task_ == "regression":
            data, labels = joint_table(X, y), None
            ratio = 1.0 if self.augment_ratio is None else self.augment_ratio
            self.sampling_strategy_ = OrderedDict(n_new=round(ratio * len(y)))
        else:
            data, labels = X, y
            self.classes_ = np.unique(y)
            strategy = check_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
            counts = dict(zip(*np.unique(y, return_counts=True)))
            self.sampling_strategy_ = grow(counts, strategy, self.augment_ratio)
        # before any training: rows fit_resample could not hold are refused now
        check_rows_in_memory(
            int(np.ceil(sum(self.sampling_strategy_.values()) * float(self.filter_ratio))),
            row_bytes(self.n_features_in_ + (self.task_ == "regression")),
            "rows to add (sampling_strategy, augment_ratio)",
            "lower augment_ratio or ask for fewer rows in sampling_strategy",
        )
        unlabeled = {} if X_unlabeled is None else {"X_unlabeled": X_unlabeled}
        if self.generator is None:
            self.model_ = self._make_model(train_seed).fit(data, labels, **unlabeled)
            if self.task_ == "classification":
                self.model_.target_name_ = getattr(self, "_target_name", None)
        else:
            check_reuse(self.model_.schema, data)  # same columns, kinds and scale
            if labels is not None:
                self.model_.class_index(self.classes_)  # unknown classes -> clear error
                if unlabeled:
                    check_marker_not_a_class(
                        self.unlabeled_value, self.model_.classes_, "the pretrained generator"
                    )
        return data

    def fit_resample(self, X: Any, y: Any, **params: Any) -> tuple[Any, Any]:
        """Fit, then return the original rows followed by the synthetic ones.

        Unlabeled rows (label ``unlabeled_value``) are used to fit the GAN but are *not*
        returned: the result is the labeled rows, in their order, then the synthetic rows.

        Classification goes through imbalanced-learn's ``fit_resample``: a label-indicator ``y``
        comes back as one, and ``X`` and ``y`` come back in the caller's containers (list,
        ndarray, DataFrame, Series).

        Parameters
        ----------
        X, y
            As in :meth:`fit`.

        Returns
        -------
        X_resampled : same container as X
        y_resampled : same container as y
        """
        self._start(y)
        if self.task_ == "classification":
            X, y = self._split_unlabeled(X, y)
            return super().fit_resample(X, y, **params)
        y_in = y
        X, y, _ = self._check_X_y(X, y)
        data = self._fit(X, y)
        X_new, y_new = self._draw(data, y, {0: self.sampling_strategy_["n_new"]})
        return concat_rows(X, X_new), concat_target(y_in, y, y_new)

    def _fit_resample(self, X: Any, y: np.ndarray, **params: Any) -> tuple[Any, np.ndarray]:
        """Classification: imbalanced-learn has checked the inputs and will restore containers."""
        data = self._fit(X, y)
        X_new, y_new = self._draw(data, y, {c: self.sampling_strategy_[c] for c in self.classes_})
        return concat_rows(X, X_new), np.concatenate([y, np.asarray(y_new).astype(y.dtype)])

    def _draw(self, data: Any, y: np.ndarray, wanted: dict[Any, int]) -> tuple[Any, Any]:
        """The synthetic rows of ``fit_resample`` (filtered when ``filter_ratio > 1``)."""
        classes = None if self.task_ == "regression" else self.classes_
        return draw_rows(self.model_, classes, wanted, self._sample_seed, self.filter_ratio, data, y)

    # ------------------------------------------------------------------------- sampling
    def sample(
        self, n: int, y: Any = None, random_state: Any = None, conditions: Any = None
    ) -> tuple[Any, Any]:
        """Draw ``n`` synthetic rows: ``n``, ``y``, ``random_state`` and ``conditions`` as in
        :func:`ganaug.core.protocol.sample_rows` (the same rows as the fitted generator's
        ``sample`` for the same arguments), but None for ``random_state`` means the augmenter's
        ``random_state``; a condition on the class column (``y``'s name at fit) sets ``y``.

        Returns
        -------
        X : DataFrame or ndarray
            In the container ``fit`` was given.
        y : Series or ndarray
            A Series (the name and dtype of the ``y`` given to ``fit``, the index of ``X``)
            when ``fit`` was given a Series, or, for an augmenter loaded from an artifact, when
            ``X`` is a DataFrame; an ndarray otherwise. So ``sample`` and ``fit_resample``
            return the same container kinds.
        """
        check_is_fitted(self, "model_")
        check_n(n)  # before the seed is drawn
        seed = seed_from(self.random_state if random_state is None else random_state)
        X_new, y_new = sample_rows(self.model_, n, y, seed, conditions)
        return X_new, as_target(y_new, getattr(self, "_y_template", None), X_new)

    def fitted_generator(self) -> RowGenerator:
        """The fitted generator (a ConditionalGAN, or the OnnxGenerator of ``generator``)."""
        check_is_fitted(self, "model_")
        return self.model_

    # ------------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted GAN as an artifact directory (JSON + safetensors, atomic)."""
        from ganaug.gan import artifact
        from ganaug.gan.artifact import storable
        from ganaug.gan.synthesizer import ConditionalGAN

        check_is_fitted(self, "model_")
        if not isinstance(self.model_, ConditionalGAN):
            raise ValueError(  # noqa: TRY004 - a ValueError as before
                "only a GAN trained by this augmenter can be saved (not an ONNX generator)"
            )
        params = {k: v for k, v in self.get_params().items() if k not in ("preset", "generator")}
        extra = {
            "task": self.task_,
            "augmenter_params": storable(params),
            # a preset name, or "custom" for a GANConfig (its values are in the artifact's config)
            "preset": self.preset if isinstance(self.preset, str) else "custom",
        }
        return artifact.save(self.model_, path, extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **params: Any) -> GANAugmenter:
        """An augmenter that samples from a saved artifact (``generator=path``), already fitted;
        ``params`` override the parameters stored with it."""
        from ganaug.gan import artifact

        model, extra = artifact.load(path)
        stored = {**extra.get("augmenter_params", {}), **params, "generator": str(path)}
        return cls.from_generator(model, **{k: v for k, v in stored.items() if k in cls._get_param_names()})

    @classmethod
    def from_generator(cls, model: RowGenerator, **params: Any) -> GANAugmenter:
        """An augmenter with ``params``, fitted to sample from the fitted generator ``model``:
        the one way to a fitted augmenter besides ``fit`` (:meth:`load` and the distributed
        trainer use it)."""
        aug = cls(**params)
        aug._validate_params()
        aug.model_ = model
        aug.task_ = declared_task(aug.task, model.task)
        if aug.task_ == "classification":
            aug.classes_ = np.asarray(model.classes_)
        aug.n_features_in_ = len(model.schema.columns) - (aug.task_ == "regression")
        aug.n_unlabeled_ = 0
        aug._sample_seed = fit_seeds(aug.random_state)[1]
        return aug

    def export_onnx(self, path: str | os.PathLike[str]) -> Path:
        """Export the fitted generator (with its decoding) to a self-describing ONNX file."""
        from ganaug.gan.export import export_onnx

        check_is_fitted(self, "model_")
        return export_onnx(self.model_, path, task=self.task_)

    def __sklearn_tags__(self):
        return input_tags(super().__sklearn_tags__())

