"""Choosing between the closed-form copula and fine-tuned generators on held-out rows.

The default preset holds out a share of each class's rows, scores the copula (candidate zero)
and checkpoints of the adversarial stage against them, and keeps the best; a checkpoint must beat
the copula by a clear margin, so fine-tuning never makes the held-out score worse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ganaug.gan.networks import activate
from ganaug.gan.presets import GANConfig


def _mmd(a: torch.Tensor, b: torch.Tensor, bandwidth: float) -> float:
    """Squared maximum mean discrepancy with a Gaussian kernel (biased estimate, never negative)."""

    def k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.exp(-torch.cdist(x, y).pow(2) / (2 * bandwidth**2)).mean()

    return float(k(a, a) + k(b, b) - 2 * k(a, b))


#: share of each class's rows held out to choose between the copula and fine-tuned generators
HOLDOUT_FRACTION = 0.15
#: relative improvement of the held-out score a fine-tuned checkpoint needs over the copula: on
#: the real-table benchmark, checkpoints kept for smaller gains scored below the copula downstream
SELECTION_MARGIN = 0.05


def mixture_gain(mixture: torch.Tensor, plain: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Mean held-out log-likelihood gain per row of a mixture copula over the plain one, each
    class weighing the same, and its standard error (paired rows)."""
    diff = (mixture - plain).double()
    weights = torch.zeros_like(diff)
    classes = torch.unique(labels)
    for c in classes:
        mask = labels == c
        weights[mask] = 1.0 / (float(mask.sum()) * len(classes))
    gain = float((weights * diff).sum())
    error = float(torch.sqrt((weights**2 * (diff - gain) ** 2).sum()))
    return gain, error


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of a module's parameters and buffers (a checkpoint)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class Holdout:
    """Held-out real rows and the score of a generator against them (lower is better).

    The score is the kernel two-sample distance (MMD, Gaussian kernel of the held-out rows' median
    distance) between the held-out rows and rows generated for the same classes, with categories
    and missing indicators drawn as the decode head draws them, each class weighted equally. The
    noise is fixed, so candidates are compared on the same draws.
    """

    def __init__(self, Z: np.ndarray, y: np.ndarray, device: torch.device, seed: int) -> None:
        self.device = device
        self.real = torch.from_numpy(Z).float().to(device)
        self.labels = torch.from_numpy(y).to(device)
        self.classes = torch.unique(self.labels)
        reps = max(1, math.ceil(1024 / len(y)))
        self.cond = self.labels.repeat(reps)
        self.seed = seed
        d = torch.cdist(self.real, self.real)
        self.bandwidth = float(d[d > 0].median()) if bool((d > 0).any()) else 1.0

    def _generate(self, G: nn.Module, spans: Sequence[Any], cfg: GANConfig) -> torch.Tensor:
        """Rows of ``G`` for the held-out classes, on the fixed noise and Gumbel draws."""
        was_training = G.training
        G.eval()
        gen = torch.Generator(device=self.device).manual_seed(self.seed + 1)
        with torch.no_grad():
            noise = torch.randn(len(self.cond), cfg.noise_dim, generator=gen, device=self.device)
            # gumbel draws: the same for every candidate
            gumbel = torch.Generator(device=self.device).manual_seed(self.seed + 2)
            fake = activate(G(noise, self.cond), spans, cfg.output, 1.0, hard=True, generator=gumbel)
        G.train(was_training)
        return fake

    def score(self, G: nn.Module, spans: Sequence[Any], cfg: GANConfig) -> float:
        return self._score_of(self._generate(G, spans, cfg))

    def _score_of(self, fake: torch.Tensor) -> float:
        total = 0.0
        for c in self.classes:
            total += _mmd(fake[self.cond == c], self.real[self.labels == c], self.bandwidth)
        return total / len(self.classes)

    def attainable_gain(
        self, G: nn.Module, spans: Sequence[Any], cfg: GANConfig, Z: np.ndarray, y: np.ndarray
    ) -> tuple[float, float]:
        """How much better than ``G`` a generator of the data itself scores, and its error.

        ``Z``, ``y``: training rows (codes, class indices), none of them held out. Each class's
        generated rows are compared with as many of its training rows (at most; drawn without
        replacement, seeded) on the held-out rows, both distances with the within-sample
        kernel mean taken over distinct pairs, so that a smaller sample is not penalised. The
        gain is linear in the held-out rows' weights: its standard error over the choice of
        held-out rows is that of a mean. Returns ``(gain, standard error)`` relative to
        :meth:`score` of ``G``, classes weighing the same; the error is infinite when a class
        has fewer than two held-out or training rows.
        """
        fake = self._generate(G, spans, cfg)
        base = self._score_of(fake)
        rng = np.random.default_rng(self.seed + 3)
        gains, variances = [], []
        for c in self.classes:
            real = self.real[self.labels == c]
            pool = np.flatnonzero(y == int(c))
            f = fake[self.cond == c]
            if len(real) < 2 or len(pool) < 2:
                return 0.0, math.inf
            pick = rng.choice(pool, size=min(len(f), len(pool)), replace=False)
            t = torch.from_numpy(Z[pick]).float().to(self.device)
            # per held-out row j: how much nearer (in kernel mean) the generated rows are than
            # the training rows; the held-out rows' own term is common to both and cancels
            d = (self._kernel(f, real).mean(0) - self._kernel(t, real).mean(0)).double()
            gains.append(_within(self._kernel(f, f)) - _within(self._kernel(t, t)) - 2 * float(d.mean()))
            variances.append(4 * float(d.var()) / len(real))
        k = len(self.classes)
        gain, error = sum(gains) / k, math.sqrt(sum(variances)) / k
        return (gain / base, error / base) if base > 0 else (0.0, math.inf)

    def _kernel(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.exp(-torch.cdist(x, y).pow(2) / (2 * self.bandwidth**2))


def _within(k: torch.Tensor) -> float:
    """Mean of a square kernel matrix over distinct pairs."""
    n = len(k)
    return float((k.double().sum() - k.diagonal().double().sum()) / (n * (n - 1))) if n > 1 else 1.0


def adversarial_gate(gain: float, error: float, margin: float = SELECTION_MARGIN) -> str | None:
    """Why the adversarial stage should not run, or None when it may.

    A fine-tuned checkpoint is kept only when it beats the copula's held-out score by
    ``margin`` (relative). ``gain`` and ``error`` (:meth:`Holdout.attainable_gain`) say how much
    better the training rows themselves score than the copula: when even they do not clear the
    margin by two standard errors, no generator could show a gain that is not chance, so the
    stage is skipped and the copula's rows are kept at the copula's cost.
    """
    if gain - 2 * error > margin:
        return None
    if math.isinf(error):
        return "skipped: a class has fewer than 2 held-out rows, too few to validate fine-tuning"
    return (
        f"skipped: real rows score {gain:+.0%} (+-{error:.0%}) better than the copula on held-out "
        f"rows; fine-tuning must show {margin:.0%}, which they could not show reliably"
    )

def choose_mixture(
    G: Any, rows: Any, Z_val: np.ndarray, y_val: np.ndarray, comm: Any, device: torch.device,
    spans: Sequence[Any], components: int,
) -> dict[str, float]:
    """Keep ``G``'s mixture copula only when it predicts the held-out rows better than the
    plain copula by two standard errors (with few rows per component a mixture fits noise);
    otherwise refit the plain copula. Sets ``G.max_components`` for the final refit on every
    row, so a mixture never enters unvalidated. Returns the gain and its standard error
    (empty when no class got a second component, or the rows are only statistics)."""
    n_classes = G.n_classes
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
        G.max_components = components
    return {"log_likelihood_gain": gain, "standard_error": error}
