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

    def score(self, G: nn.Module, spans: Sequence[Any], cfg: GANConfig) -> float:
        was_training = G.training
        G.eval()
        gen = torch.Generator(device=self.device).manual_seed(self.seed + 1)
        with torch.no_grad():
            noise = torch.randn(len(self.cond), cfg.noise_dim, generator=gen, device=self.device)
            # gumbel draws: the same for every candidate
            gumbel = torch.Generator(device=self.device).manual_seed(self.seed + 2)
            fake = activate(G(noise, self.cond), spans, cfg.output, 1.0, hard=True, generator=gumbel)
            total = 0.0
            for c in self.classes:
                total += _mmd(fake[self.cond == c], self.real[self.labels == c], self.bandwidth)
        G.train(was_training)
        return total / len(self.classes)
