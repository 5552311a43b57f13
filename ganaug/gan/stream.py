"""Training from a table read batch by batch: tables larger than memory, and distributed shards.

Memory does not grow with the row count:

* **Codec** (:func:`fit_codec`): one pass keeps, per process, a uniform sample of at most
  ``sample_rows`` rows (bottom-k of a random key, so the samples of all processes merge into a
  uniform sample of the whole table) and exact per-column summaries: missing count,
  integer-ness, and the set of categorical levels. The quantile tables come from the merged
  sample (knots that hold no rare training value, as in :func:`ganaug.gan.codec.quantile_knots`);
  levels and missing rates are exact. A table no larger than the
  sample gives exactly the codec of :meth:`TableCodec.fit` on all rows.
* **Copula** (:class:`StreamRows`): a second pass encodes one batch at a time and sums the
  per-class counts, sums and cross-products, which give the same copula as the rows in memory.
* **Adversarial stage**: batches are drawn from a shuffle buffer of at most ``buffer_rows``
  encoded rows, refilled with freshly read batches (row groups in a new random order each pass)
  as fast as rows are drawn.
* **Hold-out**: a row is held out when a hash of its position in the table and the seed falls
  under its class's rate (15%, fewer for large classes so at most ``HOLDOUT_ROWS`` rows are kept
  for scoring); the same rows whatever the sharding.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from ganaug.core.columns import is_categorical, named_columns
from ganaug.core.dtypes import holds_missing
from ganaug.core.labels import check_several_classes, class_index, class_lookup, to_python
from ganaug.core.schema import KNOT_SAMPLE_ROWS
from ganaug.gan.codec import Span, TableCodec
from ganaug.gan.copula import CopulaStatistics, copula_statistics
from ganaug.gan.networks import Generator
from ganaug.gan.parallel import Local
from ganaug.gan.row_sources import HOLDOUT_ROWS, ClassPools, sum_statistics
from ganaug.gan.tables import BATCH_ROWS, TableSource

#: rows kept per process for the quantile tables (uniform sample)
SAMPLE_ROWS = KNOT_SAMPLE_ROWS
#: encoded rows in the shuffle buffer of the adversarial stage
BUFFER_ROWS = 131_072


@dataclass
class ColumnSummary:
    """Exact summary of one column over the rows seen (mergeable across batches and processes)."""

    categorical: bool
    n_missing: int = 0
    minimum: float = math.inf
    maximum: float = -math.inf
    integer: bool = True
    levels: dict[Any, None] = field(default_factory=dict)  # ordered set, first seen first
    dtype_levels: list[Any] | None = None  # a pandas category dtype's order

    def update(self, series: pd.Series, max_levels: int) -> None:
        missing = series.isna().to_numpy()
        self.n_missing += int(missing.sum())
        present = series[~missing]
        if self.categorical:
            if isinstance(series.dtype, pd.CategoricalDtype) and self.dtype_levels is None:
                self.dtype_levels = [to_python(c) for c in series.cat.categories]
            if len(self.levels) <= max_levels:  # past that the column is refused anyway
                for value in pd.unique(present.to_numpy(dtype=object)):
                    self.levels.setdefault(to_python(value), None)
            return
        values = present.to_numpy(dtype=np.float64)
        if len(values):
            self.minimum = min(self.minimum, float(values.min()))
            self.maximum = max(self.maximum, float(values.max()))
            self.integer = self.integer and bool(np.all(values == np.round(values)))

    def merge(self, other: ColumnSummary) -> None:
        self.n_missing += other.n_missing
        self.minimum, self.maximum = min(self.minimum, other.minimum), max(self.maximum, other.maximum)
        self.integer = self.integer and other.integer
        for value in other.levels:
            self.levels.setdefault(value, None)
        self.dtype_levels = self.dtype_levels or other.dtype_levels


@dataclass
class TableSummary:
    """A process's pass over its rows: column summaries, label counts and a bottom-k sample."""

    columns: dict[Any, ColumnSummary]
    label_counts: dict[Any, int]
    sample: pd.DataFrame
    keys: np.ndarray
    n_rows: int

    def merge(self, other: TableSummary, sample_rows: int) -> None:
        for name, summary in other.columns.items():
            self.columns[name].merge(summary)
        for label, count in other.label_counts.items():
            self.label_counts[label] = self.label_counts.get(label, 0) + count
        self.sample, self.keys = _bottom_k(
            [self.sample, other.sample], [self.keys, other.keys], sample_rows
        )
        self.n_rows += other.n_rows


def _bottom_k(
    frames: list[pd.DataFrame], keys: list[np.ndarray], k: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows with the ``k`` smallest keys: a uniform sample of the union, however it is split."""
    frames = [f for f in frames if len(f)]
    all_keys = np.concatenate(keys)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(all_keys) > k:
        keep = np.sort(np.argpartition(all_keys, k)[:k])
        frame, all_keys = frame.iloc[keep].reset_index(drop=True), all_keys[keep]
    return frame, all_keys


def summarise(
    source: TableSource,
    categorical_features: Sequence[str | int] | None,
    seed: int,
    sample_rows: int = SAMPLE_ROWS,
    max_levels: int = 1000,
) -> TableSummary:
    """One pass over ``source``: exact column summaries, label counts, a bounded uniform sample."""
    rng = np.random.default_rng(seed)
    summary: TableSummary | None = None
    for X, y, _ in source.batches():
        if summary is None:
            cats = named_columns(X, categorical_features)
            columns = {n: ColumnSummary(is_categorical(X[n], named=n in cats)) for n in X.columns}
            summary = TableSummary(columns, {}, X.iloc[:0], np.empty(0), 0)
        for name, column in summary.columns.items():
            column.update(X[name], max_levels)
        labels, counts = np.unique(y, return_counts=True)
        for label, count in zip(labels.tolist(), counts.tolist()):
            summary.label_counts[label] = summary.label_counts.get(label, 0) + count
        summary.sample, summary.keys = _bottom_k(
            [summary.sample, X], [summary.keys, rng.random(len(X))], sample_rows
        )
        summary.n_rows += len(X)
    if summary is None:
        raise ValueError("the table has no rows")
    return summary


def fit_codec(
    source: TableSource,
    comm: Local | None = None,
    categorical_features: Sequence[str | int] | None = None,
    numeric_encoding: str = "quantile",
    seed: int = 0,
    sample_rows: int = SAMPLE_ROWS,
) -> tuple[TableCodec, np.ndarray, np.ndarray]:
    """Fit the codec and find the classes from a streamed table (every process's shard).

    Parameters
    ----------
    source : TableSource
        This process's rows.
    comm : Local or Distributed, optional
        The processes sharing the table; they all get the same codec.
    categorical_features, numeric_encoding
        As in :class:`TableCodec`.
    seed : int
        Seed of the sample's keys (each process adds its rank).
    sample_rows : int
        Rows of the sample the quantile tables come from.

    Returns
    -------
    codec : TableCodec
        Fitted codec (same schema format as :meth:`TableCodec.fit`).
    classes : ndarray
        Sorted class labels.
    class_counts : ndarray
        Rows per class, over all processes.
    """
    comm = comm or Local()
    # precision and relations learned on a sample might not hold on every row: off for streams
    codec = TableCodec(categorical_features=categorical_features, numeric_encoding=numeric_encoding)  # type: ignore[arg-type]
    local = summarise(source, categorical_features, seed + comm.rank, sample_rows, codec.max_categories)
    merged, *others = comm.gather(local)
    for other in others:
        merged.merge(other, sample_rows)
    codec.fit(merged.sample)
    columns = []
    for column in codec.schema_.columns:
        summary = merged.columns[column.name]
        if summary.categorical and len(summary.levels) > codec.max_categories:
            raise ValueError(
                f"column {column.name!r} has more than max_categories={codec.max_categories} "
                "distinct values; drop it (an identifier?) or raise max_categories"
            )
        columns.append(_exact(column, summary, merged.n_rows))
    codec.schema_ = replace(codec.schema_, columns=columns)
    codec.spans_ = codec._make_spans(codec.schema_)
    classes = np.unique(np.asarray(list(merged.label_counts)))
    counts = np.array([merged.label_counts[to_python(c)] for c in classes], dtype=np.int64)
    return codec, classes, counts


def _exact(column: Any, summary: ColumnSummary, n_rows: int) -> Any:
    """A column fitted on the sample, with the whole table's exact summaries."""
    rate = summary.n_missing / n_rows
    if column.kind == "categorical":
        levels = list(summary.levels)
        if summary.dtype_levels is not None:
            levels = [c for c in summary.dtype_levels if c in summary.levels]
        else:
            try:
                levels = sorted(levels)
            except TypeError:  # mixed types: first-seen order
                pass
        return replace(column, categories=levels + [None] * (summary.n_missing > 0), missing_rate=rate)
    # the knots stay the sample's (ganaug.gan.codec.quantile_knots): the exact extremes are
    # training values, which an artifact or export must not carry
    dtype = column.dtype
    if summary.n_missing and not holds_missing(dtype):  # a batch without gaps read as int
        dtype = "float64"
    return replace(column, dtype=dtype, integer=summary.integer, missing_rate=rate)


def label_indices(y: np.ndarray, classes: np.ndarray, lookup: dict[Any, int] | None = None) -> np.ndarray:
    """Class indices of many labels: each distinct label is looked up once."""
    codes, uniques = pd.factorize(pd.Series(y), use_na_sentinel=False)
    return class_index(np.asarray(uniques, dtype=object), classes, lookup)[codes]


def _uniform_hash(row_ids: np.ndarray, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per row id and seed (splitmix64), independent of sharding."""
    with np.errstate(over="ignore"):
        z = row_ids.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class StreamRows:
    """A :class:`~ganaug.gan.row_sources.RowSource` that reads and encodes the table batch by batch.

    Parameters
    ----------
    source : TableSource
        This process's rows.
    codec : TableCodec
        Fitted codec.
    classes : ndarray
        Class labels.
    class_counts : ndarray
        Rows per class over all processes (they set the hold-out rates).
    comm : Local or Distributed, optional
        The processes sharing the table.
    seed : int
        Seed of the hold-out hash and the reading order.
    buffer_rows, batch_rows : int
        Shuffle buffer size; rows read at a time.
    """

    def __init__(
        self,
        source: TableSource,
        codec: TableCodec,
        classes: np.ndarray,
        class_counts: np.ndarray,
        comm: Local | None = None,
        seed: int = 0,
        buffer_rows: int = BUFFER_ROWS,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self.source, self.codec, self.classes = source, codec, classes
        self.class_counts = np.asarray(class_counts)
        self.comm = comm or Local()
        self.seed = seed
        self.buffer_rows, self.batch_rows = buffer_rows, batch_rows
        self.rates = np.zeros(len(classes))
        self._lookup = class_lookup(classes)
        self._stats: tuple[CopulaStatistics, CopulaStatistics] | None = None
        self._holdout: tuple[np.ndarray, np.ndarray] | None = None

    def _encoded(
        self, order: np.ndarray | None = None, batch_rows: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(codes, class indices, held-out mask)`` per batch read."""
        for X, y, ids in self.source.batches(batch_rows or self.batch_rows, order):
            y_idx = label_indices(y, self.classes, self._lookup)
            held = _uniform_hash(ids, self.seed) < self.rates[y_idx]
            yield self.codec.encode(X), y_idx, held

    def hold_out(
        self, fraction: float, strict: bool, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        if not 0 < fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1); got {fraction}")
        per_class = HOLDOUT_ROWS / max(len(self.classes), 1)
        counts = np.maximum(self.class_counts, 1)
        self.rates = np.where(self.class_counts >= 3, np.minimum(fraction, per_class / counts), 0.0)
        self._scan()
        assert self._holdout is not None
        if strict and not self.comm.any(len(self._holdout[1]) > 0):
            raise ValueError("too few rows to hold out a validation set for early stopping")
        return self._holdout

    def _scan(self) -> None:
        """The pass that sums the copula statistics and collects the held-out rows."""
        if self._stats is not None:
            return
        n_classes, dim = len(self.classes), self.codec.output_dim
        train, held = CopulaStatistics.zeros(n_classes, dim), CopulaStatistics.zeros(n_classes, dim)
        kept_Z, kept_y = [], []
        for Z, y_idx, mask in self._encoded():
            Z_t, y_t = torch.from_numpy(Z), torch.from_numpy(y_idx)
            train = train + copula_statistics(Z_t[~mask], y_t[~mask], n_classes)
            if mask.any():
                held = held + copula_statistics(Z_t[mask], y_t[mask], n_classes)
                kept_Z.append(Z[mask])
                kept_y.append(y_idx[mask])
        self._stats = (train, train + held)
        self._holdout = (
            np.concatenate(kept_Z) if kept_Z else np.empty((0, dim), np.float32),
            np.concatenate(kept_y) if kept_y else np.empty(0, np.int64),
        )
        self._n_train = int(train.counts.sum())

    def fit_copula(
        self, G: Generator, spans: Sequence[Span], n_classes: int, held_out: bool
    ) -> None:
        self._scan()
        assert self._stats is not None
        stats = sum_statistics(self._stats[int(held_out)], self.comm)
        G.set_copula(None, None, spans, statistics=stats)

    def start(self, device: torch.device, n_classes: int) -> int:
        self._scan()
        self.device, self.n_classes = device, n_classes
        self._rng = np.random.default_rng([self.seed, self.comm.rank])
        self._chunks = self._stream()
        Z, y = next(self._chunks)
        parts_Z, parts_y, filled = [Z], [y], len(y)
        while filled < self.buffer_rows:
            Z, y = next(self._chunks)
            if self._wrapped:  # the shard is smaller than the buffer
                break
            parts_Z.append(Z)
            parts_y.append(y)
            filled += len(y)
        data = torch.from_numpy(np.concatenate(parts_Z)[: self.buffer_rows]).to(device)
        labels = torch.from_numpy(np.concatenate(parts_y)[: self.buffer_rows]).to(device)
        self.pools = ClassPools(data, labels, n_classes)
        self._drawn = 0
        total = self.comm.sum(torch.tensor([float(self._n_train)], dtype=torch.float64))
        return math.ceil(float(total[0]) / self.comm.world_size)

    def _stream(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Training rows in chunks, forever: pieces in a new random order on each pass."""
        self._wrapped = False
        chunk = max(1024, min(self.batch_rows, self.buffer_rows // 8))
        while True:
            order = self._rng.permutation(len(self.source.pieces))
            for Z, y_idx, mask in self._encoded(order, chunk):
                if (~mask).any():
                    yield Z[~mask], y_idx[~mask]
            self._wrapped = True

    def draw(
        self, batch: int, gen: torch.Generator, uniform: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._drawn += batch
        if self._drawn >= len(self.pools.data) // 8 and not self._wrapped_small():
            self._refill()
        return self.pools.draw(batch, gen, uniform)

    def _wrapped_small(self) -> bool:
        # a shard that fits in the buffer is all there: nothing to refill
        return self._wrapped and len(self.pools.data) < self.buffer_rows

    def _refill(self) -> None:
        """Replace random buffer rows with as many freshly read ones as were drawn."""
        Z, y = next(self._chunks)
        at = torch.from_numpy(self._rng.choice(len(self.pools.data), size=min(len(y), len(self.pools.data)), replace=False))
        data, labels = self.pools.data.clone(), self.pools.labels.clone()
        data[at] = torch.from_numpy(Z[: len(at)]).to(self.device)
        labels[at] = torch.from_numpy(y[: len(at)]).to(self.device)
        self.pools = ClassPools(data, labels, self.n_classes)
        self._drawn = 0


#: a table with more cells (rows x columns) than this is streamed rather than loaded
STREAM_CELLS = 20_000_000


def fit_source(
    model: Any, source: TableSource, comm: Local | None = None, stream: bool | None = None
) -> Any:
    """Fit a :class:`~ganaug.gan.synthesizer.ConditionalGAN` on a table read piece by piece.

    Parameters
    ----------
    model : ConditionalGAN
        Unfitted model (its parameters are used as in :meth:`ConditionalGAN.fit`; the labels
        are the source's target column, modelled as classes).
    source : TableSource
        The whole table; this process reads only its shard.
    comm : Local or Distributed, optional
        The processes of a distributed job (default: this process alone).
    stream : bool, optional
        Train from a shuffle buffer refilled batch by batch (:class:`StreamRows`) rather than
        from the shard encoded in memory; default: when the table has more than
        :data:`STREAM_CELLS` cells.

    Returns
    -------
    ConditionalGAN
        The fitted model, the same on every process.

    Raises
    ------
    ShardError
        More processes than the table has shards.
    """
    from ganaug.core.noise import seed_from
    from ganaug.gan.row_sources import MemoryRows
    from ganaug.gan.synthesizer import resolve_device

    comm = comm or Local()
    model.config_ = model._config()
    device = getattr(comm, "device", None) or resolve_device(model.device)
    shard = source.shard(comm.rank, comm.world_size)
    # every rank must use the same seed, rank 0's when none was given
    model.random_state = comm.gather(seed_from(model.random_state))[0]
    codec, classes, counts = fit_codec(
        shard, comm, model.categorical_features, model.config_.numeric_encoding, model.random_state
    )
    check_several_classes(classes, f"the target column {source.target!r}")  # every rank stops
    model.codec_, model.classes_, model.class_counts_ = codec, classes, counts
    n_cells = int(counts.sum()) * len(codec.schema_.columns)
    if stream if stream is not None else n_cells > STREAM_CELLS:
        rows: Any = StreamRows(shard, codec, classes, counts, comm, model.random_state)
    else:
        parts = [(codec.encode(X), label_indices(y, classes)) for X, y, _ in shard.batches()]
        rows = MemoryRows(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), comm)
    return model._fit_rows(rows, device, comm)
