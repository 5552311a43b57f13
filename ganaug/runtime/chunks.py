"""How a sampling request is cut into chunks and spread over threads: sizes, thread count, pool.

A large request is cut into chunks (whole noise blocks, at most ``batch_size`` rows) of which
``n_threads`` run side by side (:func:`run_chunks`), each drawing its chunk's noise and running
single-threaded ONNX Runtime calls of :data:`INFERENCE_ROWS` rows (numpy and ONNX Runtime both
release the GIL). Measured on 2 cores, 30 numeric columns: about 1.5x the throughput of one call
on ONNX Runtime's own 2-thread pool, because drawing the noise costs as much as the network and
now runs in parallel too.

Used by :class:`ganaug.runtime.OnnxGenerator`; numpy and the standard library only.

Every :class:`~ganaug.runtime.OnnxGenerator` runs its chunks on one persistent thread pool shared
by the whole process (:func:`shared_executor`), created on first use, instead of a pool per call:
threads are not started and joined for every request, and the pool's size is a process-wide cap
on sampling threads, however many requests run at once. :func:`set_max_workers` fixes that cap
(a server calls it once at start-up); until then the pool has :func:`default_num_threads` workers,
or more if a generator is built with a larger ``n_threads``. A generator can also be given its own
``concurrent.futures.Executor`` (``OnnxGenerator(..., executor=...)``).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np

from ganaug.core.limits import positive_int
from ganaug.core.noise import NOISE_BLOCK_ROWS, noise_rows

INFERENCE_ROWS = 2 * NOISE_BLOCK_ROWS
"""Rows per ONNX Runtime call: the activations of 2,048 rows stay in the CPU caches, which measured
about 20% more rows/s than calls of 65,536 rows on both presets (one thread)."""
MAX_DEFAULT_THREADS = 8
"""Cap of the default thread count: every thread adds a chunk of up to ``batch_size`` rows to the
memory a large request holds."""
THREAD_NAME_PREFIX = "ganaug-sample"

# a chunk job: rows [start, stop) of the noise stream, and their class indices
_Job = tuple[int, int, np.ndarray]

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_fixed_size: int | None = None  # set by set_max_workers: the pool never grows past it


def default_num_threads() -> int:
    """Sampling threads used by default: the CPUs this process may use, at most 8."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, MAX_DEFAULT_THREADS))


def _replace_pool(size: int) -> ThreadPoolExecutor:
    """A new shared pool of ``size`` workers (caller holds the lock); the old one drains."""
    global _pool, _pool_size
    old = _pool
    _pool = ThreadPoolExecutor(size, thread_name_prefix=THREAD_NAME_PREFIX)
    _pool_size = size
    if old is not None:  # work already queued on it still runs; its threads then exit
        old.shutdown(wait=False)
    return _pool


def set_max_workers(max_workers: int | None) -> None:
    """Fix the size of the shared sampling pool: a process-wide cap on sampling threads.

    Parameters
    ----------
    max_workers : int or None
        Worker threads of the shared pool; ``None`` goes back to the default
        (:func:`default_num_threads`, grown for generators asking for more ``n_threads``). A
        generator's ``n_threads`` above this cap runs no more than ``max_workers`` chunks at once.
        Requests already running finish on the previous pool.
    """
    global _fixed_size
    size = None if max_workers is None else positive_int(max_workers, "max_workers")
    with _lock:
        _fixed_size = size
        if _pool is not None:
            _replace_pool(size or default_num_threads())


def max_workers() -> int:
    """The size the shared sampling pool has (or will have when first used)."""
    with _lock:
        return _pool_size if _pool is not None else (_fixed_size or default_num_threads())


def shared_executor(wanted: int = 1) -> ThreadPoolExecutor:
    """The process-wide sampling pool, created on first use.

    Parameters
    ----------
    wanted : int, default=1
        Threads the caller would like to run at once: without a cap set by
        :func:`set_max_workers`, a smaller pool is replaced by one of this size.
    """
    with _lock:
        size = _fixed_size or max(default_num_threads(), wanted)
        if _pool is None or (_fixed_size is None and _pool_size < size):
            return _replace_pool(size)
        return _pool


def _forget_pool() -> None:
    # a forked child inherits the pool object but not its threads: start afresh there
    global _lock, _pool, _pool_size
    _lock = threading.Lock()
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_chunks(
    run: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    n: int,
    chunk: int,
    conditions_of: Callable[[int, int], np.ndarray],
    seed: int,
    noise_dim: int,
    widths: tuple[int, int],
    n_threads: int,
    executor: Executor | None = None,
    out: tuple[np.ndarray, np.ndarray] | None = None,
    offset: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(numeric, codes, conditions)`` per chunk of ``chunk`` rows of the ``n`` rows, in
    order, each computed by ``run(noise, conditions)`` in calls of :data:`INFERENCE_ROWS` rows.

    ``conditions_of(start, stop)`` gives the class indices of rows ``[start, stop)``; the noise of
    row ``i`` is row ``offset + i`` of stream ``seed`` (``noise_dim`` columns; rejection sampling
    reads later rows). When there is more than one chunk, up to ``n_threads`` of them run at once
    on ``executor`` (default: :func:`shared_executor`) and one more waits, so memory stays bounded
    by the chunk size however many rows are asked for. ``widths``: numeric and code columns of an
    output row. With ``out`` (arrays of all the rows), each chunk is written into its rows of
    ``out`` and yielded as views of them.
    """
    n_num, n_cat = widths
    jobs = (
        (a, b, conditions_of(a, b))
        for a, b in ((a, min(n, a + chunk)) for a in range(0, n, chunk))
    )

    def work(job: _Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start, stop, cond = job
        if out is not None:
            numeric, codes = out[0][start:stop], out[1][start:stop]
        elif stop - start <= INFERENCE_ROWS:  # one call: keep ONNX Runtime's own arrays
            return (*run(noise_rows(seed, offset + start, offset + stop, noise_dim), cond), cond)
        else:
            numeric = np.empty((stop - start, n_num), dtype=np.float32)
            codes = np.empty((stop - start, n_cat), dtype=np.int64)
        for a in range(start, stop, INFERENCE_ROWS):
            b = min(stop, a + INFERENCE_ROWS)
            rows = slice(a - start, b - start)
            noise = noise_rows(seed, offset + a, offset + b, noise_dim)
            numeric[rows], codes[rows] = run(noise, cond[rows])
        return numeric, codes, cond

    if n <= chunk or n_threads == 1:
        yield from map(work, jobs)
        return
    # at most n_threads chunks in flight and one more queued, on the persistent pool (looked
    # up per chunk: set_max_workers may replace the shared pool while a request runs)
    window: deque[Future[tuple[np.ndarray, np.ndarray, np.ndarray]]] = deque()
    try:
        for job in jobs:
            pool = executor or shared_executor(n_threads)
            window.append(pool.submit(work, job))
            if len(window) > n_threads:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        # also when the consumer stops early or drops the generator: chunks not started are
        # cancelled, so the pool's threads go back to other requests at once (running chunks
        # finish on their own; nobody waits for them)
        for future in window:
            future.cancel()
