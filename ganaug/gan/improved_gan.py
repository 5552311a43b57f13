"""The semi-supervised GAN of Salimans et al. (2016, *Improved Techniques for Training GANs*),
as its MNIST code has it (openai/improved-gan, ``mnist_svhn_cifar10/train_mnist_feature_matching.py``
and ``nn.py``), in torch.

The classifier is a ``K+1``-class discriminator: ``K`` logits ``l_1..l_K`` for the real classes,
the "generated" class's logit fixed at 0, so the probability that a row is real is
``D(x) = Z(x) / (Z(x) + 1)`` with ``Z = sum_k exp(l_k)``. It minimises the cross-entropy of the
labeled rows plus ``-log D(x)`` on unlabeled rows and ``-log(1 - D(G(z)))`` on generated rows
(each weighted 1/2, as the code does); the generator matches the mean of the discriminator's
last hidden layer on real rows (feature matching).

- The networks (weight-normalised discriminator with noise layers, batch-normalised generator)
  are in :mod:`ganaug.gan.improved_networks`; ``build`` and the classes are re-exported here.
- Adam (``beta1 = 0.5``), batches of 100 labeled (the labeled rows cycled in fresh
  permutations), 100 unlabeled and 100 generated rows, one discriminator step then one generator
  step on another permutation of the unlabeled rows.

Every random draw (weights, noise layers, batches, generator input) comes from local
``torch.Generator`` objects: torch's global RNG is neither read nor changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from ganaug.gan.improved_networks import (
    HIDDEN,
    OUTPUTS,
    GaussianNoise,
    Head,
    ImprovedGenerator,
    Trunk,
    WeightNormLinear,
    build,
    real_probability,
    set_noise_generator,
)

#: improved-gan's Adam divides by ``sqrt(v + 1e-8)``, about torch's ``sqrt(v) + 1e-4``
ADAM_EPS = 1e-4


@dataclass
class Schedule:
    """How long and how fast to train.

    ``epochs`` passes over the rows (``len(rows) // batch_size`` steps each); the learning rate
    stays at ``learning_rate`` for the first ``1 - decay`` of them, then falls linearly to 0
    (the paper's CIFAR-10 code decays over its last third; its MNIST code keeps it constant:
    ``decay=0``). ``average``: the discriminator that predicts is an exponential moving
    average of its weights with this decay per step (bias-corrected; 0: the last weights; the
    paper tests a running average too). ``time_budget``: stop after the epoch that passes it
    (seconds).
    """

    epochs: int = 30
    batch_size: int = 100
    learning_rate: float = 0.003
    beta1: float = 0.5
    decay: float = 1.0 / 3.0
    unlabeled_weight: float = 1.0
    average: float = 0.0
    time_budget: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)


def _cycled(n: int, size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Batches of ``size`` indices into ``range(n)``: fresh permutations, concatenated."""
    pool = torch.empty(0, dtype=torch.long)
    while True:
        while len(pool) < size:
            pool = torch.cat([pool, torch.randperm(n, generator=generator)])
        yield pool[:size]
        pool = pool[size:]


def train(
    trunk: Trunk,
    head: Head,
    G: ImprovedGenerator | None,
    rows: torch.Tensor,
    labeled: torch.Tensor,
    labels: torch.Tensor,
    schedule: Schedule,
    generator: torch.Generator,
    callback: Callable[[int], None] | None = None,
) -> None:
    """Train ``trunk`` + ``head`` (and ``G``) in place.

    Parameters
    ----------
    trunk, head : Trunk, Head
        The discriminator, already initialised (:func:`initialise`).
    G : ImprovedGenerator or None
        The generator; None (or ``schedule.unlabeled_weight == 0``) trains the discriminator on
        the labeled rows alone, for the same number of steps (the supervised baseline).
    rows : Tensor of shape (n, d)
        Every row, labeled or not (the paper's unlabeled set holds the labeled rows too).
    labeled : Tensor of int64
        Positions of the labeled rows in ``rows``.
    labels : Tensor of int64
        Their classes, ``0..K-1``.
    schedule : Schedule
        Length, rates, budget; its ``history`` gets per-epoch losses and seconds.
    generator : torch.Generator
        Source of every draw (batches, noise layers, generator input).
    callback : callable, optional
        Called as ``callback(epoch)`` after each epoch (1-based), networks in training mode.
    """
    semi = G is not None and schedule.unlabeled_weight > 0
    batch = max(1, min(schedule.batch_size, len(rows)))
    steps_per_epoch = max(1, len(rows) // batch)
    total = steps_per_epoch * schedule.epochs
    d_params = [*trunk.parameters(), *head.parameters()]
    betas = (schedule.beta1, 0.999)
    # improved-gan's Adam divides by sqrt(v + 1e-8): about torch's eps=1e-4
    opt_d = torch.optim.Adam(d_params, lr=schedule.learning_rate, betas=betas, eps=ADAM_EPS)
    opt_g = (
        torch.optim.Adam(G.parameters(), lr=schedule.learning_rate, betas=betas, eps=ADAM_EPS)
        if semi
        else None
    )
    ema = _Average(d_params, schedule.average)
    set_noise_generator((trunk, head), generator)
    trunk.train()
    head.train()
    if G is not None:
        G.train()
    lab_batches = _cycled(len(labeled), batch, generator)
    history = schedule.history
    for key in ("loss_labeled", "loss_unlabeled", "loss_generator", "seconds"):
        history.setdefault(key, [])
    start = time.perf_counter()
    step = 0
    for epoch in range(1, schedule.epochs + 1):
        unl = torch.randperm(len(rows), generator=generator)
        unl2 = torch.randperm(len(rows), generator=generator)
        sums = [0.0, 0.0, 0.0]
        for t in range(steps_per_epoch):
            lr = schedule.learning_rate * _rate(step / total, schedule.decay)
            step += 1
            for opt in (opt_d, opt_g):
                if opt is not None:
                    for group in opt.param_groups:
                        group["lr"] = lr
            pick = labeled[next(lab_batches)]
            loss_lab = F.cross_entropy(head(trunk(rows[pick])), labels[pick])
            loss = loss_lab
            if semi:
                real = rows[unl[t * batch : (t + 1) * batch]]
                with torch.no_grad():
                    fake = G.sample(batch, generator)
                lse_real = torch.logsumexp(head(trunk(real)), dim=1)
                lse_fake = torch.logsumexp(head(trunk(fake)), dim=1)
                # -log D(x) = softplus(lse) - lse; -log(1 - D(G(z))) = softplus(lse)
                loss_unl = 0.5 * (
                    (F.softplus(lse_real) - lse_real).mean() + F.softplus(lse_fake).mean()
                )
                loss = loss_lab + schedule.unlabeled_weight * loss_unl
                sums[1] += float(loss_unl.detach())
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
            ema.update()
            sums[0] += float(loss_lab.detach())
            if semi:
                sums[2] += _generator_step(
                    trunk,
                    G,
                    opt_g,
                    rows[unl2[t * batch : (t + 1) * batch]],
                    batch,
                    generator,
                    d_params,
                )
        history["loss_labeled"].append(sums[0] / steps_per_epoch)
        history["loss_unlabeled"].append(sums[1] / steps_per_epoch)
        history["loss_generator"].append(sums[2] / steps_per_epoch)
        history["seconds"].append(time.perf_counter() - start)
        if callback is not None:
            with ema.swapped():
                callback(epoch)
            trunk.train()
            head.train()
        if schedule.time_budget is not None and history["seconds"][-1] >= schedule.time_budget:
            break
    ema.swap()  # the averaged weights predict
    set_noise_generator((trunk, head), None)  # a fitted network holds no generator (pickling)


class _Average:
    """A bias-corrected exponential moving average of parameters (``decay=0``: none)."""

    def __init__(self, params: list[nn.Parameter], decay: float) -> None:
        self.params, self.decay, self.weight = params, decay, 0.0
        self.shadow = [torch.zeros_like(p) for p in params] if decay > 0 else []

    @torch.no_grad()
    def update(self) -> None:
        if not self.shadow:
            return
        self.weight = self.decay * self.weight + (1.0 - self.decay)
        for s, p in zip(self.shadow, self.params):
            s.mul_(self.decay).add_(p.detach(), alpha=1.0 - self.decay)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the parameters with their (bias-corrected) averages."""
        if not self.shadow or self.weight == 0.0:
            return
        for s, p in zip(self.shadow, self.params):
            current = p.detach().clone()
            p.copy_(s / self.weight)
            s.copy_(current * self.weight)

    @contextmanager
    def swapped(self) -> Iterator[None]:
        self.swap()
        try:
            yield
        finally:
            self.swap()


def _rate(progress: float, decay: float) -> float:
    """Constant, then linear to 0 over the last ``decay`` of training."""
    if decay <= 0.0 or progress < 1.0 - decay:
        return 1.0
    return max(0.0, (1.0 - progress) / decay)


def _generator_step(
    trunk: Trunk,
    G: ImprovedGenerator,
    opt_g: torch.optim.Optimizer,
    real: torch.Tensor,
    batch: int,
    generator: torch.Generator,
    d_params: list[nn.Parameter],
) -> float:
    """One feature-matching step of ``G`` (the discriminator's weights get no gradient)."""
    for p in d_params:
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            target = trunk(real).mean(dim=0)
        loss = (trunk(G.sample(batch, generator)).mean(dim=0) - target).pow(2).mean()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
    finally:
        for p in d_params:
            p.requires_grad_(True)
    return float(loss.detach())


__all__ = [
    "ADAM_EPS",
    "HIDDEN",
    "OUTPUTS",
    "GaussianNoise",
    "Head",
    "ImprovedGenerator",
    "Schedule",
    "Trunk",
    "WeightNormLinear",
    "build",
    "real_probability",
    "train",
]
