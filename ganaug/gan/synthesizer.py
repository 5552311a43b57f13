"""The class-conditional GAN: networks plus the training loop, on top of the table codec."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ganaug.core.labels import check_labels_present, class_index
from ganaug.core.noise import check_conditions, noise_batches, plan_conditions, seed_from
from ganaug.core.schema import assemble
from ganaug.gan.codec import TableCodec
from ganaug.gan.conv import ConvCritic, ConvGenerator, image_shape
from ganaug.gan.decode import DecodeHead, SamplingModule
from ganaug.gan.networks import Discriminator, Generator, activate
from ganaug.gan.parallel import Local
from ganaug.gan.presets import GANConfig, get_preset
from ganaug.gan.rng import dropout_generator, local_draws
from ganaug.gan.rows import MemoryRows, RowSource, Unlabeled
from ganaug.gan.selection import HOLDOUT_FRACTION, SELECTION_MARGIN, Holdout, mixture_gain, snapshot


def resolve_device(device: str) -> torch.device:
    """Map ``"auto"|"cpu"|"cuda"|"cuda:N"`` to a torch device, with a clear error."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda'; got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} requested but CUDA is not available")
        return torch.device(device)
    raise ValueError(f"device must be 'auto', 'cpu' or 'cuda'; got {device!r}")


class ConditionalGAN:
    """A class-conditional GAN for mixed tables and flattened images.

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
    random_state : int, optional
        Seed; every random draw of training comes from ``torch.Generator`` objects seeded with
        it, so the global torch (CPU and CUDA) and numpy RNG states are neither read nor changed
        and fits in several threads give the rows they give one at a time. None: fresh entropy.

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
        ``selected_step`` whose generator was kept; with a mixture copula,
        ``copula_selection`` (the mixture's held-out log-likelihood gain per row over the plain
        copula, classes weighing the same, and its standard error) and whether the mixture was
        kept (``copula_mixture``: when the gain exceeds two standard errors).
    """

    def __init__(
        self,
        preset: str | GANConfig = "default",
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        categorical_features: Sequence[str | int] | None = None,
        device: str = "auto",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        time_budget: float | None = None,
        verbose: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.preset = preset
        self.epochs = epochs
        self.batch_size = batch_size
        self.categorical_features = categorical_features
        self.device = device
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.time_budget = time_budget
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------------------ config
    def _config(self) -> GANConfig:
        base = self.preset if isinstance(self.preset, GANConfig) else get_preset(self.preset)
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1
            ):
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if self.time_budget is not None and not (
            isinstance(self.time_budget, (int, float)) and self.time_budget > 0
        ):
            raise ValueError(f"time_budget must be a positive number of seconds; got {self.time_budget!r}")
        return base.with_overrides(
            epochs=self.epochs, batch_size=self.batch_size, time_budget=self.time_budget
        )

    def _build(self, n_classes: int) -> None:
        cfg = self.config_
        dim = self.codec_.output_dim
        self.head_ = DecodeHead(self.codec_, output=cfg.output)
        if cfg.architecture == "conv":
            shape = cfg.image_shape or image_shape(self.codec_, None)
            self.generator_ = ConvGenerator(cfg.noise_dim, n_classes, cfg.generator_hidden, shape)
            self.discriminator_ = ConvCritic(
                n_classes, cfg.discriminator_hidden, shape, pac=cfg.pac, sigmoid=cfg.loss == "bce"
            )
            return
        self.generator_ = Generator(
            cfg.noise_dim,
            n_classes,
            dim,
            cfg.generator_hidden,
            cfg.architecture,
            cfg.copula,
            cfg.copula_components,
            cfg.copula_covariance,
            cfg.copula_component_rows,
            cfg.copula_category_weight,
        )
        self.discriminator_ = Discriminator(
            dim,
            n_classes,
            cfg.discriminator_hidden,
            pac=cfg.pac,
            dropout=cfg.dropout,
            activation=cfg.d_activation,
            sigmoid=cfg.loss == "bce",
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
            the codec's marginals are fitted on every row. ``class_counts_`` (the sampling
            proportions) count labeled rows only. Options of the config, off by default since
            none lifted balanced accuracy over the codec alone (README, "Unlabeled rows"):
            ``unlabeled_copula="confident"`` lets unlabeled rows whose class posterior under an
            EM-fitted class model is confident join that class for the copula and the
            adversarial stage (:mod:`ganaug.gan.semi`; ``n_pseudo_labeled_`` says how many
            did), ``"soft"`` also puts every unlabeled row in each class's copula by its
            posterior, ``"pooled"`` only in the shared correlation structure;
            ``unconditional_weight`` adds an adversarial stage on every row judged with no
            class.

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
        ).fit(X if X_unlabeled is None else _stack_rows(X, X_unlabeled))
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
        self.n_pseudo_labeled_ = 0
        unlabeled = None
        if X_unlabeled is not None:
            from ganaug.gan.semi import class_posteriors, confident_labels

            cfg, n_classes = self.config_, len(self.classes_)
            # the training loop needs the unlabeled rows themselves for weighted copula rows and
            # the unconditional stage; the EM class model runs only where something reads it
            # (by default, "none", the unlabeled rows have fitted the codec and are done)
            uses_rows = cfg.unlabeled_copula in ("soft", "pooled") or cfg.unconditional_weight > 0
            if cfg.unlabeled_copula != "none" or uses_rows:
                Z_unlabeled = self.codec_.encode(X_unlabeled)
                posteriors = (
                    class_posteriors(Z, y_idx, Z_unlabeled, n_classes) if len(Z_unlabeled)
                    else np.empty((0, n_classes))
                )
                guess = confident_labels(posteriors)
                # "none" and "pooled": class conditioning from the labeled rows only
                keep = (guess >= 0) & (cfg.unlabeled_copula in ("confident", "soft"))
                Z, y_idx = np.concatenate([Z, Z_unlabeled[keep]]), np.concatenate([y_idx, guess[keep]])
                self.n_pseudo_labeled_ = int(keep.sum())
                if uses_rows:
                    unlabeled = Unlabeled(Z_unlabeled, posteriors, keep, copula=cfg.unlabeled_copula)
        return self._fit_rows(MemoryRows(Z, y_idx, unlabeled=unlabeled), device)

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
        """Train; ``init`` (CPU, seeded) has drawn the networks' weights and draws the rest of
        what a global RNG seeded with ``seed`` drew: the auxiliary classifier, dropout masks
        and Gumbel noise (on a CUDA device, a generator of its own seeded with ``seed``)."""
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
        copula_selection: dict[str, float] = {}
        if cfg.copula:
            # the closed-form pretraining; candidate zero is the copula of the rows the
            # fine-tuning sees (all of them unless some are held out)
            rows.fit_copula(G, spans, n_classes, held_out=False)
            G.to(device)
            if selecting and cfg.copula_components > 1:
                copula_selection = self._choose_mixture(G, rows, Z_val, y_val, comm, device)
        n_train = rows.start(device, n_classes)
        G_ddp, D_ddp = comm.wrap(G), comm.wrap(D)

        batch = max(cfg.pac, math.ceil(min(cfg.batch_size, max(n_train, cfg.pac)) / cfg.pac) * cfg.pac)
        steps_per_epoch = max(1, math.ceil(n_train / batch))
        if cfg.epochs:
            total_steps = cfg.epochs * steps_per_epoch
        else:
            wanted = max(cfg.target_steps, math.ceil(cfg.target_passes * steps_per_epoch))
            total_steps = min(wanted, cfg.max_steps, cfg.max_epochs * steps_per_epoch)
        epochs = math.ceil(total_steps / steps_per_epoch)
        # on a GPU one fused kernel per optimiser step: a step of these small networks is bound by
        # kernel launches there (on the CPU the default keeps the rows of earlier versions)
        fused = {"fused": True} if device.type == "cuda" else {}
        opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas, weight_decay=cfg.weight_decay, **fused)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas, weight_decay=cfg.weight_decay, **fused)
        bce = nn.BCELoss()
        # Auxiliary classifier (as in AC-GAN): trained on real rows, it tells the generator when a
        # row generated for class c does not look like class c, a direct conditioning signal
        # that the critic alone gives only weakly when a class has a few dozen rows.
        aux = None
        if cfg.aux_weight > 0 and n_classes > 1:
            width = cfg.discriminator_hidden[0]
            with local_draws(init):
                aux = nn.Sequential(
                    nn.Linear(self.codec_.output_dim, width),
                    nn.LeakyReLU(0.2),
                    nn.Linear(width, n_classes),
                ).to(device)
            aux = comm.wrap(aux)
            opt_c = torch.optim.Adam(aux.parameters(), lr=cfg.lr_d, betas=cfg.betas, **fused)
            cross_entropy = nn.CrossEntropyLoss()
        gen = torch.Generator(device=device).manual_seed(seed + comm.rank)
        draws = (
            init if device.type == "cpu"
            else torch.Generator(device=device).manual_seed(seed + comm.rank)
        )

        def draw_real() -> tuple[torch.Tensor, torch.Tensor]:
            return rows.draw(batch, gen, uniform=cfg.class_sampling == "uniform")

        def fake(cond: torch.Tensor) -> torch.Tensor:
            noise = torch.randn(len(cond), cfg.noise_dim, generator=gen, device=device)
            return activate(G_ddp(noise, cond), spans, cfg.output, cfg.tau, generator=draws)

        # semi-supervised: an unconditional stage on every row, labeled or not, next to the
        # conditional one on the labeled rows. The critic judges it with no class (a zero
        # condition); generated rows take classes from the rows' posteriors, so the generated
        # class mix is the data's and the stage compares like with like: all rows to all rows.
        every_row = (
            rows if cfg.unconditional_weight > 0 and isinstance(rows, MemoryRows)
            and rows.unlabeled is not None else None
        )
        no_class = torch.zeros(batch, n_classes, device=device)

        history: dict[str, Any] = {"generator": [], "discriminator": []}
        if copula_selection:
            history["copula_selection"] = copula_selection
            history["copula_mixture"] = G.max_components > 1
        holdout = Holdout(Z_val, y_val, device, seed) if len(y_val) else None

        def holdout_score() -> float:
            # each rank scores its own held-out rows; every rank gets the mean (same decisions)
            local = holdout.score(G, spans, cfg) if holdout is not None else 0.0
            return comm.mean(local, weight=float(holdout is not None))

        if selecting:
            history["validation"] = [holdout_score()]
            history["validation_steps"] = [0]
        zero_score = history["validation"][0] if selecting else math.inf
        best = (zero_score, snapshot(G), 0)
        bad_checks = 0
        check_every = max(1, total_steps // 10)
        deadline = math.inf if cfg.time_budget is None else time.monotonic() + cfg.time_budget
        progress = _progress(self.verbose and comm.rank == 0, epochs)
        step = 0
        G.train()
        D.train()
        with progress, dropout_generator(D, draws):
            task = progress.add_task("pretraining GAN", total=epochs)
            for _ in range(epochs):
                # losses summed on the device: one host sync per epoch, not two per step (GPU)
                g_sum = d_sum = torch.zeros((), device=device)
                done = 0
                stop = False
                for _ in range(min(steps_per_epoch, total_steps - step)):
                    real, cond = draw_real()
                    fake_rows = fake(cond).detach()
                    d_loss = self._critic_loss(D_ddp, real, fake_rows, cond, gen, bce)
                    if every_row is not None:
                        real_u, cond_u = every_row.draw_unconditional(batch, gen)
                        fake_u = fake(cond_u).detach()
                        d_loss = d_loss + cfg.unconditional_weight * self._critic_loss(
                            D_ddp, real_u, fake_u, no_class, gen, bce)
                    opt_d.zero_grad(set_to_none=True)
                    d_loss.backward()
                    opt_d.step()

                    if aux is not None:
                        c_loss = cross_entropy(aux(real), cond)
                        opt_c.zero_grad(set_to_none=True)
                        c_loss.backward()
                        opt_c.step()

                    generated = fake(cond)
                    score = D_ddp(generated, cond)
                    g_loss = bce(score, torch.ones_like(score)) if cfg.loss == "bce" else -score.mean()
                    if aux is not None:
                        g_loss = g_loss + cfg.aux_weight * cross_entropy(aux(generated), cond)
                    if every_row is not None:
                        score_u = D_ddp(fake(cond_u), no_class)
                        g_u = bce(score_u, torch.ones_like(score_u)) if cfg.loss == "bce" else -score_u.mean()
                        g_loss = g_loss + cfg.unconditional_weight * g_u
                    opt_g.zero_grad(set_to_none=True)
                    g_loss.backward()
                    opt_g.step()
                    g_sum = g_sum + g_loss.detach()
                    d_sum = d_sum + d_loss.detach()
                    step += 1
                    done += 1
                    out_of_time = comm.any(time.monotonic() > deadline) if deadline < math.inf else False
                    if selecting and (step % check_every == 0 or step == total_steps or out_of_time):
                        score_v = holdout_score()
                        history["validation"].append(score_v)
                        history["validation_steps"].append(step)
                        # a checkpoint must beat the copula by a clear margin, not by noise
                        if score_v < best[0] - 1e-6 and score_v < zero_score * (1 - SELECTION_MARGIN):
                            best = (score_v, snapshot(G), step)
                            bad_checks = 0
                        else:
                            bad_checks += 1
                            stop = self.early_stopping and bad_checks >= self.patience
                    if out_of_time or stop:
                        stop = True
                        break
                history["generator"].append(g_sum.item() / max(done, 1))
                history["discriminator"].append(d_sum.item() / max(done, 1))
                progress.update(task, advance=1, description=f"pretraining GAN  G {history['generator'][-1]:+.3f}  D {history['discriminator'][-1]:+.3f}")
                if stop or step >= total_steps:
                    break
        if selecting:
            G.load_state_dict(best[1])
            history["selected_step"] = best[2]
            if cfg.copula:
                # the kept residual sits on the copula of every row, held-out ones included
                rows.fit_copula(G, spans, n_classes, held_out=True)
        self.history_ = history
        self.n_epochs_ = len(history["generator"])
        self.n_steps_ = step

    def _choose_mixture(
        self, G: Generator, rows: RowSource, Z_val: np.ndarray, y_val: np.ndarray, comm: Local,
        device: torch.device,
    ) -> dict[str, float]:
        """Keep ``G``'s mixture copula only when it predicts the held-out rows better than the
        plain copula by two standard errors (with few rows per component a mixture fits noise);
        otherwise refit the plain copula. Sets ``G.max_components`` for the final refit on every
        row, so a mixture never enters unvalidated. Returns the gain and its standard error
        (empty when no class got a second component, or the rows are only statistics)."""
        n_classes, spans = len(self.classes_), self.codec_.spans_
        fitted = bool((G.component_cdf[:, 0] < 1).any())  # a class got a second component
        if not (len(y_val) and comm.world_size == 1 and fitted):
            G.max_components = 1
            return {}
        Z_t, y_t = torch.from_numpy(Z_val), torch.from_numpy(y_val)
        mixture, mixture_state = G.copula_log_likelihood(Z_t, y_t), snapshot(G)
        G.max_components = 1
        rows.fit_copula(G, spans, n_classes, held_out=False)
        G.to(device)
        gain, error = mixture_gain(mixture, G.copula_log_likelihood(Z_t, y_t), y_t)
        if gain > 2 * error:
            G.load_state_dict(mixture_state)
            G.max_components = self.config_.copula_components
        return {"log_likelihood_gain": gain, "standard_error": error}

    def _critic_loss(
        self, D: nn.Module, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor,
        gen: torch.Generator, bce: nn.Module,
    ) -> torch.Tensor:
        """The critic's loss on a real and a generated batch under ``cond`` (class indices, or
        a float condition matrix): BCE, or the WGAN-GP loss with its gradient penalty."""
        if self.config_.loss == "bce":
            d_real, d_fake = D(real, cond), D(fake, cond)
            return bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
        loss = D(fake, cond).mean() - D(real, cond).mean()
        return loss + self.config_.gp_lambda * self._gradient_penalty(D, real, fake, cond, gen)

    def _gradient_penalty(self, D: nn.Module, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        pac = self.config_.pac
        alpha = torch.rand(len(real) // pac, 1, 1, generator=gen, device=real.device)
        alpha = alpha.expand(-1, pac, real.shape[1]).reshape(real.shape)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        score = D(mixed, cond)
        grad = torch.autograd.grad(score.sum(), mixed, create_graph=True)[0]
        grad = grad.reshape(-1, pac * real.shape[1])
        return ((grad.norm(2, dim=1) - 1) ** 2).mean()

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

    def _check_fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise ValueError("this ConditionalGAN is not fitted yet: call fit first")

    def class_index(self, labels: Any) -> np.ndarray:
        """Map class labels to condition indices; unknown labels are a ValueError naming them."""
        return class_index(labels, self.classes_)

    def generate(self, conditions: np.ndarray, random_state: Any = None, batch_size: int = 65536) -> Any:
        """Generate one row per entry of ``conditions`` (class indices), decoded to the input format."""
        self._check_fitted()
        conditions = check_conditions(conditions, len(self.classes_))
        module = self.sampling_module()
        seed = seed_from(random_state)
        numeric, codes = [], []
        with torch.no_grad():
            for noise, cond in noise_batches(conditions, module.noise_dim, seed, batch_size):
                num, cat = module(torch.from_numpy(noise), torch.from_numpy(cond))
                numeric.append(num.numpy())
                codes.append(cat.numpy())
        if not numeric:  # zero rows requested
            return assemble(self.codec_.schema_, np.empty((0, 0)), np.empty((0, 0), dtype=np.int64))
        return assemble(self.codec_.schema_, np.concatenate(numeric), np.concatenate(codes))

    def sample(self, n: int, y: Any = None, random_state: Any = None) -> tuple[Any, np.ndarray]:
        """Sample ``n`` rows.

        Parameters
        ----------
        n : int
            Number of rows (positive).
        y : label or array-like of labels, optional
            One label: all rows of that class. ``n`` labels: one row per label. None: classes in
            training proportions (exact counts by largest remainder).
        random_state : int, numpy Generator or RandomState, optional
            Seed of the noise. An int ``s`` gives row ``i`` the noise of row ``i`` of stream
            ``s`` (:func:`ganaug.core.noise.noise_rows`): ``GANAugmenter.sample``,
            ``ConditionalGAN.sample`` and ``OnnxGenerator.sample`` of one model give the same
            rows for the same ``(n, y, s)``. A Generator or RandomState gives one int seed drawn
            from it (advancing it); None a fresh one.

        Returns
        -------
        X : DataFrame or ndarray
            Rows in the training container and dtypes.
        y : ndarray
            Their class labels.
        """
        self._check_fitted()
        conditions = plan_conditions(n, y, self.class_counts_, self.class_index)
        X = self.generate(conditions, random_state=random_state)
        return X, self.classes_[conditions]


def _stack_rows(X: Any, X_more: Any) -> Any:
    """The rows of ``X`` then those of ``X_more``, in X's container."""
    if isinstance(X, pd.DataFrame):
        return pd.concat([X, pd.DataFrame(X_more, columns=X.columns)], ignore_index=True)
    return np.concatenate([np.asarray(X), np.asarray(X_more)])


def _progress(verbose: bool, total: int) -> Any:
    # a bar on a terminal, periodic log lines otherwise (ganaug --progress / GANAUG_PROGRESS)
    from ganaug.runtime.progress import make_progress

    return make_progress(verbose, unit="epochs")
