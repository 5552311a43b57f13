"""Sample an exported generator with ONNX Runtime alone (no torch, no scikit-learn).

This module imports only the standard library, numpy, pandas, onnxruntime and the torch-free parts
of ganaug (:mod:`ganaug.core.schema`, :mod:`ganaug.core.noise`, :mod:`ganaug.core.errors`). A user with just those
packages installed gets the same rows as ganaug's torch sampler::

    from ganaug.runtime import OnnxGenerator

    gen = OnnxGenerator("model.onnx")
    X, y = gen.sample(1000, random_state=0)          # classes in training proportions
    X, y = gen.sample(200, y="yes", random_state=1)  # one class
    gen.write("synthetic.parquet", 10_000_000)       # streamed, bounded memory

Reproducibility: noise is drawn by :func:`ganaug.core.noise.noise_rows`, as the torch sampler draws it,
so ``OnnxGenerator.sample(n, y, random_state=s)`` gives the rows of ``ConditionalGAN.sample(n, y,
random_state=s)`` and of ``GANAugmenter.sample(n, y, random_state=s)``. Numeric values agree
to within a few float32 steps of the position in the column's quantile table, not of the value:
torch and ONNX Runtime round the network and the normal CDF differently in the last bits, and the
decode multiplies a change of the CDF by (knots - 1) x the gap between knots. The bound and its
measurement are in ``docs/onnx-format.md`` ("Parity with torch").

Threads: a large request is cut into chunks run side by side (:mod:`ganaug.runtime.chunks`); the
rows do not depend on the number of threads or the batch size.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.checks import check_knots, check_schema
from ganaug.core.conditions import generate_where, split_class_condition
from ganaug.core.errors import ArtifactError
from ganaug.core.labels import class_index, class_lookup, classes_from_json
from ganaug.core.limits import check_rows_in_memory, check_rows_on_disk, positive_int, row_bytes
from ganaug.core.noise import (
    NOISE_BLOCK_ROWS,
    check_conditions,
    check_n,
    check_noise,
    chunk_conditions,
    plan_conditions,
    seed_from,
)
from ganaug.core.onnx_format import (
    FORMAT,
    FORMAT_VERSION,
    METADATA_KEY,
    OUTPUT_NAMES,
    write_export,
)
from ganaug.core.protocol import has_label, sample_rows
from ganaug.core.schema import Schema, assemble, split_target
from ganaug.runtime.chunks import default_num_threads, run_chunks
from ganaug.runtime.loading import open_session, probe_classes, read_model
from ganaug.runtime.writers import file_format, table_frames, write_frames

DEFAULT_BATCH_SIZE = 65536

__all__ = ["FORMAT", "FORMAT_VERSION", "METADATA_KEY", "OnnxGenerator", "default_num_threads"]


class OnnxGenerator:
    """A generator exported by :func:`ganaug.export_onnx`, sampled with ONNX Runtime.

    Implements :class:`ganaug.core.protocol.RowGenerator`, as
    :class:`ganaug.gan.synthesizer.ConditionalGAN` does, so ``GANAugmenter(generator="model.onnx")``
    uses it in place of a trained GAN.

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file.
    n_threads : int, optional
        Chunks of one request run at once, each drawing its noise and running single-threaded
        ONNX Runtime calls; default :func:`default_num_threads`. The chunks run on the executor
        below, so its size caps them.
    batch_size : int, default=65536
        Most rows per chunk of work; peak memory of streaming (``iter_samples``, ``write``) is
        bounded by about ``(n_threads + 2) * batch_size`` rows (the chunks being computed, one
        queued, the one being written), whatever the number of rows.
    executor : concurrent.futures.Executor, optional
        Where the chunks run. Default: the process-wide persistent pool of
        :func:`ganaug.runtime.chunks.shared_executor`, whose size
        :func:`ganaug.runtime.chunks.set_max_workers` caps for every generator at once (a server's
        concurrency limit). Chunks not yet started are cancelled when a consumer of
        :meth:`iter_samples` stops early or drops the iterator.

    Attributes
    ----------
    schema : Schema
        Columns, dtypes, categories and missing-value rates of the training table.
    metadata : dict
        The full JSON description stored in the file.
    classes_ : ndarray
        Class labels, in condition-index order (a single ``None`` for unconditional models).
    class_counts_ : ndarray of int64
        Training rows per class (the default sampling proportions).
    task : {"classification", "regression"}
    target : str, int or None
        Regression: the jointly modelled target column (the last one). Classification: the
        class column's name in training (None when it had none).
    noise_dim : int

    Raises
    ------
    ArtifactError
        The file is missing, not a regular file, not a valid ONNX model, not exported by ganaug,
        of an unknown format version, changed since export (graph digest), or its metadata does
        not match the graph (the message names the file and the field).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        n_threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        executor: Executor | None = None,
    ) -> None:
        self.path = Path(path)
        self._executor = executor
        self._setup(read_model(self.path), n_threads, batch_size)

    # ------------------------------------------------------------------------- loading
    def _setup(self, blob: bytes, threads: int | None, batch_size: int) -> None:
        batch_size = positive_int(batch_size, "batch_size")
        threads = None if threads is None else positive_int(threads, "n_threads")
        self._model_bytes = blob
        self.batch_size = int(batch_size)
        self.n_threads = int(threads) if threads is not None else default_num_threads()
        self._session, meta, raw = open_session(blob, self.path)
        try:
            self.schema = Schema.from_dict(meta["schema"])
            self.classes_ = classes_from_json(meta)
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{self.path}: ganaug metadata is inconsistent: {exc}") from None
        # the same field checks as an artifact's description (dtypes against values, knots)
        check_schema(self.schema, f"{self.path}: metadata")
        check_knots(self.schema, meta["class_counts"], f"{self.path}: metadata")
        self.noise_dim = int(meta["noise_dim"])
        self.class_counts_ = np.asarray(meta["class_counts"], dtype=np.int64)
        self.task = meta.get("task", "classification")
        self.target = meta.get("target")
        self.metadata = meta
        self._metadata_json = raw
        self._lookup = class_lookup(self.classes_)
        if len(self._lookup) != len(self.classes_):
            raise ArtifactError(
                f"{self.path}: metadata field 'classes' lists a label twice: {meta['classes']}"
            )
        self._n_numeric = len(self.schema.numeric_columns)
        self._n_categorical = len(self.schema.categorical_columns)
        # levels per categorical column: a code past them (metadata cut by hand) is refused
        self._levels = np.array([len(c.categories) for c in self.schema.categorical_columns], np.int64)
        probe_classes(self._run, meta, len(self.classes_), self.noise_dim, self.path)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "blob": self._model_bytes,
            "threads": self.n_threads,
            "batch_size": self.batch_size,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = Path(state["path"])
        self._executor = None  # an executor does not pickle: the copy uses the shared pool
        self._setup(state["blob"], state["threads"], state["batch_size"])

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the exported file (and its ``.json`` sidecar) to ``path``, each atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_export(path, self._model_bytes, self._metadata_json)
        return path

    def __repr__(self) -> str:
        return (
            f"OnnxGenerator({str(self.path)!r}, task={self.task!r}, "
            f"columns={len(self.schema.columns)}, classes={len(self.classes_)})"
        )

    # ---------------------------------------------------------------------- conditions
    @property
    def label_name(self) -> str:
        """The class column's name in training, or ``"label"`` when it had none."""
        if self.task == "classification" and isinstance(self.target, str):
            return self.target
        return "label"

    @property
    def columns(self) -> list[Any]:
        """Column labels of the generated table (the target last for regression)."""
        return self.schema.names

    def class_index(self, labels: Any) -> np.ndarray:
        """Map class labels to condition indices; an unknown label is a ValueError naming it."""
        return class_index(labels, self.classes_, self._lookup)

    def _check_conditions(self, conditions: Any) -> np.ndarray:
        return check_conditions(conditions, len(self.classes_))

    def _conditions(self, n: int, y: Any) -> np.ndarray:
        return plan_conditions(n, y, self.class_counts_, self.class_index, self.row_bytes)

    @property
    def row_bytes(self) -> int:
        """Memory one sampled row takes, about (:func:`ganaug.core.limits.row_bytes`)."""
        return row_bytes(len(self.schema.columns))

    # -------------------------------------------------------------------------- running
    def run(self, noise: np.ndarray, condition: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One inference call: ``(noise, condition) -> (numeric, codes)``, raw graph outputs.

        Raises
        ------
        ValueError
            If ``noise`` is not a finite ``(rows, noise_dim)`` array or ``condition`` holds an
            index outside ``[0, n_classes)`` (the graph itself answers such rows with NaN and code
            -1, see ``docs/onnx-format.md``).
        """
        noise = check_noise(noise, self.noise_dim)
        condition = self._check_conditions(condition)
        if len(condition) != len(noise):
            raise ValueError(f"noise has {len(noise)} rows but condition has {len(condition)} entries")
        return self._run(noise, condition)

    def _run(self, noise: np.ndarray, condition: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        numeric, codes = self._session.run(
            list(OUTPUT_NAMES),
            {
                "noise": np.ascontiguousarray(noise, dtype=np.float32),
                "condition": np.ascontiguousarray(condition, dtype=np.int64),
            },
        )
        if codes.size and (codes.max(axis=0) >= self._levels).any():
            j = int(np.argmax(codes.max(axis=0) >= self._levels))
            column = self.schema.categorical_columns[j]
            raise ArtifactError(
                f"{self.path}: the graph gives column {column.name!r} level {int(codes[:, j].max())}, "
                f"but metadata field 'categories' lists {int(self._levels[j])} levels for it: the "
                "metadata was edited"
            )
        return numeric, codes

    def _chunk_rows(self, n: int, batch_size: int | None) -> int:
        """Rows per chunk: ``n`` spread over the threads in whole noise blocks, at most ``batch_size``."""
        bs = self._batch_size(batch_size)
        per_thread = -(-n // self.n_threads)
        return max(1, min(bs, -(-per_thread // NOISE_BLOCK_ROWS) * NOISE_BLOCK_ROWS))

    def _run_chunks(
        self,
        n: int,
        batch_size: int | None,
        conditions_of: Callable[[int, int], np.ndarray],
        seed: int,
        out: tuple[np.ndarray, np.ndarray] | None = None,
        offset: int = 0,
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(numeric, codes, conditions)`` per chunk of the ``n`` rows, in order
        (:func:`ganaug.runtime.chunks.run_chunks` on this generator's threads)."""
        return run_chunks(
            self._run, n, self._chunk_rows(n, batch_size), conditions_of, seed, self.noise_dim,
            (self._n_numeric, self._n_categorical), self.n_threads, self._executor, out, offset,
        )

    def _batch_size(self, batch_size: int | None) -> int:
        if batch_size is None:
            return self.batch_size
        return positive_int(batch_size, "batch_size")

    def generate_arrays(
        self, conditions: Any, random_state: Any = None, batch_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Raw decoded outputs ``(numeric float32, codes int64)`` for the given class indices."""
        return self._arrays(conditions, random_state, batch_size, np.dtype(np.float32))

    def _arrays(
        self, conditions: Any, random_state: Any, batch_size: int | None, numeric_dtype: np.dtype,
        offset: int = 0,
    ) -> tuple[np.ndarray, np.ndarray]:
        cond = self._check_conditions(conditions)
        n = check_rows_in_memory(len(cond), self.row_bytes)
        # written in place by the workers, already in the dtype the caller needs: no per-chunk
        # arrays to concatenate and no second conversion pass over all the rows
        out = (
            np.empty((n, self._n_numeric), dtype=numeric_dtype),
            np.empty((n, self._n_categorical), dtype=np.int64),
        )
        chunks = self._run_chunks(n, batch_size, lambda a, b: cond[a:b], seed_from(random_state), out, offset)
        for _ in chunks:
            pass
        return out

    def _assembly_dtype(self) -> np.dtype:
        """The numeric dtype :func:`ganaug.core.schema.assemble` converts to, so workers write it directly."""
        if self.schema.container == "numpy" and not self.schema.categorical_columns:
            dtype = np.dtype(self.schema.numpy_dtype or "float64")
            if dtype.kind == "f":
                return dtype
        return np.dtype(np.float64)

    def generate(
        self, conditions: Any, random_state: Any = None, batch_size: int | None = None,
        where: Any = None,
    ) -> pd.DataFrame | np.ndarray:
        """One row per entry of ``conditions`` (class indices), in the training container.

        Same contract as :meth:`ganaug.gan.synthesizer.ConditionalGAN.generate`: the same seed and
        conditions give the same rows (regression models return the joint table, target last);
        ``where`` (column conditions) and the model's constraints by rejection.
        """
        cond = self._check_conditions(conditions)
        seed = seed_from(random_state)
        dtype = self._assembly_dtype()

        def draw(part: np.ndarray, offset: int) -> Any:
            return assemble(self.schema, *self._arrays(part, seed, batch_size, dtype, offset))

        return generate_where(draw, cond, self.schema, where)

    # ------------------------------------------------------------------------- sampling
    def split_target(self, joint: Any) -> tuple[Any, np.ndarray]:
        """Split a regression model's joint table into ``(X, y)`` (the target is the last column)."""
        return split_target(joint, self.target)

    def sample(
        self, n: int, y: Any = None, random_state: Any = None, conditions: Any = None
    ) -> tuple[Any, np.ndarray]:
        """``n`` rows and their labels: :func:`ganaug.core.protocol.sample_rows` (the parameters,
        column ``conditions``, the returns and the seed contract shared by every generator)."""
        return sample_rows(self, n, y, random_state, conditions)

    def iter_samples(
        self,
        n: int,
        y: Any = None,
        random_state: Any = None,
        batch_size: int | None = None,
        conditions: Any = None,
    ) -> Iterator[tuple[Any, np.ndarray]]:
        """Yield ``(X, y)`` batches of at most ``batch_size`` rows, ``n`` rows in all.

        The rows are those of :meth:`sample` with the same arguments, in the same order; memory
        is bounded by the batch size (conditions are worked out per batch when ``y`` is None or a
        single label), except with column ``conditions`` or constraints, where the rows are
        drawn whole by rejection first.
        """
        for X, cond in self._iter_tables(n, y, random_state, batch_size, conditions):
            if self.task == "regression":
                yield self.split_target(X)
            else:
                yield X, self.classes_[cond]

    def _iter_tables(
        self, n: int, y: Any, random_state: Any, batch_size: int | None, conditions: Any = None
    ) -> Iterator[tuple[Any, np.ndarray]]:
        """Yield ``(generated table, condition indices)`` batches (regression: the joint table)."""
        n = check_n(n)
        seed = seed_from(random_state)
        regression = self.task == "regression"
        if regression and y is not None:
            raise ValueError("y must be None when sampling a regression model")
        if conditions or self.schema.constraints:  # rejection needs the whole request
            if regression:
                plan, where = np.zeros(n, np.int64), conditions or None
            else:
                y, where = split_class_condition(conditions, y, self.target)
                plan = self._conditions(n, y)
            table = self.generate(plan, seed, batch_size, where=where)
            step = self._batch_size(batch_size)
            for a in range(0, n, step):
                part = table.iloc[a : a + step] if isinstance(table, pd.DataFrame) else table[a : a + step]
                yield part, plan[a : a + step]
            return
        counts = np.array([n]) if regression else self.class_counts_
        conditions_of = chunk_conditions(n, y, counts, self.class_index)
        for numeric, codes, cond in self._run_chunks(n, batch_size, conditions_of, seed):
            yield assemble(self.schema, numeric, codes), cond

    def write(
        self,
        path: str | os.PathLike[str],
        n: int,
        y: Any = None,
        random_state: Any = None,
        *,
        format: str | None = None,
        label_column: str | None = "auto",
        batch_size: int | None = None,
        on_rows: Callable[[int], None] | None = None,
        conditions: Any = None,
    ) -> Path:
        """Stream ``n`` sampled rows to a CSV or Parquet file with bounded memory.

        Parameters
        ----------
        path : path-like
            Destination; written to a temporary file in the same directory, then renamed.
        n, y, random_state
            As in :meth:`sample`.
        format : {"csv", "parquet"}, optional
            Default from the suffix (``.parquet``/``.pq`` -> Parquet, otherwise CSV). Parquet
            needs ``pyarrow`` (``pip install 'ganaug[parquet]'``).
        label_column : str or None, default="auto"
            Name of the appended class label column: ``"auto"`` is the class column's name in
            training (:attr:`target`), or ``"label"`` when it had none; None leaves it out.
            Regression models write
            their joint table (the target is its last column, ``__target__`` for DataFrames) and
            unconditional models (a single ``None`` class) have no label column.
        batch_size : int, optional
            Rows per batch (default: the generator's ``batch_size``).
        on_rows : callable, optional
            Called with the number of rows of each batch once it is written (progress).
        conditions : dict, optional
            Column conditions, as in :meth:`sample`.

        Returns
        -------
        Path
        """
        path, names = Path(path), self.schema.names
        fmt = file_format(path, format)
        label = (self.label_name if label_column == "auto" else label_column) if has_label(self) else None
        if label is not None and label in [str(c) for c in names]:
            raise ValueError(f"label_column {label!r} is already a column name; choose another")
        n = check_n(n)
        if fmt == "csv":  # rows are streamed, one chunk in memory: the disk is the limit
            check_rows_on_disk(n, len(names) + (label is not None), path)
        tables = self._iter_tables(n, y, random_state, batch_size, conditions)
        labelled = ((X, self.classes_[cond]) for X, cond in tables)
        write_frames(table_frames(labelled, names, label, on_rows), path, fmt)
        return path
