"""Sample any row range of a request, for data-parallel engines (Dask, Spark, Ray): pandas out.

``sample_range(path, start, stop, n, seed)`` returns rows ``start .. stop - 1`` of the rows that
``OnnxGenerator(path).sample(n, random_state=seed)`` returns, as one DataFrame (the features,
then the class label). It needs no engine: each worker of any engine calls it on its own rows,
and the pieces, put end to end, are the single-process result for any partitioning. This holds
by construction, because it computes a row the way :class:`~ganaug.runtime.OnnxGenerator` does:

- the noise of row ``i`` depends only on the seed and ``i`` (:func:`ganaug.core.noise.noise_rows`);
- the class of row ``i`` comes from :func:`ganaug.core.noise.plan_conditions_range`, the slice of
  the plan :meth:`OnnxGenerator.sample` uses (:func:`ganaug.core.noise.plan_conditions`);
- the network is applied row by row (:meth:`OnnxGenerator.run`), and
  :func:`ganaug.core.schema.assemble` restores the training table's columns and dtypes.

What travels to a worker is the path of the ``.onnx`` file (it must be readable there: a shared
file system or a copy on each node); each process opens the file once and keeps the generator
(:func:`open_generator`). The Dask front end is :mod:`ganaug.dask`; ``docs/scaling.md`` shows
Spark's ``mapInPandas`` and Ray Data's ``map_batches`` calling this function.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.errors import ArtifactError
from ganaug.core.noise import (
    check_n,
    conditions_range,
    noise_rows,
    plan_conditions_range,
    seed_from,
)
from ganaug.core.protocol import has_label
from ganaug.core.schema import assemble
from ganaug.runtime.chunks import INFERENCE_ROWS
from ganaug.runtime.generator import OnnxGenerator

__all__ = ["open_generator", "partition_bounds", "sample_range", "sample_table"]

LABEL_COLUMN = "label"


def partition_bounds(n: int, npartitions: int) -> list[tuple[int, int]]:
    """Cut rows ``[0, n)`` into ``npartitions`` consecutive ranges of near-equal size.

    Parameters
    ----------
    n : int
        Rows in all (positive).
    npartitions : int
        Number of ranges, ``1 <= npartitions <= n`` (every range holds at least one row).

    Returns
    -------
    list of (start, stop)
    """
    n = check_n(n)
    if (
        isinstance(npartitions, bool)
        or not isinstance(npartitions, (int, np.integer))
        or not (1 <= npartitions <= n)
    ):
        raise ValueError(f"npartitions must be an integer in [1, n={n}]; got {npartitions!r}")
    cuts = [n * k // int(npartitions) for k in range(int(npartitions) + 1)]
    return list(itertools.pairwise(cuts))


@functools.lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int, size: int) -> OnnxGenerator:
    # keyed on the file's modification time and size too, so a re-exported file is reopened
    return OnnxGenerator(path, n_threads=1)


def open_generator(model: str | os.PathLike[str] | OnnxGenerator) -> OnnxGenerator:
    """The generator of an ``.onnx`` file, opened once per process (one sampling thread).

    Parameters
    ----------
    model : path-like or OnnxGenerator
        A path is opened (or found in this process's cache); a generator is returned as is.

    Raises
    ------
    ArtifactError
        The file is missing or not a ganaug ``.onnx`` export.
    """
    if isinstance(model, OnnxGenerator):
        return model
    path = Path(model).resolve()
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ArtifactError(f"{model}: no such ONNX file") from None
    return _cached(str(path), stat.st_mtime_ns, stat.st_size)


def sample_table(
    gen: OnnxGenerator, X: Any, labels: np.ndarray, label_column: str | None = LABEL_COLUMN
) -> pd.DataFrame:
    """``(X, y)`` of :meth:`OnnxGenerator.sample` as the DataFrame :func:`sample_range` returns.

    The features keep their names and dtypes (a model trained on an array names its columns
    ``"0"``, ``"1"`` ...: engines and Parquet want string names); classification models append
    ``label_column`` (None leaves it out), regression models their generated target under the
    name of the modelled target column.
    """
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        frame = pd.DataFrame(X, columns=[str(c) for c in gen.schema.names[: np.shape(X)[1]]])
    if gen.task == "regression":
        return frame.assign(**{str(gen.target): labels})
    if label_column is None or not has_label(gen):
        return frame
    if label_column in frame.columns:
        raise ValueError(f"label_column {label_column!r} is already a column name; choose another")
    return frame.assign(**{label_column: labels})


def sample_range(
    model: str | os.PathLike[str] | OnnxGenerator,
    start: int,
    stop: int,
    n_total: int,
    seed: int,
    y: Any = None,
    *,
    label_column: str | None = LABEL_COLUMN,
) -> pd.DataFrame:
    """Rows ``[start, stop)`` of ``OnnxGenerator(model).sample(n_total, y, random_state=seed)``.

    Parameters
    ----------
    model : path-like or OnnxGenerator
        The ``.onnx`` file (opened once per process, see :func:`open_generator`) or a generator.
    start, stop : int
        The rows to compute, ``0 <= start < stop <= n_total``.
    n_total : int
        Rows of the whole request: with ``y=None`` the classes' shares depend on it.
    seed : int
        Seed of the noise stream (non-negative); the same for every range of one request.
    y : None, label, sequence of labels or mapping, optional
        As in :meth:`OnnxGenerator.sample`: None (classes in training proportions), one label,
        or ``n_total`` labels; also ``stop - start`` labels (those of these rows only), or a
        mapping ``{label: rows}`` whose rows sum to ``n_total`` (that many rows of each class,
        the classes one after the other in the mapping's order: the same as ``y`` =
        ``numpy.repeat(list(mapping), list(mapping.values()))``).
    label_column : str or None, default="label"
        Name of the class label column appended for classification models (None: no column).

    Returns
    -------
    DataFrame
        ``stop - start`` rows indexed ``start .. stop - 1``: the features (names and dtypes of
        the training table), then the class label (classification) or the generated target
        (regression). Equal to ``sample_table(gen, *gen.sample(n_total, y, seed))`` sliced to
        ``start:stop``.
    """
    gen = open_generator(model)
    if gen.schema.constraints:
        # rejection needs the whole request: a range of it cannot know which rows come first
        raise ValueError(
            f"{gen.path}: the model has constraints, which sampling by row ranges (Dask) does "
            "not enforce yet; sample with OnnxGenerator.sample or write instead"
        )
    n_total = check_n(n_total)
    seed, start, stop = (
        _integer(name, v) for name, v in (("seed", seed), ("start", start), ("stop", stop))
    )
    seed = seed_from(seed)  # refuses a negative seed
    if not 0 <= start < stop <= n_total:
        raise ValueError(f"row range [{start}, {stop}) must be non-empty and inside [0, {n_total})")
    cond = _conditions(gen, n_total, y, start, stop)
    numeric = np.empty((stop - start, len(gen.schema.numeric_columns)), dtype=np.float32)
    codes = np.empty((stop - start, len(gen.schema.categorical_columns)), dtype=np.int64)
    for a in range(start, stop, INFERENCE_ROWS):  # calls of INFERENCE_ROWS rows keep caches warm
        b = min(stop, a + INFERENCE_ROWS)
        rows = slice(a - start, b - start)
        numeric[rows], codes[rows] = gen.run(noise_rows(seed, a, b, gen.noise_dim), cond[rows])
    joint = assemble(gen.schema, numeric, codes)
    if gen.task == "regression":
        X, labels = gen.split_target(joint)
    else:
        X, labels = joint, gen.classes_[cond]
    frame = sample_table(gen, X, labels, label_column)
    frame.index = pd.RangeIndex(start, stop)
    return frame


def _conditions(gen: OnnxGenerator, n: int, y: Any, start: int, stop: int) -> np.ndarray:
    """Class index of rows ``[start, stop)`` of the request."""
    if gen.task == "regression":
        if y is not None:
            raise ValueError("y must be None when sampling a regression model")
        return np.zeros(stop - start, dtype=np.int64)
    if isinstance(y, Mapping):
        counts = np.array([_count(label, rows) for label, rows in y.items()], dtype=np.int64)
        if counts.sum() != n:
            raise ValueError(f"the rows per class in y sum to {counts.sum()}, not n={n}")
        index = gen.class_index(np.array(list(y), dtype=object))
        return conditions_range(counts, start, stop, index)
    return plan_conditions_range(n, y, gen.class_counts_, gen.class_index, start, stop)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    return int(value)


def _count(label: Any, rows: Any) -> int:
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 0:
        raise ValueError(f"rows for class {label!r} must be a non-negative integer; got {rows!r}")
    return int(rows)
