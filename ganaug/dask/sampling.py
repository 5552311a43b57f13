"""Sample an exported generator as a ``dask.dataframe``, and write it as a Parquet dataset."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np

from ganaug.core.noise import check_n, seed_from
from ganaug.runtime import OnnxGenerator
from ganaug.runtime.partitions import (
    LABEL_COLUMN,
    open_generator,
    partition_bounds,
    sample_range,
)

PARTITION_ROWS = 500_000
"""Default rows per partition: 500,000 rows of 30 numeric columns are 120 MB as float64, so a
worker holds a few hundred MB while it computes and writes one, however many rows in all."""


class _Rows:
    """The task of one partition: ``sample_range`` of the file at ``path`` (picklable, small)."""

    def __init__(self, path: str, n: int, seed: int, label_column: str | None) -> None:
        self.path, self.n, self.seed, self.label_column = path, n, seed, label_column

    def __call__(self, task: tuple[int, int, Any]) -> Any:
        start, stop, y = task
        return sample_range(
            self.path, start, stop, self.n, self.seed, y, label_column=self.label_column
        )


def _partition_labels(y: Any, n: int, bounds: list[tuple[int, int]]) -> list[Any]:
    """The ``y`` each partition needs: the whole of a label or mapping, a slice of n labels."""
    if y is None or isinstance(y, Mapping):
        return [y] * len(bounds)
    labels = np.atleast_1d(np.asarray(y, dtype=object))
    if len(labels) == 1:
        return [y] * len(bounds)
    if len(labels) != n:
        raise ValueError(f"y must be one label or n={n} labels; got {len(labels)}")
    return [labels[a:b] for a, b in bounds]


def sample(
    model: str | os.PathLike[str] | OnnxGenerator,
    n: int,
    *,
    npartitions: int | None = None,
    random_state: Any = None,
    y: Any = None,
    label_column: str | None = LABEL_COLUMN,
) -> dd.DataFrame:
    """``n`` rows of an exported generator as a lazy ``dask.dataframe``, computed by the workers.

    Partition ``k`` covering rows ``[a, b)`` is rows ``a .. b-1`` of the single-process
    ``OnnxGenerator(model).sample(n, y, random_state=seed)`` (with the class label as the last
    column, see :func:`ganaug.runtime.partitions.sample_range`), for any ``npartitions``: the
    computed frame equals the single-process one, index ``0 .. n-1`` included.

    Parameters
    ----------
    model : path-like or OnnxGenerator
        The ``.onnx`` file. Its path travels to the workers, which open it themselves (once per
        process), so it must be readable there: a shared file system, or the same path on
        every node.
    n : int
        Rows in all.
    npartitions : int, optional
        Partitions (at most ``n``); default one per 500,000 rows.
    random_state : int, numpy Generator or RandomState, optional
        Seed of the noise, as in :meth:`OnnxGenerator.sample` (None: a fresh seed, fixed when
        this function is called).
    y : None, label, n labels or mapping, optional
        As in :meth:`OnnxGenerator.sample`; also ``{label: rows}`` (rows summing to ``n``).
    label_column : str or None, default="label"
        Name of the class label column (None: no label column).

    Returns
    -------
    dask.dataframe.DataFrame
        Known divisions (the row numbers); the training table's column names and dtypes.
    """
    gen = open_generator(model)  # checks the file here, before any worker does
    n = check_n(n)
    if npartitions is None:
        npartitions = min(n, -(-n // PARTITION_ROWS))
    bounds = partition_bounds(n, npartitions)
    seed = seed_from(random_state)
    labels = _partition_labels(y, n, bounds)
    task = _Rows(str(gen.path.resolve()), n, seed, label_column)
    tasks = [(a, b, part) for (a, b), part in zip(bounds, labels, strict=True)]
    # the metadata is that of a real row, so dtypes (categories, strings) match every partition
    a, _, part = tasks[0]
    meta = sample_range(
        gen, a, a + 1, n, seed, part[:1] if _is_slice(part) else part, label_column=label_column
    ).iloc[:0]
    divisions = [a for a, _ in bounds] + [n - 1]
    # keep the generator's dtypes (Dask would turn string columns into pyarrow strings), so the
    # computed frame is the single-process one
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(task, tasks, meta=meta, divisions=divisions, label="ganaug-sample")


def _is_slice(part: Any) -> bool:
    return isinstance(part, np.ndarray) and part.ndim == 1 and len(part) > 1


def write_parquet(frame: dd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a ``dask.dataframe`` as a directory of Parquet files, one per partition, atomically.

    The files go to a hidden directory beside ``path``, renamed to ``path`` once every worker
    has written its part, so a failed run leaves no half-written dataset. Workers write the
    files themselves: the directory must be on storage every worker can write to.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
    path : path-like
        A directory that does not exist yet, or is empty.

    Returns
    -------
    Path

    Raises
    ------
    FileExistsError
        ``path`` is a file or a non-empty directory.
    """
    out = Path(path)
    check_output_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex}.tmp"
    frame = frame.rename(columns={c: str(c) for c in frame.columns})  # Parquet names are strings
    try:
        frame.to_parquet(tmp, write_index=False)
        if out.is_dir():
            out.rmdir()  # empty (checked above); rename() cannot replace it on every system
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def check_output_dir(path: str | os.PathLike[str]) -> None:
    """Refuse an output dataset directory that is a file or a non-empty directory.

    Raises
    ------
    FileExistsError
        Naming the path.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"output {str(out)!r} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise FileExistsError(f"output directory {str(out)!r} exists and is not empty")
