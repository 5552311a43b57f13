"""``GANAugmenter``: an imbalanced-learn over-sampler whose new rows come from a conditional GAN."""

from __future__ import annotations

import numbers
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy, check_target_type
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ganaug.core.conditions import split_class_condition
from ganaug.core.labels import TARGET_COLUMN
from ganaug.core.limits import check_rows_in_memory, row_bytes
from ganaug.core.noise import check_n, plan_conditions, seed_from
from ganaug.core.reuse import check_reuse
from ganaug.core.schema import split_target
from ganaug.gan.presets import PRESETS, GANConfig
from ganaug.learn._compat import HasMethods, Interval, StrOptions, safe_indexing
from ganaug.learn._inputs import (
    as_target,
    check_class_labels,
    check_labels,
    check_regression_target,
    check_table,
    concat_rows,
    concat_target,
    n_rows,
    target_template,
)
from ganaug.learn.semi import check_marker_not_a_class, check_semi_labels, unlabeled_rows
from ganaug.learn.strategy import grow


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
        marginals; more through ``GANConfig.unlabeled_copula`` and ``unconditional_weight``,
        off by default, see :meth:`ganaug.gan.synthesizer.ConditionalGAN.fit`), not in the counts:
        ``sampling_strategy`` and ``augment_ratio`` apply to the labeled rows, and
        ``fit_resample`` returns the labeled rows followed by the synthetic ones, *without* the
        unlabeled rows. Refused with :class:`ganaug.core.errors.LabelError`: no labeled row, a
        class with a single labeled row, the default ``-1`` next to a single other class (then
        ``-1`` is taken to be a class; pass None), a marker that is a class of ``generator``.
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
    }

    def __init__(
        self,
        *,
        sampling_strategy: Any = "auto",
        augment_ratio: float | None = None,
        preset: str | GANConfig = "default",
        epochs: int | None = None,
        batch_size: int | None = None,
        categorical_features: Sequence[str | int] | None = None,
        generator: str | os.PathLike[str] | None = None,
        device: str = "auto",
        early_stopping: bool = False,
        time_budget: float | None = None,
        filter_ratio: float = 1.0,
        verbose: bool = False,
        task: str = "auto",
        random_state: Any = None,
        unlabeled_value: Any = -1,
        exact_structure: bool = True,
        constraints: Sequence[Any] | None = None,
    ) -> None:
        super().__init__(sampling_strategy=sampling_strategy)
        self.augment_ratio = augment_ratio
        self.preset = preset
        self.epochs = epochs
        self.batch_size = batch_size
        self.categorical_features = categorical_features
        self.generator = generator
        self.device = device
        self.early_stopping = early_stopping
        self.time_budget = time_budget
        self.filter_ratio = filter_ratio
        self.verbose = verbose
        self.task = task
        self.random_state = random_state
        self.unlabeled_value = unlabeled_value
        self.exact_structure = exact_structure
        self.constraints = constraints

    # ----------------------------------------------------------------------- validation
    def _declared_task(self) -> str:
        """The task, from ``task`` or a pretrained generator; loads the generator once."""
        model, generator_task = self._load_generator() if self.generator is not None else (None, None)
        self._pretrained = model
        if self.task == "auto":  # a pretrained generator knows what it was trained for
            return generator_task or "classification"
        if generator_task is not None and generator_task != self.task:
            raise ValueError(
                f"task={self.task!r}, but the pretrained generator was trained for "
                f"{generator_task}: pass task={generator_task!r} or task='auto'"
            )
        return self.task

    def _check_X_y(self, X: Any, y: Any, accept_sparse: Any = None) -> tuple[Any, np.ndarray, bool]:
        """imbalanced-learn's target check (a label-indicator y becomes labels), X kept as is.

        ``validate_data(skip_check_array=True)`` records ``n_features_in_`` and
        ``feature_names_in_`` without converting a mixed-type DataFrame to numbers.
        """
        binarize_y = False
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 2 and y.shape[1] > 1:  # label-indicator -> labels (imbalanced-learn)
                y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = check_table(X, y)
        if self.task_ == "regression":
            check_regression_target(y)
        else:
            check_labels(y)
            check_class_labels(y)
        validate_data(self, X, reset=True, skip_check_array=True)
        return X, y, binarize_y

    # -------------------------------------------------------------------------- fitting
    def _make_model(self, seed: int) -> Any:
        from ganaug.learn.features import make_gan

        return make_gan(self, seed)

    def _joint(self, X: Any, y: np.ndarray) -> Any:
        """X with the regression target appended as the last column."""
        if isinstance(X, pd.DataFrame):
            if TARGET_COLUMN in X.columns:
                raise ValueError(f"X already has a column named {TARGET_COLUMN!r}")
            return X.assign(**{TARGET_COLUMN: y.astype(np.float64)})
        return np.column_stack([X.astype(np.float64), y.astype(np.float64)])

    def _load_generator(self) -> tuple[Any, str | None]:
        """The pretrained generator and the task it was trained for (None if it does not say)."""
        source = self.generator
        if hasattr(source, "sample") and not isinstance(source, (str, os.PathLike)):
            return source, getattr(source, "task", None)
        path = Path(source)
        if path.suffix == ".onnx":
            from ganaug.runtime import OnnxGenerator

            model = OnnxGenerator(path)
            return model, model.task
        from ganaug.gan import artifact

        model, extra = artifact.load(path)
        return model, extra.get("task")

    def _check_schema(self, model: Any, data: Any) -> None:
        """Same columns, of the same kinds (SchemaMismatchError), on a similar scale
        (ScaleShiftWarning): see :mod:`ganaug.core.reuse`."""
        schema = model.codec_.schema_ if hasattr(model, "codec_") else model.schema
        check_reuse(schema, data)

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
        """The labeled rows of ``(X, y)`` in their containers; the unlabeled rows of X are kept
        for pretraining (classification with a 1-D ``y`` only)."""
        y_arr = np.asarray(y) if y is not None else None
        if self.task_ != "classification" or y_arr is None or y_arr.ndim != 1:
            return X, y
        mask = unlabeled_rows(y_arr, self.unlabeled_value)
        check_semi_labels(y_arr, mask, self.unlabeled_value)
        if not mask.any():
            return X, y
        if n_rows(X) != len(y_arr):
            return X, y  # the shape check that follows reports it
        self._X_unlabeled = safe_indexing(X, np.flatnonzero(mask))
        self.n_unlabeled_ = int(mask.sum())
        labeled = np.flatnonzero(~mask)
        return safe_indexing(X, labeled), safe_indexing(y, labeled)

    def _start(self, y: Any) -> None:
        """Validate the parameters and settle the task before anything reads ``y``."""
        self._validate_params()
        name = getattr(y, "name", None)
        self._target_name = name if isinstance(name, str) and name != TARGET_COLUMN else None
        self.task_ = self._declared_task()
        self._X_unlabeled, self.n_unlabeled_ = None, 0
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
        """Fit (or load) the model on checked inputs; returns the table it models."""
        model = self._pretrained
        if self.random_state is None:  # fresh entropy: numpy's global RandomState stays untouched
            seeds = np.random.default_rng().integers(0, 2**31 - 1, size=2)
        else:
            seeds = check_random_state(self.random_state).randint(0, 2**31 - 1, size=2)
        train_seed, self._sample_seed = (int(s) for s in seeds)
        if self.task_ == "regression":
            data, labels = self._joint(X, y), None
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
        unlabeled = {} if self._X_unlabeled is None else {"X_unlabeled": self._X_unlabeled}
        if self.generator is None:
            self.model_ = self._make_model(train_seed).fit(data, labels, **unlabeled)
            if self.task_ == "classification":
                self.model_.target_name_ = getattr(self, "_target_name", None)
        else:
            self.model_ = model
            self._check_schema(self.model_, data)
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
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

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
        regression = self.task_ == "regression"
        factor = float(self.filter_ratio) if sum(wanted.values()) else 1.0
        drawn = {c: int(np.ceil(n * factor)) for c, n in wanted.items()}
        if regression:
            X_new = self.model_.generate(np.zeros(drawn[0], dtype=np.int64), random_state=self._sample_seed)
            y_new = None
        else:
            X_new, y_new = self._sample_classes(np.array(list(drawn.values())), self._sample_seed)
        if factor > 1.0:
            from ganaug.learn.filtering import RealismFilter

            keep = RealismFilter().fit(data, None if regression else y).select(X_new, y_new, wanted)
            X_new = X_new.iloc[keep] if isinstance(X_new, pd.DataFrame) else X_new[keep]
            y_new = None if regression else y_new[keep]
        if regression:
            X_new, y_new = self._split_target(X_new)
        return X_new, y_new

    # ------------------------------------------------------------------------- sampling
    def _sample_classes(self, counts: np.ndarray, seed: int) -> tuple[Any, np.ndarray]:
        labels = np.repeat(self.classes_, counts)
        conditions = self.model_.class_index(labels) if len(labels) else np.empty(0, np.int64)
        X_new = self.model_.generate(conditions, random_state=seed)
        return X_new, labels

    def _sample_regression(self, n: int, seed: int) -> tuple[Any, np.ndarray]:
        return self._split_target(self.model_.generate(np.zeros(n, dtype=np.int64), random_state=seed))

    def _row_bytes(self) -> int:
        """Memory one sampled row takes (a duck-typed generator may not say)."""
        return getattr(self.model_, "row_bytes", None) or row_bytes(self.n_features_in_ + 1)

    @staticmethod
    def _split_target(joint: Any) -> tuple[Any, np.ndarray]:
        return split_target(joint, TARGET_COLUMN)

    def sample(
        self, n: int, y: Any = None, random_state: Any = None, conditions: Any = None
    ) -> tuple[Any, Any]:
        """Draw ``n`` synthetic rows.

        Parameters
        ----------
        n : int
            Number of rows (positive).
        y : label or array-like of labels, optional
            Classification: one label (all rows of that class) or ``n`` labels; None samples
            classes in their training proportions. Must be None for regression.
        random_state : int, numpy Generator or RandomState, optional
            Seed of the noise. An int ``s`` gives row ``i`` the noise of row ``i`` of stream
            ``s`` (:func:`ganaug.core.noise.noise_rows`): ``GANAugmenter.sample``,
            ``ConditionalGAN.sample`` and ``OnnxGenerator.sample`` of one model give the same
            rows for the same ``(n, y, s)``. A Generator or RandomState gives one int seed drawn
            from it (advancing it); None a fresh one (None here means the augmenter's
            ``random_state``).
        conditions : dict, optional
            Column conditions: ``{"region": "north"}``, ``{"age": (30, 40)}`` (both ends
            included, None for an open end), ``{"income": None}`` (missing values), a list of
            levels. A condition on the class column (``y``'s name at fit) sets ``y``; the others
            are met by rejection from the model's rows, so the rows follow the model's
            conditional distribution; :class:`ganaug.errors.ConditionError` when a condition is
            too rare to meet.

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
        n = check_rows_in_memory(check_n(n), self._row_bytes())  # before any array of n rows
        seed = seed_from(self.random_state if random_state is None else random_state)
        if self.task_ == "regression":
            if y is not None:
                raise ValueError("y must be None when sampling a regression model")
            if conditions:
                joint = self.model_.generate(np.zeros(n, np.int64), random_state=seed, where=conditions)
                X_new, y_new = self._split_target(joint)
            else:
                X_new, y_new = self._sample_regression(int(n), seed)
        else:
            target = getattr(self.model_, "target_name_", None) or getattr(self.model_, "target", None)
            y, where = split_class_condition(conditions, y, target if isinstance(target, str) else None)
            plan = plan_conditions(
                n, y, self.model_.class_counts_, self.model_.class_index, self._row_bytes()
            )
            X_new = self.model_.generate(plan, random_state=seed, where=where)
            y_new = np.asarray(self.model_.classes_)[plan]
        return X_new, as_target(y_new, getattr(self, "_y_template", None), X_new)

    # ------------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted GAN as an artifact directory (JSON + safetensors, atomic)."""
        from ganaug.gan import artifact

        check_is_fitted(self, "model_")
        if not hasattr(self.model_, "generator_"):
            raise ValueError("only a GAN trained by this augmenter can be saved (not an ONNX generator)")
        params = {k: v for k, v in self.get_params().items() if k not in ("preset", "generator")}
        extra = {
            "task": self.task_,
            "augmenter_params": _jsonable(params),
            # a preset name, or "custom" for a GANConfig (its values are in the artifact's config)
            "preset": self.preset if isinstance(self.preset, str) else "custom",
        }
        return artifact.save(self.model_, path, extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **params: Any) -> GANAugmenter:
        """An augmenter that samples from a saved artifact (``generator=path``), already fitted."""
        from ganaug.gan import artifact

        model, extra = artifact.load(path)
        stored = dict(extra.get("augmenter_params", {}))
        stored.update(params)
        stored = {k: v for k, v in stored.items() if k in cls._get_param_names()}
        aug = cls(**{**stored, "generator": str(path)})
        aug.model_ = model
        aug.task_ = extra.get("task", "classification")
        if aug.task_ == "classification":
            aug.classes_ = np.asarray(model.classes_)
        aug.n_features_in_ = len(model.codec_.schema_.columns) - (aug.task_ == "regression")
        return aug

    def export_onnx(self, path: str | os.PathLike[str]) -> Path:
        """Export the fitted generator (with its decoding) to a self-describing ONNX file."""
        from ganaug.gan.export import export_onnx

        check_is_fitted(self, "model_")
        return export_onnx(self.model_, path, task=self.task_)

    def __sklearn_tags__(self):
        from ganaug.learn.features import input_tags

        return input_tags(super().__sklearn_tags__())


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if v is None or isinstance(v, (str, bool, int, float)):
            out[k] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(i, (str, int, float, bool)) for i in v):
            out[k] = list(v)
        elif isinstance(v, dict) and all(isinstance(i, (str, int, float, bool)) for i in v.values()):
            out[k] = {str(kk): vv for kk, vv in v.items()}
    return out
