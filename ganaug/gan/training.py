"""The adversarial stage of :meth:`ConditionalGAN.fit`: named steps run by a loop that callbacks steer.

:class:`AdversarialSteps` holds the networks and optimisers and does one critic step (with the
auxiliary classifier's update on the same real batch) and one generator step.
:class:`AdversarialLoop` runs them for a number of optimiser steps grouped in epochs, takes
checkpoints (held-out scores) and calls its :class:`Callback` objects at each point; the
callbacks (:mod:`ganaug.gan.callbacks`) decide which generator is kept, when to stop early,
and show progress. A callback that stops the stage sets ``loop.state.stop`` (and may say why in
``loop.state.stop_reason`` or ``loop.history``); the loop takes a last checkpoint before it
stops, so selection sees the generator it stops with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch
from torch import nn

from ganaug.gan.copula import nearest_component
from ganaug.gan.networks import activate
from ganaug.gan.parallel import Local
from ganaug.gan.presets import GANConfig
from ganaug.gan.rng import dropout_generator, local_draws
from ganaug.gan.row_sources import RowSource


class AdversarialSteps:
    """One critic step and one generator step of the adversarial stage.

    Every random draw comes from ``gen`` (batches, noise, gradient-penalty mixing) and ``draws``
    (dropout masks and Gumbel noise; ``init`` on the CPU, which has drawn the weights), both
    seeded with ``seed + comm.rank``: the global torch RNG is neither read nor changed.

    Parameters
    ----------
    cfg : GANConfig
        Hyperparameters (loss, learning rates, auxiliary weight).
    generator, critic : torch.nn.Module
        The networks, already on ``device``.
    spans : list
        The codec's output spans (what :func:`ganaug.gan.networks.activate` needs).
    rows : RowSource
        Training rows, started on ``device``.
    batch : int
        Rows per step (a multiple of ``cfg.pac``).
    n_classes, width : int
        Number of classes, and width of an encoded row.
    device : torch.device
        Where training runs.
    comm : Local
        The process group (:mod:`ganaug.gan.parallel`); modules are wrapped for it.
    init : torch.Generator
        CPU generator that drew the networks' weights; draws the auxiliary classifier's.
    seed : int
        Seed of this fit.
    """

    def __init__(
        self,
        cfg: GANConfig,
        generator: nn.Module,
        critic: nn.Module,
        spans: Any,
        rows: RowSource,
        batch: int,
        n_classes: int,
        width: int,
        device: torch.device,
        comm: Local,
        init: torch.Generator,
        seed: int,
    ) -> None:
        self.cfg, self.spans, self.rows, self.batch, self.device = cfg, spans, rows, batch, device
        self.G, self.D = comm.wrap(generator), comm.wrap(critic)
        self.generator = generator  # unwrapped: its copula buffers
        self.last_component: torch.Tensor | None = None  # the last critic batch's components
        self.critic = critic
        self.bce = nn.BCELoss()
        # Auxiliary classifier (as in AC-GAN): trained on real rows, it tells the generator when a
        # row generated for class c does not look like class c, a direct conditioning signal
        # that the critic alone gives only weakly when a class has a few dozen rows.
        self.aux: nn.Module | None = None
        if cfg.aux_weight > 0 and n_classes > 1:
            hidden = cfg.discriminator_hidden[0]
            with local_draws(init):
                aux = nn.Sequential(nn.Linear(width, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, n_classes))
            self.aux = comm.wrap(aux.to(device))
            self.cross_entropy = nn.CrossEntropyLoss()
        self.gen = torch.Generator(device=device).manual_seed(seed + comm.rank)
        self.draws = init if device.type == "cpu" else torch.Generator(device=device).manual_seed(seed + comm.rank)

    # The optimisers are built at the first step, not in __init__: the first torch.optim
    # optimiser of a process imports torch._dynamo (about 1 s), which a stage the gate skips
    # should not cost.
    def _adam(self, params: Any, lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
        # on a GPU one fused kernel per optimiser step: a step of these small networks is bound by
        # kernel launches there (on the CPU the default keeps the rows of earlier versions)
        fused = {"fused": True} if self.device.type == "cuda" else {}
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, betas=self.cfg.betas, **fused)

    @cached_property
    def opt_g(self) -> torch.optim.Adam:
        """The generator's optimiser."""
        return self._adam(self.generator.parameters(), self.cfg.lr_g, self.cfg.weight_decay)

    @cached_property
    def opt_d(self) -> torch.optim.Adam:
        """The critic's optimiser."""
        return self._adam(self.critic.parameters(), self.cfg.lr_d, self.cfg.weight_decay)

    @cached_property
    def opt_c(self) -> torch.optim.Adam:
        """The auxiliary classifier's optimiser."""
        assert self.aux is not None
        return self._adam(self.aux.parameters(), self.cfg.lr_d)

    def fake(self, cond: torch.Tensor, component: torch.Tensor | None = None) -> torch.Tensor:
        """Generated rows (activated codes) for the class indices or condition matrix ``cond``;
        with ``component`` (``class * K + k`` per row), rows of those mixture components."""
        noise = torch.randn(len(cond), self.cfg.noise_dim, generator=self.gen, device=self.device)
        if component is not None:
            noise[:, -1] = self._component_noise(component)
        return activate(self.G(noise, cond), self.spans, self.cfg.output, self.cfg.tau, generator=self.draws)

    def _component_noise(self, component: torch.Tensor) -> torch.Tensor:
        """The last noise column that makes the copula base draw ``component``: the normal
        quantile of a uniform inside the component's slice of its class's weights."""
        cdf = self.generator.component_cdf.reshape(-1)
        lower = torch.nn.functional.pad(self.generator.component_cdf[:, :-1], (1, 0)).reshape(-1)
        lo, hi = lower.index_select(0, component), cdf.index_select(0, component)
        u = lo + (hi - lo) * torch.rand(len(component), generator=self.gen, device=self.device)
        return torch.special.ndtri(u.clamp(1e-6, 1 - 1e-6))

    def components(self, real: torch.Tensor, cond: torch.Tensor) -> torch.Tensor | None:
        """With ``component_conditioning``, each real row's mixture component (its nearest
        component mean); generated rows are then drawn from the same components, so the
        critic's condition is the same for both halves (as CTGAN's conditional vector)."""
        if not self.cfg.component_conditioning:
            return None
        G = self.generator
        return nearest_component(real, cond, G.base_mean, G.component_cdf)

    def critic_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Update the critic on a real and a generated batch, then the auxiliary classifier on the
        real one. Returns the critic's loss (detached) and the batch's class indices, for
        :meth:`generator_step`."""
        cfg = self.cfg
        for _ in range(cfg.critic_steps):
            real, cond = self.rows.draw(self.batch, self.gen, uniform=cfg.class_sampling == "uniform")
            component = self.components(real, cond)
            critic_cond = cond if component is None else component
            d_loss = self.critic_loss(real, self.fake(cond, component).detach(), critic_cond)
            _update(self.opt_d, d_loss)
            if self.aux is not None:
                _update(self.opt_c, self.cross_entropy(self.aux(real), cond))
        self.last_component = component
        return d_loss.detach(), cond

    def generator_step(self, cond: torch.Tensor) -> torch.Tensor:
        """Update the generator on a batch generated for the classes ``cond`` (with
        ``component_conditioning``, for the components of the last critic batch); returns its
        loss (detached)."""
        component = self.last_component
        generated = self.fake(cond, component)
        g_loss = self.generator_loss(self.D(generated, cond if component is None else component))
        if self.aux is not None:
            g_loss = g_loss + self.cfg.aux_weight * self.cross_entropy(self.aux(generated), cond)
        _update(self.opt_g, g_loss)
        return g_loss.detach()

    def generator_loss(self, score: torch.Tensor) -> torch.Tensor:
        """The generator's adversarial loss on the critic's scores of generated rows."""
        if self.cfg.loss == "bce":
            return self.bce(score, torch.ones_like(score))
        return -score.mean()

    def critic_loss(self, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """The critic's loss on a real and a generated batch under the classes (or components)
        ``cond``: BCE, or the WGAN-GP loss with its gradient penalty."""
        D = self.D
        if self.cfg.loss == "bce":
            d_real, d_fake = D(real, cond), D(fake, cond)
            return self.bce(d_real, torch.ones_like(d_real)) + self.bce(d_fake, torch.zeros_like(d_fake))
        loss = D(fake, cond).mean() - D(real, cond).mean()
        return loss + self.cfg.gp_lambda * self.gradient_penalty(real, fake, cond)

    def gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """WGAN-GP's penalty on packs of rows mixed between ``real`` and ``fake``."""
        pac = self.cfg.pac
        alpha = torch.rand(len(real) // pac, 1, 1, generator=self.gen, device=real.device)
        alpha = alpha.expand(-1, pac, real.shape[1]).reshape(real.shape)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        score = self.D(mixed, cond)
        grad = torch.autograd.grad(score.sum(), mixed, create_graph=True)[0]
        grad = grad.reshape(-1, pac * real.shape[1])
        return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


@dataclass
class LoopState:
    """Where the loop stands; callbacks read it and set ``stop`` / ``checkpoint_due``.

    ``stop`` ends the stage after the current step (a checkpoint is taken first when the loop
    has a score); ``checkpoint_due`` asks for a checkpoint after the current step; ``stop_reason``
    says which callback stopped the stage (None: it ran its steps).
    """

    total_steps: int
    steps_per_epoch: int
    step: int = 0
    epoch: int = 0
    stop: bool = False
    checkpoint_due: bool = False
    stop_reason: str | None = None

    @property
    def epochs(self) -> int:
        """Epochs the stage runs when nothing stops it."""
        return -(-self.total_steps // self.steps_per_epoch)

    def request_stop(self, reason: str) -> None:
        """Stop after this step; the first reason given is kept."""
        self.stop = True
        self.stop_reason = self.stop_reason or reason


class Callback:
    """Hooks of :class:`AdversarialLoop`; each does nothing unless overridden.

    Hooks get the loop: ``loop.state`` (:class:`LoopState`), ``loop.history`` (what
    ``ConditionalGAN.history_`` becomes), ``loop.steps`` (:class:`AdversarialSteps`) and
    ``loop.generator`` (the unwrapped generator). Callbacks run in the order given, for every
    hook. :meth:`close` runs last whether or not training failed (release what
    :meth:`on_train_begin` took).
    """

    def on_train_begin(self, loop: AdversarialLoop) -> None:
        """Before the first step (after the step-0 checkpoint, when there is a score)."""

    def on_step_end(self, loop: AdversarialLoop) -> None:
        """After each optimiser step (``loop.state.step`` counts it)."""

    def on_checkpoint(self, loop: AdversarialLoop, score: float) -> None:
        """After a held-out ``score`` (lower is better) at ``loop.state.step`` (0: before any step)."""

    def on_epoch_end(self, loop: AdversarialLoop) -> None:
        """After each epoch (its mean losses are the last entries of the history)."""

    def on_train_end(self, loop: AdversarialLoop) -> None:
        """After the last step, when training did not fail."""

    def close(self) -> None:
        """Always, last."""


class AdversarialLoop:
    """Runs :class:`AdversarialSteps` for ``total_steps`` optimiser steps in epochs.

    Parameters
    ----------
    steps : AdversarialSteps
        The critic and generator steps.
    generator : torch.nn.Module
        The unwrapped generator (what checkpoints score and selection snapshots).
    total_steps, steps_per_epoch : int
        Length of the stage.
    callbacks : sequence of Callback
        Called in this order at each hook.
    score : callable, optional
        ``() -> float``: the generator's held-out score (lower is better, the same on every rank
        of a distributed job). Without one no checkpoint is taken.
    history : dict, optional
        Entries recorded before the stage (such as the copula's mixture choice).
    """

    def __init__(
        self,
        steps: AdversarialSteps,
        generator: nn.Module,
        total_steps: int,
        steps_per_epoch: int,
        callbacks: Sequence[Callback] = (),
        score: Callable[[], float] | None = None,
        history: dict[str, Any] | None = None,
    ) -> None:
        self.steps, self.generator, self.callbacks, self.score = steps, generator, list(callbacks), score
        self.state = LoopState(total_steps, steps_per_epoch)
        self.history: dict[str, Any] = {"generator": [], "discriminator": [], **(history or {})}

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def checkpoint(self) -> float:
        """Score the generator on held-out rows at this step and record it."""
        assert self.score is not None
        value = self.score()
        self.history.setdefault("validation", []).append(value)
        self.history.setdefault("validation_steps", []).append(self.state.step)
        self._call("on_checkpoint", value)
        return value

    def run(self) -> dict[str, Any]:
        """Train; returns the history."""
        state, steps = self.state, self.steps
        try:
            if self.score is not None:
                self.checkpoint()
            self._call("on_train_begin")
            steps.G.train()
            steps.D.train()
            with dropout_generator(steps.D, steps.draws):
                while state.step < state.total_steps and not state.stop:
                    self._epoch()
            self._call("on_train_end")
        finally:
            for callback in self.callbacks:
                callback.close()
        return self.history

    def _epoch(self) -> None:
        state, steps = self.state, self.steps
        # losses summed on the device: one host sync per epoch, not two per step (GPU)
        g_sum = d_sum = torch.zeros((), device=steps.device)
        done = 0
        for _ in range(min(state.steps_per_epoch, state.total_steps - state.step)):
            d_loss, cond = steps.critic_step()
            g_loss = steps.generator_step(cond)
            g_sum, d_sum = g_sum + g_loss, d_sum + d_loss
            state.step += 1
            done += 1
            state.checkpoint_due = False
            self._call("on_step_end")
            if self.score is not None and (state.checkpoint_due or state.stop):
                self.checkpoint()
            if state.stop:
                break
        state.epoch += 1
        self.history["generator"].append(g_sum.item() / max(done, 1))
        self.history["discriminator"].append(d_sum.item() / max(done, 1))
        self._call("on_epoch_end")
