"""How a sampling request is cut into chunks and spread over threads: sizes and thread count.

Used by :class:`ganaug.runtime.OnnxGenerator`; numpy and the standard library only.
"""

from __future__ import annotations

import os

import numpy as np

from ganaug.core.noise import NOISE_BLOCK_ROWS

INFERENCE_ROWS = 2 * NOISE_BLOCK_ROWS
"""Rows per ONNX Runtime call: the activations of 2,048 rows stay in the CPU caches, which measured
about 20% more rows/s than calls of 65,536 rows on both presets (one thread)."""
MAX_DEFAULT_THREADS = 8
"""Cap of the default thread count: every thread adds a chunk of up to ``batch_size`` rows to the
memory a large request holds."""

# a chunk job: rows [start, stop) of the noise stream, and their class indices
_Job = tuple[int, int, np.ndarray]


def default_num_threads() -> int:
    """Sampling threads used by default: the CPUs this process may use, at most 8."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, MAX_DEFAULT_THREADS))
