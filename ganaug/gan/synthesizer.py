"""The class-conditional GAN: networks plus the training loop, on top of the table codec."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ganaug.core.conditions import (
    compile_constraints,
    describe_constraints,
    generate_where,
)
from ganaug.core.exact import describe as describe_exact
from ganaug.core.labels import check_labels_present, class_index
from ganaug.core.limits import check_rows_in_memory, positive_int, row_bytes
from ganaug.core.noise import check_conditions, noise_batches, seed_from
from ganaug.core.protocol import sample_rows, target_column
from ganaug.core.schema import Schema, assemble
from ganaug.gan.callbacks import stage_record
from ganaug.gan.codec import TableCodec
from ganaug.gan.conv import image_shape
from ganaug.gan.decode import SamplingModule
from ganaug.gan.network_builder import build_networks
from ganaug.gan.parallel import Local, resolve_device
from ganaug.gan.presets import GANConfig, get_preset
from ganaug.gan.rng import local_draws
from ganaug.gan.row_sources import MemoryRows, RowSource
from ganaug.gan.selection import HOLDOUT_FRACTION, Holdout, choose_mixture
from ganaug.gan.stage_plan import stage_callbacks, step_budget
from ganaug.gan.training import AdversarialLoop, AdversarialSteps

#: ConditionalGAN's parameters that an estimator's ``gan_params`` may set (all but the task,
#: which the estimator settles, and random_state, which it derives)
PARAMETERS: tuple[str, ...] = (
    "preset",
    "epochs",
    "batch_size",
    "categorical_features",
    "device",
    "early_stopping",
    "validation_fraction",
    "patience",
    "time_budget",
    "verbose",
    "exact_structure",
    "constraints",
)


@dataclass(eq=False, repr=False)
class ConditionalGAN:
    """A class-conditional GAN for mixed tables and flattened images.

    Implements :class:`ganaug.core.protocol.RowGenerator`, as the exported
    :class:`ganaug.runtime.generator.OnnxGenerator` does.

    Parameters
    ----------
    preset : {"default", "classic", "conv"} or GANConfig, default="default"
        Hyperparameters (see :mod:`ganaug.gan.presets`).
    epochs : int, optional
        Overrides the preset's training length.
    batch_size : int, optional
        Overrides the preset's batch size.
    categorical_features : sequence of str or int, optional
        Extra columns to model as categorical.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train; ``auto`` uses CUDA when available.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the held-out score (see
        ``holdout_selection`` in :class:`ganaug.gan.presets.GANConfig`) has not improved for
        ``patience`` checks; the best generator is kept.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    patience : int, default=10
        Checks without improvement before stopping.
    time_budget : float, optional
        Seconds of adversarial training at most (overrides the preset's ``time_budget``).
    verbose : bool, default=False
        Show a progress bar.
    task : {"classification", "regression"}, default="classification"
        What the rows are for: ``"regression"`` when the last column of ``X`` is a target
        modelled jointly with the others (fit with ``y=None``); :meth:`sample` then returns
        that column as the labels, and an export records it.
    random_state : int, optional
        Seed; every random draw of training comes from ``torch.Generator`` objects seeded with
        it, so the global torch (CPU and CUDA) and numpy RNG states are neither read nor changed
        and fits in several threads give the rows they give one at a time. None: fresh entropy.
    exact_structure : bool, default=True
        Learn each numeric column's precision (decimals, integer steps, multiples) and the exact
        relations between columns (equal columns, sums and differences, a categorical column
        that determines another) from the training rows; sampled rows are rounded to that
        precision and derived columns are computed (:mod:`ganaug.core.exact`).
    constraints : sequence of str or dict, optional
        Rules every sampled row obeys: ``"end >= start"``, ``"amount in [0, limit]"``,
        ``"fixed city, zip"`` (:mod:`ganaug.core.conditions`). The training rows must obey them
        (a :class:`~ganaug.errors.ConstraintError` names the one they break).

    Attributes
    ----------
    config_ : GANConfig
        Effective hyperparameters.
    codec_ : TableCodec
        Fitted codec.
    classes_ : ndarray
        Class labels (a single ``None`` class when no labels were given).
    class_counts_ : ndarray
        Training rows per class.
    generator_, discriminator_ : torch.nn.Module
        The networks (the generator is left in eval mode).
    history_ : dict
        Mean ``generator`` and ``discriminator`` loss per epoch; with a hold-out, ``validation``
        scores (lower is better) at ``validation_steps`` (step 0 is the copula alone) and the
        ``selected_step`` whose generator was kept; with a mixture copula, ``copula_selection``
        (the mixture's held-out log-likelihood gain per row over the plain copula, classes
        weighing the same, and its standard error) and whether the mixture was kept
        (``copula_mixture``: when the gain exceeds two standard errors); ``exact``, the learned
        relations and constraints, one line each. ``stage``: which stage produced the rows,
        ``"copula"`` (fine-tuning skipped, stopped or not kept) or ``"adversarial"``, and
        ``stage_reason``, why. With the default's gate (``GANConfig.adversarial_gate``),
        ``attainable_gain``: how much better than the copula the training rows themselves score
        on the held-out rows (relative); the stage runs only when that clears the selection margin
        by two standard errors (:class:`ganaug.gan.callbacks.StageGate`).
    target_name_ : str or None
        Name of the class column (``y``'s name when it has one).
    """

    # Parameters, declared once: the dataclass's __init__ stores exactly these, as scikit-learn
    # estimators do. eq/repr=False: a fitted model compares, hashes and prints as an object.
    preset: str | GANConfig = "default"
    _: KW_ONLY
    epochs: int | None = None
    batch_size: int | None = None
    categorical_features: Sequence[str | int] | None = None
    device: str = "auto"
    early_stopping: bool = False
    validation_fraction: float = 0.1
    patience: int = 10
    time_budget: float | None = None
    verbose: bool = False
    task: str = "classification"
    random_state: int | None = None
    exact_structure: bool = True
    constraints: Sequence[Any] | None = None

    # ------------------------------------------------------------------------------ config
    def _config(self) -> GANConfig:
        base = self.preset if isinstance(self.preset, GANConfig) else get_preset(self.preset)
        for name in ("epochs", "batch_size"):
            if getattr(self, name) is not None:
                positive_int(getattr(self, name), name)
        if self.time_budget is not None and not (
            isinstance(self.time_budget, (int, float)) and self.time_budget > 0
        ):
            raise ValueError(f"time_budget must be a positive number of seconds; got {self.time_budget!r}")
        if self.task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression'; got {self.task!r}")
        return base.with_overrides(
            epochs=self.epochs, batch_size=self.batch_size, time_budget=self.time_budget
        )

    def _build(self, n_classes: int) -> None:
        self.head_, self.generator_, self.discriminator_ = build_networks(
            self.config_, self.codec_, n_classes
        )

    # ------------------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, X_unlabeled: Any = None) -> ConditionalGAN:
        """Train on a table, conditioned on class labels ``y`` (or unconditionally).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,), optional
            Class labels to condition on.
        X_unlabeled : DataFrame or array-like, optional
            Rows of the same columns without labels (semi-supervised pretraining, needs ``y``):
            the codec's marginals are fitted on every row; everything else on the labeled
            rows (the measured alternatives: benchmarks/README.md). ``class_counts_`` (the
            sampling proportions) count labeled rows only.

        Returns
        -------
        self : ConditionalGAN
        """
        self.config_ = self._config()
        device = resolve_device(self.device)
        if X_unlabeled is not None and y is None:
            raise ValueError("X_unlabeled needs the labels y of X (semi-supervised fitting)")
        self.codec_ = TableCodec(
            categorical_features=self.categorical_features,
            numeric_encoding=self.config_.numeric_encoding,  # type: ignore[arg-type]
            exact=bool(self.exact_structure),
        ).fit(X if X_unlabeled is None else _stack_rows(X, X_unlabeled))
        schema = self.codec_.schema_
        if self.constraints:
            schema.constraints = compile_constraints(
                schema, self.codec_.check_columns(X), list(self.constraints)
            )
        self.target_name_ = getattr(y, "name", None) if isinstance(getattr(y, "name", None), str) else None
        if self.config_.architecture == "conv":  # a typed error before any encoding or training
            shape = image_shape(self.codec_, self.config_.image_shape)
            self.config_ = self.config_.with_overrides(image_shape=shape)
        Z = self.codec_.encode(X)
        if y is None:
            self.classes_ = np.array([None], dtype=object)
            y_idx = np.zeros(len(Z), dtype=np.int64)
        else:
            y_arr = np.asarray(y)
            if y_arr.ndim != 1 or len(y_arr) != len(Z):
                raise ValueError(
                    f"y must be 1-dimensional with one label per row of X ({len(Z)}); got shape "
                    f"{y_arr.shape}"
                )
            check_labels_present(y_arr)
            self.classes_, y_idx = np.unique(y_arr, return_inverse=True)
        self.class_counts_ = np.bincount(y_idx, minlength=len(self.classes_))
        return self._fit_rows(MemoryRows(Z, y_idx), device)

    def _fit_rows(self, rows: RowSource, device: torch.device, comm: Local | None = None) -> ConditionalGAN:
        """Build and train the networks from encoded rows, once the codec and classes are set.

        ``comm`` makes this one rank of a distributed job (:mod:`ganaug.distributed`): the rows
        are then this rank's shard, and every rank ends with the same networks.
        """
        comm = comm or Local()
        width = self.codec_.output_dim
        if self.config_.copula and self.config_.noise_dim < width + 1:
            # the copula base maps noise linearly onto every encoded column, and one more
            # noise column draws the mixture component
            self.config_ = self.config_.with_overrides(noise_dim=int(width) + 1)
        seed = seed_from(self.random_state)
        self.seed_ = seed
        # every draw of the fit comes from generators seeded here: the global torch RNG (CPU
        # and CUDA) is neither read nor changed, so fits in threads do not race (gan/rng.py);
        # ranks draw different dropout and Gumbel noise, DDP copies rank 0's initial weights
        init = torch.Generator().manual_seed(seed + comm.rank)
        with local_draws(init):
            self._build(len(self.classes_))
        self._train(rows, device, seed, comm, init)
        self.generator_.to("cpu").eval()
        self.discriminator_.to("cpu").eval()
        return self

    def _train(
        self, rows: RowSource, device: torch.device, seed: int, comm: Local, init: torch.Generator
    ) -> None:
        """Pretrain (the closed-form copula), then run the adversarial stage.

        ``init`` (CPU, seeded) has drawn the networks' weights and draws the rest of what a
        global RNG seeded with ``seed`` drew: the auxiliary classifier, dropout masks and Gumbel
        noise (on a CUDA device, a generator of its own seeded with ``seed``)."""
        cfg = self.config_
        rng = np.random.default_rng(seed + comm.rank)
        Z_val, y_val = np.empty((0, self.codec_.output_dim), np.float32), np.empty(0, np.int64)
        if self.early_stopping:
            Z_val, y_val = rows.hold_out(self.validation_fraction, True, rng)
        elif cfg.holdout_selection:
            Z_val, y_val = rows.hold_out(HOLDOUT_FRACTION, False, rng)
        # in a distributed job a rank whose shard spares no row still joins the scoring
        selecting = comm.any(len(y_val) > 0)
        n_classes = len(self.classes_)
        G, D, spans = self.generator_.to(device), self.discriminator_.to(device), self.codec_.spans_
        history: dict[str, Any] = {}
        if cfg.copula:
            # the closed-form pretraining; candidate zero is the copula of the rows the
            # fine-tuning sees (all of them unless some are held out)
            rows.fit_copula(G, spans, n_classes, held_out=False)
            G.to(device)
            if selecting and cfg.copula_components > 1:
                copula_selection = choose_mixture(
                    G, rows, Z_val, y_val, comm, device, self.codec_.spans_, cfg.copula_components
                )
                if copula_selection:
                    history["copula_selection"] = copula_selection
                    history["copula_mixture"] = G.max_components > 1
        batch, steps_per_epoch, total_steps = step_budget(cfg, rows.start(device, n_classes))
        steps = AdversarialSteps(
            cfg, G, D, spans, rows, batch, n_classes, self.codec_.output_dim, device, comm, init, seed
        )
        score, holdout = None, None
        if selecting:
            holdout = Holdout(Z_val, y_val, device, seed) if len(y_val) else None

            def score() -> float:
                # each rank scores its own held-out rows; every rank gets the mean (same decisions)
                local = holdout.score(G, spans, cfg) if holdout is not None else 0.0
                return comm.mean(local, weight=float(holdout is not None))

        gate = None
        if (selecting and cfg.copula and cfg.adversarial_gate and holdout is not None
                and comm.world_size == 1 and isinstance(rows, MemoryRows)):
            # the gate needs the training rows: in memory, on one process (elsewhere the stage
            # runs, validated by the selection as before)
            train = rows.train_mask

            def attainable() -> tuple[float, float]:
                return holdout.attainable_gain(G, spans, cfg, rows.Z[train], rows.y_idx[train])

            # a first checkpoint after about what the copula cost: one pass over the rows
            gate = (attainable, steps_per_epoch)
        loop = AdversarialLoop(
            steps, G, total_steps, steps_per_epoch,
            stage_callbacks(cfg, selecting, total_steps, comm, gate, self.early_stopping,
                            self.patience, self.verbose),
            score, history,
        )
        self.history_ = loop.run()
        self.history_["exact"] = describe_exact(self.codec_.schema_) + describe_constraints(
            self.codec_.schema_.constraints
        )
        self.history_.update(stage_record(cfg.copula, selecting, self.history_, loop.state.stop_reason))
        if selecting and cfg.copula and not (cfg.component_conditioning and self.history_.get("selected_step")):
            # the kept residual sits on the copula of every row, held-out ones included (not
            # where a kept residual reads the components: a refit would renumber them)
            rows.fit_copula(G, spans, n_classes, held_out=True)
        self.n_epochs_ = len(self.history_["generator"])
        self.n_steps_ = loop.state.step

    # --------------------------------------------------------------------------- sampling
    def sampling_module(self) -> SamplingModule:
        """The eval-mode ``(noise, condition) -> (numeric, codes)`` module (what ONNX exports)."""
        self._check_fitted()
        module = SamplingModule(self.generator_, self.head_)
        return module.eval()

    @property
    def sampling_noise_dim(self) -> int:
        """Noise columns per sampled row: the generator's, then the decode head's draws."""
        self._check_fitted()
        return int(self.config_.noise_dim + self.head_.n_draws)

    @property
    def row_bytes(self) -> int:
        """Memory one sampled row takes, about (:func:`ganaug.core.limits.row_bytes`)."""
        return row_bytes(len(self.codec_.schema_.columns))

    @property
    def target(self) -> Any:
        """The class column's name, or the jointly modelled target column (regression)."""
        if self.task == "regression":
            return target_column(self.schema)
        return getattr(self, "target_name_", None)  # None for models stored before it was kept

    @property
    def schema(self) -> Schema:
        """Columns, dtypes, categories and missing-value rates of the training table."""
        self._check_fitted()
        return self.codec_.schema_

    def _check_fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise ValueError("this ConditionalGAN is not fitted yet: call fit first")

    def class_index(self, labels: Any) -> np.ndarray:
        """Map class labels to condition indices; unknown labels are a ValueError naming them."""
        return class_index(labels, self.classes_)

    def generate(
        self, conditions: np.ndarray, random_state: Any = None, batch_size: int = 65536,
        where: Any = None,
    ) -> Any:
        """Generate one row per entry of ``conditions`` (class indices), decoded to the input format.

        With ``where`` (conditions on columns, see :meth:`sample`) or constraints, rows are drawn
        by rejection (:func:`ganaug.core.conditions.generate_where`).
        """
        self._check_fitted()
        conditions = check_conditions(conditions, len(self.classes_))
        check_rows_in_memory(len(conditions), self.row_bytes)
        module = self.sampling_module()
        seed = seed_from(random_state)

        def draw(cond: np.ndarray, offset: int) -> Any:
            numeric, codes = [], []
            with torch.no_grad():
                for noise, part in noise_batches(cond, module.noise_dim, seed, batch_size, offset):
                    num, cat = module(torch.from_numpy(noise), torch.from_numpy(part))
                    numeric.append(num.numpy())
                    codes.append(cat.numpy())
            if not numeric:  # zero rows requested
                return assemble(self.codec_.schema_, np.empty((0, 0)), np.empty((0, 0), dtype=np.int64))
            return assemble(self.codec_.schema_, np.concatenate(numeric), np.concatenate(codes))

        return generate_where(draw, conditions, self.codec_.schema_, where)

    def sample(
        self, n: int, y: Any = None, random_state: Any = None, conditions: Any = None
    ) -> tuple[Any, np.ndarray]:
        """``n`` rows and their labels: :func:`ganaug.core.protocol.sample_rows` (the parameters,
        column ``conditions``, the returns and the seed contract shared by every generator)."""
        self._check_fitted()
        return sample_rows(self, n, y, random_state, conditions)


def _stack_rows(X: Any, X_more: Any) -> Any:
    """The rows of ``X`` then those of ``X_more``, in X's container."""
    if isinstance(X, pd.DataFrame):
        return pd.concat([X, pd.DataFrame(X_more, columns=X.columns)], ignore_index=True)
    return np.concatenate([np.asarray(X), np.asarray(X_more)])
