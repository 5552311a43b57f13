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
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from ganaug.gan.codec import Span
from ganaug.gan.networks import CopulaStatistics, Generator, copula_statistics
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


@dataclass
class Unlabeled:
    """The unlabeled rows of a semi-supervised fit and their class posteriors.

    Attributes
    ----------
    Z : ndarray of shape (n_unlabeled, dim), float32
        Encoded unlabeled rows.
    posteriors : ndarray of shape (n_unlabeled, n_classes)
        Their class posteriors (:func:`ganaug.gan.semi.class_posteriors`).
    joined : ndarray of shape (n_unlabeled,), bool
        Rows that joined a class (confident pseudo-labels): they are also the last rows of the
        :class:`MemoryRows`, in this order.
    copula : {"none", "confident", "soft", "pooled"}
        How unlabeled rows enter the copula (``GANConfig.unlabeled_copula``): not at all; the
        joined rows as rows of their class; every unlabeled row in each class with its posterior as weight;
        or the same weighted rows in what the classes share only (the overall mean and the
        pooled covariance, see :meth:`ganaug.gan.networks.Generator.set_copula`).
    """

    Z: np.ndarray
    posteriors: np.ndarray
    joined: np.ndarray
    copula: str = "none"


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
    unlabeled : Unlabeled, optional
        Semi-supervised fitting (one process only): the unlabeled rows, whose confident ones
        are the last rows of ``Z``. They enable :meth:`draw_unconditional` and the soft copula.
    """

    def __init__(
        self, Z: np.ndarray, y_idx: np.ndarray, comm: Local | None = None,
        unlabeled: Unlabeled | None = None,
    ) -> None:
        self.Z, self.y_idx = Z, y_idx
        self.comm = comm or Local()
        self.train_mask = np.ones(len(Z), dtype=bool)
        self.unlabeled = unlabeled
        if unlabeled is not None and self.comm.world_size > 1:
            raise ValueError("unlabeled rows are not supported in a distributed fit")

    def hold_out(
        self, fraction: float, strict: bool, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        val_idx = validation_split(self.y_idx, rng, fraction, strict)
        self.train_mask[:] = True
        self.train_mask[val_idx] = False
        if len(val_idx) > HOLDOUT_ROWS:  # all stay out of training; a random subset is scored
            val_idx = rng.choice(val_idx, size=HOLDOUT_ROWS, replace=False)
        return self.Z[val_idx], self.y_idx[val_idx]

    def _unlabeled_in_training(self, held_out: bool) -> np.ndarray:
        """Mask of the unlabeled rows in training: all but the joined rows held out."""
        assert self.unlabeled is not None
        keep = np.ones(len(self.unlabeled.Z), dtype=bool)
        if not held_out:
            n_labeled = len(self.Z) - int(self.unlabeled.joined.sum())
            keep[np.flatnonzero(self.unlabeled.joined)[~self.train_mask[n_labeled:]]] = False
        return keep

    def fit_copula(
        self, G: Generator, spans: Sequence[Span], n_classes: int, held_out: bool
    ) -> None:
        keep = np.ones(len(self.Z), dtype=bool) if held_out else self.train_mask
        weights, pooled = None, None
        Z, labels = torch.from_numpy(self.Z[keep]), torch.from_numpy(self.y_idx[keep])
        if self.unlabeled is not None and self.unlabeled.copula in ("soft", "pooled"):
            # every unlabeled row once per class, weighted by its posterior for that class
            n_labeled = len(self.Z) - int(self.unlabeled.joined.sum())
            keep = keep.copy()
            keep[n_labeled:] = False
            mine = self._unlabeled_in_training(held_out)
            Z_u, post = self.unlabeled.Z[mine], self.unlabeled.posteriors[mine]
            Z_u = torch.from_numpy(np.tile(Z_u, (n_classes, 1)))
            y_u = torch.from_numpy(np.repeat(np.arange(n_classes), len(post)))
            w_u = torch.from_numpy(post.T.reshape(-1).astype(np.float64))
            Z, labels = torch.from_numpy(self.Z[keep]), torch.from_numpy(self.y_idx[keep])
            if self.unlabeled.copula == "pooled":  # the shared parts only
                pooled = copula_statistics(Z_u, y_u, n_classes, w_u)
            else:
                weights = torch.cat([torch.ones(len(Z), dtype=torch.float64), w_u])
                Z, labels = torch.cat([Z, Z_u]), torch.cat([labels, y_u])
        if self.comm.world_size == 1 and G.component_cdf.shape[1] > 1:
            # a mixture: k-means needs the rows
            G.set_copula(Z, labels, spans, weights=weights, pooled=pooled)
            return
        G.set_copula(None, None, spans, statistics=sum_statistics(
            copula_statistics(Z, labels, n_classes, weights), self.comm), pooled=pooled)

    def start(self, device: torch.device, n_classes: int) -> int:
        data = torch.from_numpy(self.Z[self.train_mask]).to(device)
        labels = torch.from_numpy(self.y_idx[self.train_mask]).to(device)
        self.pools = ClassPools(data, labels, n_classes)
        if self.unlabeled is not None:
            # the unconditional stage's rows: labeled training rows (their class for sure) and
            # unlabeled ones (their posteriors), the joined rows held out for selection excepted
            n_labeled = len(self.Z) - int(self.unlabeled.joined.sum())
            labeled = self.train_mask.copy()
            labeled[n_labeled:] = False
            mine = self._unlabeled_in_training(False)
            eye = np.eye(n_classes, dtype=np.float32)
            self.all_rows = torch.from_numpy(
                np.concatenate([self.Z[labeled], self.unlabeled.Z[mine]])).to(device)
            self.all_classes = torch.from_numpy(np.concatenate(
                [eye[self.y_idx[labeled]], self.unlabeled.posteriors[mine].astype(np.float32)]
            )).to(device)
        total = self.comm.sum(torch.tensor([float(len(data))], dtype=torch.float64))
        return math.ceil(float(total[0]) / self.comm.world_size)

    def draw(
        self, batch: int, gen: torch.Generator, uniform: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.pools.draw(batch, gen, uniform)

    def draw_unconditional(
        self, batch: int, gen: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch`` rows drawn uniformly from every training row, labeled or not, and a class
        for each drawn from its class probabilities (one-hot for a labeled row): the classes of
        generated rows then come in the data's mix (semi-supervised fitting only)."""
        if self.unlabeled is None:
            raise ValueError("draw_unconditional needs the unlabeled rows")
        device = self.all_rows.device
        index = torch.randint(len(self.all_rows), (batch,), generator=gen, device=device)
        classes = torch.multinomial(self.all_classes[index], 1, generator=gen).flatten()
        return self.all_rows[index], classes
