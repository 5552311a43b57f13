"""The encoded rows a training run draws from: held in memory, or streamed batch by batch.

:class:`ganaug.gan.synthesizer.ConditionalGAN` trains from a *row source*. A source holds rows out
for selection, sums the copula's sufficient statistics (over every rank of a distributed job),
and draws training batches, classes uniformly (training-by-sampling) or as in the data.
:class:`MemoryRows` keeps one encoded matrix (a whole table, or one rank's shard of it);
:class:`ganaug.gan.stream.StreamRows` keeps a bounded shuffle buffer refilled from a Parquet
dataset, for tables larger than memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch

from ganaug.gan.codec import Span
from ganaug.gan.copula import CopulaStatistics, copula_statistics
from ganaug.gan.networks import Generator
from ganaug.gan.parallel import Local


def validation_split(
    y_idx: np.ndarray, rng: np.random.Generator, fraction: float, strict: bool
) -> np.ndarray:
    """Indices of ``fraction`` of each class's rows (classes that keep 2 rows to train on).

    Raises
    ------
    ValueError
        If ``fraction`` is outside (0, 1), or ``strict`` and no class can spare a row.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1); got {fraction}")
    picks = []
    for c in np.unique(y_idx):
        rows = np.flatnonzero(y_idx == c)
        k = round(len(rows) * fraction)
        if len(rows) - k >= 2 and k > 0:
            picks.append(rng.choice(rows, size=k, replace=False))
    if not picks:
        if strict:
            raise ValueError("too few rows to hold out a validation set for early stopping")
        return np.empty(0, dtype=np.int64)
    return np.concatenate(picks)


#: held-out rows kept for scoring, all classes together (the score's cost is quadratic in them)
HOLDOUT_ROWS = 4_096


class RowSource(Protocol):
    """What the training loop needs from its rows."""

    def hold_out(
        self, fraction: float, strict: bool, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Set aside held-out rows; returns this process's ``(codes, class indices)``."""
        ...

    def fit_copula(
        self, G: Generator, spans: Sequence[Span], n_classes: int, held_out: bool
    ) -> None:
        """Fit ``G``'s copula base on the training rows (``held_out=True``: on every row)."""
        ...

    def start(self, device: torch.device, n_classes: int) -> int:
        """Prepare drawing on ``device``; returns the training rows per process (a mean)."""
        ...

    def draw(
        self, batch: int, gen: torch.Generator, uniform: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch`` training rows and their class indices."""
        ...


def sum_statistics(stats: CopulaStatistics, comm: Local) -> CopulaStatistics:
    """The statistics of every process's rows (exact: sums of counts, sums and cross-products)."""
    return CopulaStatistics(*(comm.sum(t) for t in (stats.counts, stats.sums, stats.cross)))


class ClassPools:
    """Rows grouped by class, to draw classes uniformly or as they come in the data."""

    def __init__(self, data: torch.Tensor, labels: torch.Tensor, n_classes: int) -> None:
        self.data, self.labels = data, labels
        self.order = torch.argsort(labels, stable=True)
        self.counts = torch.bincount(labels, minlength=n_classes)
        self.offsets = torch.cumsum(self.counts, 0) - self.counts
        self.present = torch.nonzero(self.counts > 0).flatten()

    def draw(
        self, batch: int, gen: torch.Generator, uniform: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        device = self.data.device
        if uniform:
            cls = self.present[torch.randint(len(self.present), (batch,), generator=gen, device=device)]
            u = torch.rand(batch, generator=gen, device=device)
            rows = self.order[self.offsets[cls] + (u * self.counts[cls]).long()]
        else:
            rows = torch.randint(len(self.data), (batch,), generator=gen, device=device)
        return self.data[rows], self.labels[rows]


class MemoryRows:
    """Encoded rows in memory: a whole table, or one rank's shard (``comm`` sums over ranks).

    Parameters
    ----------
    Z : ndarray of shape (n_rows, dim), float32
        Encoded rows.
    y_idx : ndarray of shape (n_rows,), int64
        Class indices.
    comm : Local or Distributed, optional
        The processes that share the table.
    """

    def __init__(self, Z: np.ndarray, y_idx: np.ndarray, comm: Local | None = None) -> None:
        self.Z, self.y_idx = Z, y_idx
        self.comm = comm or Local()
        self.train_mask = np.ones(len(Z), dtype=bool)

    def hold_out(
        self, fraction: float, strict: bool, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        val_idx = validation_split(self.y_idx, rng, fraction, strict)
        self.train_mask[:] = True
        self.train_mask[val_idx] = False
        if len(val_idx) > HOLDOUT_ROWS:  # all stay out of training; a random subset is scored
            val_idx = rng.choice(val_idx, size=HOLDOUT_ROWS, replace=False)
        return self.Z[val_idx], self.y_idx[val_idx]

    def fit_copula(
        self, G: Generator, spans: Sequence[Span], n_classes: int, held_out: bool
    ) -> None:
        keep = np.ones(len(self.Z), dtype=bool) if held_out else self.train_mask
        Z, labels = torch.from_numpy(self.Z[keep]), torch.from_numpy(self.y_idx[keep])
        if self.comm.world_size == 1 and G.component_cdf.shape[1] > 1:
            # a mixture: k-means needs the rows
            G.set_copula(Z, labels, spans)
            return
        G.set_copula(None, None, spans, statistics=sum_statistics(
            copula_statistics(Z, labels, n_classes), self.comm))

    def start(self, device: torch.device, n_classes: int) -> int:
        data = torch.from_numpy(self.Z[self.train_mask]).to(device)
        labels = torch.from_numpy(self.y_idx[self.train_mask]).to(device)
        self.pools = ClassPools(data, labels, n_classes)
        total = self.comm.sum(torch.tensor([float(len(data))], dtype=torch.float64))
        return math.ceil(float(total[0]) / self.comm.world_size)

    def draw(
        self, batch: int, gen: torch.Generator, uniform: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.pools.draw(batch, gen, uniform)
