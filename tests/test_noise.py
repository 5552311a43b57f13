"""ganaug.core.noise: the noise stream both samplers share, and the sampling plan."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ganaug.core.noise import (
    NOISE_BLOCK_ROWS,
    conditions_from_counts,
    noise_batches,
    noise_rows,
    seed_from,
    split_counts,
)

B = NOISE_BLOCK_ROWS


def test_noise_rows_do_not_depend_on_how_the_stream_is_cut():
    n = 3 * B + 77
    whole = noise_rows(7, 0, n, 5)
    assert whole.shape == (n, 5) and whole.dtype == np.float32
    cuts = [0, 1, B - 1, B, B + 300, 2 * B + 5, n]
    parts = [noise_rows(7, a, b, 5) for a, b in itertools.pairwise(cuts)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    batches = list(noise_batches(np.zeros(n, np.int64), 5, seed=7, batch_size=333))
    np.testing.assert_array_equal(np.concatenate([z for z, _ in batches]), whole)
    assert noise_rows(7, 10, 10, 5).shape == (0, 5)


def test_noise_rows_follow_the_documented_recipe():
    # the recipe stored in exported ONNX files, for users who draw the noise themselves
    block = 2
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(11, spawn_key=(block,))))
    expected = rng.standard_normal((B, 4), dtype=np.float32)
    np.testing.assert_array_equal(noise_rows(11, block * B, (block + 1) * B, 4), expected)


def test_noise_is_standard_normal_and_seeded():
    z = noise_rows(0, 0, 20 * B, 8).ravel()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    # blocks are independent streams: no correlation between neighbouring blocks
    a, b = noise_rows(0, 0, B, 8).ravel(), noise_rows(0, B, 2 * B, 8).ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05
    assert not np.array_equal(noise_rows(0, 0, 10, 8), noise_rows(1, 0, 10, 8))


def test_split_counts_and_conditions():
    counts = split_counts(10, np.array([1, 1, 1]))
    assert counts.sum() == 10 and sorted(counts.tolist()) == [3, 3, 4]
    np.testing.assert_array_equal(conditions_from_counts(np.array([2, 0, 1])), [0, 0, 2])


def test_seed_from():
    assert seed_from(5) == 5
    assert seed_from(np.random.RandomState(0)) == seed_from(np.random.RandomState(0))
    assert isinstance(seed_from(None), int)
    with pytest.raises(ValueError, match="non-negative"):
        seed_from(-1)
    with pytest.raises(TypeError, match="random_state"):
        seed_from("0")
