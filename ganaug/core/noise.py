"""Noise and condition plans for sampling (numpy only).

Shared by torch sampling and the ONNX runtime so that the same seed gives the same rows in both.
The noise of row ``i`` depends only on the seed and ``i``: rows come in blocks of
:data:`NOISE_BLOCK_ROWS`, and block ``k`` is drawn from its own stream, child ``k`` of
``numpy.random.SeedSequence(seed)`` (numpy's documented way to make independent streams). So the
numbers are the same however the rows are cut into batches, and batches can be drawn in parallel
(numpy releases the GIL while filling), which is what lets the ONNX runtime use every core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ganaug.core.limits import check_row_count, check_rows_in_memory


def split_counts(n: int, weights: np.ndarray) -> np.ndarray:
    """Split ``n`` rows over classes in proportion to ``weights`` (largest remainder, exact total).

    Parameters
    ----------
    n : int
        Total rows.
    weights : ndarray of shape (n_classes,)
        Non-negative class weights.

    Returns
    -------
    ndarray of int64
        Rows per class, summing to ``n``.
    """
    weights = np.asarray(weights, dtype=np.float64)
    share = weights / weights.sum() * n
    counts = np.floor(share).astype(np.int64)
    remainder = int(n - counts.sum())
    if remainder:
        order = np.argsort(-(share - counts), kind="stable")
        counts[order[:remainder]] += 1
    return counts


def conditions_from_counts(counts: np.ndarray) -> np.ndarray:
    """Class index per row, grouped by class in class order."""
    counts = np.asarray(counts, dtype=np.int64)
    return conditions_range(counts, 0, int(counts.sum()))


def conditions_range(
    counts: np.ndarray, start: int, stop: int, index: np.ndarray | None = None
) -> np.ndarray:
    """Rows ``[start, stop)`` of ``conditions_from_counts(counts)``, without drawing the others.

    Parameters
    ----------
    counts : ndarray of int
        Rows per group, the groups one after the other.
    start, stop : int
        Row range, ``0 <= start <= stop <= counts.sum()``.
    index : ndarray of int64, optional
        Class index of each group (default: the group's position, as in
        :func:`conditions_from_counts`).

    Returns
    -------
    ndarray of int64, shape (stop - start,)
    """
    counts = np.asarray(counts, dtype=np.int64)
    ends = np.cumsum(counts)
    # the part of each group's rows [end - count, end) that falls inside [start, stop)
    inside = np.clip(np.minimum(ends, stop) - np.maximum(ends - counts, start), 0, None)
    groups = np.arange(len(counts), dtype=np.int64) if index is None else np.asarray(index, np.int64)
    return np.repeat(groups, inside)


def seed_from(random_state: int | np.random.Generator | np.random.RandomState | None) -> int:
    """An int seed from an int, a numpy Generator or RandomState, or None (fresh entropy)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, (int, np.integer)):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative; got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise TypeError(f"random_state must be an int, a numpy Generator/RandomState or None; got {random_state!r}")


NOISE_BLOCK_ROWS = 1024
"""Rows per noise block: small enough that a short request draws little more than it needs, large
enough that creating a block's generator (about 20 us) costs about 1% of drawing it."""


def noise_rows(seed: int, start: int, stop: int, noise_dim: int) -> np.ndarray:
    """Standard-normal float32 noise of rows ``[start, stop)`` of the stream ``seed``.

    Row ``i`` is row ``i % NOISE_BLOCK_ROWS`` of ``Generator(PCG64(SeedSequence(seed,
    spawn_key=(i // NOISE_BLOCK_ROWS,)))).standard_normal((rows, noise_dim), dtype=float32)``: a
    block's stream fills row by row, so only the rows of a block up to ``stop`` are drawn.

    Parameters
    ----------
    seed : int
        Seed of the stream (non-negative).
    start, stop : int
        Row range, ``0 <= start <= stop``.
    noise_dim : int
        Width of the noise input.

    Returns
    -------
    ndarray of float32, shape (stop - start, noise_dim)
    """
    out = np.empty((stop - start, noise_dim), dtype=np.float32)
    rows = NOISE_BLOCK_ROWS
    for block in range(start // rows, -(-stop // rows)):
        lo = block * rows
        a, b = max(lo, start), min(lo + rows, stop)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        if a == lo:  # draw straight into the output (no copy)
            rng.standard_normal(dtype=np.float32, out=out[a - start : b - start])
        else:  # the batch starts inside the block: draw its head too, keep the tail
            out[a - start : b - start] = rng.standard_normal((b - lo, noise_dim), dtype=np.float32)[a - lo :]
    return out


def noise_batches(
    conditions: np.ndarray, noise_dim: int, seed: int, batch_size: int = 65536, offset: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(noise float32 (b, noise_dim), conditions int64 (b,))`` batches.

    Parameters
    ----------
    conditions : ndarray of int64
        Class index per row to generate.
    noise_dim : int
        Width of the noise input.
    seed : int
        Seed of the noise stream.
    batch_size : int
        Rows per batch; peak memory is bounded by it, not by the total.
    offset : int
        Stream row of the first row (rejection sampling draws later rows of the stream).
    """
    conditions = np.asarray(conditions, dtype=np.int64)
    for start in range(0, len(conditions), batch_size):
        cond = conditions[start : start + batch_size]
        a = offset + start
        yield noise_rows(seed, a, a + len(cond), noise_dim), cond


def check_conditions(conditions: object, n_classes: int) -> np.ndarray:
    """Class indices as int64, or a ValueError: not 1-D, not integers, or outside ``[0, n_classes)``.

    Every sampler checks its conditions with this before running (an exported graph would
    otherwise wrap ``-1`` to the last class).
    """
    cond = np.asarray(conditions)
    if cond.ndim != 1:
        raise ValueError(f"conditions must be 1-dimensional; got shape {cond.shape}")
    if len(cond) and cond.dtype.kind not in "iu":
        raise ValueError(f"conditions must be integer class indices; got dtype {cond.dtype}")
    cond = cond.astype(np.int64, copy=False)
    if len(cond) and (cond.min() < 0 or cond.max() >= n_classes):
        raise ValueError(
            f"condition indices must be in [0, {n_classes}); got [{cond.min()}, {cond.max()}]"
        )
    return cond


def check_noise(noise: object, noise_dim: int) -> np.ndarray:
    """``noise`` as a contiguous float32 array: a ValueError unless it is a finite numeric array
    of shape ``(rows, noise_dim)``."""
    noise = np.asarray(noise)
    if noise.ndim != 2 or noise.shape[1] != noise_dim or noise.dtype.kind not in "fiu":
        raise ValueError(
            f"noise must be a numeric array of shape (rows, {noise_dim}); got shape "
            f"{noise.shape} and dtype {noise.dtype}"
        )
    noise = np.ascontiguousarray(noise, dtype=np.float32)
    if not np.isfinite(noise).all():
        raise ValueError("noise must be finite: it holds NaN or infinite values")
    return noise


def check_n(n: object) -> int:
    """``n`` as an int: a ValueError if it is not a positive integer (bools refused), a
    SizeLimitError past :data:`ganaug.core.limits.MAX_ROWS`."""
    return check_row_count(n)


def chunk_conditions(
    n: int, y: object, class_counts: np.ndarray, class_index: Callable[[np.ndarray], np.ndarray]
) -> Callable[[int, int], np.ndarray]:
    """The plan of :func:`plan_conditions` worked out a range of rows at a time.

    Returns ``conditions_of(start, stop)``, the class indices of rows ``[start, stop)`` of
    ``sample(n, y)``, so a stream of ``n`` rows holds no array of ``n`` conditions when ``y`` is
    None or one label (``n`` labels are mapped once).
    """
    labels = None if y is None else np.atleast_1d(np.asarray(y, dtype=object))
    if labels is not None and len(labels) not in (1, n):
        raise ValueError(f"y must be one label or n={n} labels; got {len(labels)}")
    if labels is None:
        bounds = np.cumsum(split_counts(n, class_counts))
        return lambda start, stop: np.searchsorted(
            bounds, np.arange(start, stop), side="right"
        ).astype(np.int64)
    if len(labels) == n and n > 1:
        every = class_index(labels)
        return lambda start, stop: every[start:stop]
    only = int(class_index(labels)[0])
    return lambda start, stop: np.full(stop - start, only, dtype=np.int64)


def plan_conditions(
    n: int,
    y: object,
    class_counts: np.ndarray,
    class_index: Callable[[np.ndarray], np.ndarray],
    bytes_per_row: int = 8,
) -> np.ndarray:
    """Class index per row for ``sample(n, y)``: the one plan torch and ONNX sampling share.

    Parameters
    ----------
    n : int
        Rows to sample (checked positive).
    y : None, a label, or n labels
        None: classes in training proportions (exact counts, largest remainder); one label: all
        rows of that class; n labels: one row per label.
    class_counts : ndarray
        Training rows per class.
    class_index : callable
        Maps an array of labels to class indices (unknown labels raise ValueError).
    bytes_per_row : int, default=8
        Memory one sampled row takes (:func:`ganaug.core.limits.row_bytes`): ``n`` rows that
        would not fit in the memory available are refused (SizeLimitError) before any work.
    """
    n = check_rows_in_memory(check_n(n), bytes_per_row)
    return plan_conditions_range(n, y, class_counts, class_index, 0, n)


def plan_conditions_range(
    n: int,
    y: object,
    class_counts: np.ndarray,
    class_index: Callable[[np.ndarray], np.ndarray],
    start: int,
    stop: int,
) -> np.ndarray:
    """Rows ``[start, stop)`` of ``plan_conditions(n, y, ...)``, in memory ``O(stop - start)``.

    The plan of a slice of a sampling request, so that the rows of a request can be computed
    in pieces (for example one piece per Dask partition) and still be the rows of the whole.

    Parameters
    ----------
    n : int
        Rows of the whole request.
    y : None, a label, n labels or ``stop - start`` labels
        As in :func:`plan_conditions`; a sequence of ``stop - start`` labels gives the labels of
        these rows only (the two readings agree when the slice is the whole request).
    class_counts : ndarray
        Training rows per class.
    class_index : callable
        Maps an array of labels to class indices (unknown labels raise ValueError).
    start, stop : int
        Row range, ``0 <= start <= stop <= n``.

    Returns
    -------
    ndarray of int64, shape (stop - start,)
    """
    if not 0 <= start <= stop <= n:
        raise ValueError(f"row range [{start}, {stop}) is not inside [0, {n})")
    if y is None:
        return conditions_range(split_counts(n, class_counts), start, stop)
    labels = np.atleast_1d(np.asarray(y, dtype=object))
    if len(labels) == 1:
        return np.full(stop - start, class_index(labels)[0], dtype=np.int64)
    if len(labels) == n:
        return class_index(labels[start:stop])
    if len(labels) == stop - start:
        return class_index(labels)
    raise ValueError(f"y must be one label or n={n} labels; got {len(labels)}")
