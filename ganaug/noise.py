"""Noise and condition plans for sampling (numpy only).

Shared by torch sampling and the ONNX runtime so that the same seed gives the same rows in both:
noise is drawn from ``numpy.random.default_rng(seed)`` in one sequential stream, batch after batch,
which yields the same numbers however the stream is cut into batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np


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
    return np.repeat(np.arange(len(counts), dtype=np.int64), np.asarray(counts, dtype=np.int64))


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


def noise_batches(
    conditions: np.ndarray, noise_dim: int, seed: int, batch_size: int = 65536
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
    """
    rng = np.random.default_rng(seed)
    conditions = np.asarray(conditions, dtype=np.int64)
    for start in range(0, len(conditions), batch_size):
        cond = conditions[start : start + batch_size]
        yield rng.standard_normal((len(cond), noise_dim), dtype=np.float32), cond


def check_n(n: object) -> int:
    """``n`` as an int, or a ValueError if it is not a positive integer (bools refused)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    return int(n)


def plan_conditions(
    n: int, y: object, class_counts: np.ndarray, class_index: Callable[[np.ndarray], np.ndarray]
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
    """
    n = check_n(n)
    if y is None:
        return conditions_from_counts(split_counts(n, class_counts))
    labels = np.atleast_1d(np.asarray(y, dtype=object))
    if len(labels) == 1:
        return np.full(n, class_index(labels)[0], dtype=np.int64)
    if len(labels) != n:
        raise ValueError(f"y must be one label or n={n} labels; got {len(labels)}")
    return class_index(labels)
