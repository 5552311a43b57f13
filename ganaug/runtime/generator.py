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

Threads: a large request is cut into chunks (whole noise blocks, at most ``batch_size`` rows) of
which ``n_threads`` run side by side on a persistent thread pool shared by the process
(:mod:`ganaug.runtime.chunks`), each drawing its chunk's noise and running single-threaded ONNX
Runtime calls of :data:`INFERENCE_ROWS` rows (numpy and ONNX Runtime both release the GIL).
Measured on 2 cores, 30 numeric columns: about 1.5x the throughput of one call on ONNX Runtime's
own 2-thread pool, because drawing the noise costs as much as the network and now runs in
parallel too. The rows do not depend on the number of threads or the batch size.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pandas as pd

from ganaug._version import __version__
from ganaug.core.checks import check_knots, check_schema
from ganaug.core.conditions import generate_where, split_class_condition
from ganaug.core.errors import ArtifactError
from ganaug.core.files import replacing
from ganaug.core.labels import class_index, class_lookup, classes_from_json
from ganaug.core.limits import (
    MAX_ONNX_BYTES,
    check_rows_in_memory,
    check_rows_on_disk,
    parse_json,
    read_regular_file,
    row_bytes,
)
from ganaug.core.noise import (
    NOISE_BLOCK_ROWS,
    check_conditions,
    check_n,
    noise_rows,
    plan_conditions,
    seed_from,
    split_counts,
)
from ganaug.core.onnx_format import (
    DIGEST_KEY,
    FORMAT,
    FORMAT_VERSION,
    INPUT_NAMES,
    METADATA_KEY,
    OUTPUT_NAMES,
    READABLE_VERSIONS,
    check_metadata,
    graph_digest,
    write_export,
)
from ganaug.core.protocol import sample_rows
from ganaug.core.schema import Schema, assemble, split_target
from ganaug.runtime.chunks import (  # noqa: F401 (re-exported)
    INFERENCE_ROWS,
    MAX_DEFAULT_THREADS,
    _Job,
    default_num_threads,
    shared_executor,
)
from ganaug.runtime.writers import _write_arrow

DEFAULT_BATCH_SIZE = 65536

__all__ = ["FORMAT", "FORMAT_VERSION", "METADATA_KEY", "OnnxGenerator", "default_num_threads"]


def _read_model(path: Path) -> bytes:
    """The bytes of a regular ``.onnx`` file of at most :data:`ganaug.core.limits.MAX_ONNX_BYTES`
    (anything else is refused before it is read; see :func:`ganaug.core.limits.read_regular_file`)."""
    return read_regular_file(path, MAX_ONNX_BYTES, "ONNX file")


def _width(shape: Any) -> Any:
    """The second dimension of a graph input or output as ONNX Runtime reports it."""
    return shape[1] if isinstance(shape, (list, tuple)) and len(shape) == 2 else None


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
        self._setup(_read_model(self.path), n_threads, batch_size)

    # ------------------------------------------------------------------------- loading
    def _setup(self, blob: bytes, threads: int | None, batch_size: int) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1
        ):
            raise ValueError(f"n_threads must be a positive integer; got {threads!r}")
        self._model_bytes = blob
        self.batch_size = int(batch_size)
        self.n_threads = int(threads) if threads is not None else default_num_threads()
        opts = ort.SessionOptions()
        # parallelism comes from running chunks side by side (see the module docstring); one
        # session is shared, and ORT's Run is thread-safe
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - ORT raises several private exception types
            raise ArtifactError(
                f"{self.path} is not a valid ONNX model (truncated or corrupt?): {exc}"
            ) from None
        raw = self._session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if raw is None:
            raise ArtifactError(
                f"{self.path} has no '{METADATA_KEY}' metadata: it was not exported by ganaug"
            )
        meta = parse_json(raw, f"{self.path}: ganaug metadata", field_word="metadata field")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ArtifactError(f"{self.path}: metadata is not a {FORMAT!r} description")
        if meta.get("format_version") not in READABLE_VERSIONS:
            raise ArtifactError(
                f"{self.path} has format version {meta.get('format_version')!r}; this ganaug "
                f"({__version__}) reads versions {', '.join(map(str, READABLE_VERSIONS))}"
            )
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        names = (tuple(i.name for i in inputs), tuple(o.name for o in outputs))
        if names != (INPUT_NAMES, OUTPUT_NAMES):
            raise ArtifactError(
                f"{self.path}: graph has inputs {names[0]} and outputs {names[1]}; expected "
                f"{INPUT_NAMES} -> {OUTPUT_NAMES}"
            )
        self._verify_digest(blob, meta)
        check_metadata(
            meta,
            self.path,
            noise_width=_width(inputs[0].shape),
            numeric_width=_width(outputs[0].shape),
            codes_width=_width(outputs[1].shape),
        )
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
        self._probe_classes()

    def _verify_digest(self, blob: bytes, meta: dict[str, Any]) -> None:
        """Compare the graph with the digest stored at export (files from before it have none)."""
        stored = meta.get(DIGEST_KEY)
        if stored is None:
            return
        try:
            actual = graph_digest(blob)
        except ValueError as exc:
            raise ArtifactError(f"{self.path} is not a well-formed ONNX file: {exc}") from None
        if actual != stored:
            raise ArtifactError(
                f"{self.path}: the graph (weights or nodes) changed after export: its SHA-256 is "
                f"{actual[:16]}..., the metadata field '{DIGEST_KEY}' says {str(stored)[:16]}..."
            )

    def _probe_classes(self) -> None:
        """Run one row per class, and one past the last: the graph must know exactly the classes.

        The sampling draws are set high so no value is drawn missing: a valid row then has no
        NaN, while a guarded graph (see ``docs/onnx-format.md``) answers a condition it does not
        know with NaN and code -1, and an older graph fails in its one-hot Gather. High draws
        also pick the last level of each categorical column: one the metadata does not list is
        refused (:meth:`_run` checks every code against the listed levels).
        """
        n = len(self.classes_)
        draws = int(self.metadata.get("noise", {}).get("sampling_draws") or 0)
        noise = np.zeros((n + 1, self.noise_dim), dtype=np.float32)
        noise[:, self.noise_dim - draws :] = 8.0
        conditions = np.arange(n + 1, dtype=np.int64)
        try:
            numeric, codes = self._run(noise[:n], conditions[:n])
        except ArtifactError:  # a level the metadata does not list
            raise
        except Exception as exc:  # noqa: BLE001 - ORT raises several private exception types
            raise ArtifactError(
                f"{self.path}: the graph fails for the {n} classes of metadata field 'classes' "
                f"(more classes than the graph has?): {' '.join(str(exc).split())[:200]}"
            ) from None
        guarded = DIGEST_KEY in self.metadata
        bad = np.isnan(numeric).any(axis=1) | (codes < 0).any(axis=1) if guarded else []
        if np.any(bad):
            raise ArtifactError(
                f"{self.path}: the graph gives no valid row for class index "
                f"{int(np.argmax(bad))}: metadata field 'classes' lists {n} classes, more than the "
                "graph has (or its weights are damaged)"
            )
        try:
            numeric, codes = self._run(noise[n:], conditions[n:])
        except Exception:  # noqa: BLE001 - an older graph's Gather refuses the index: as expected
            return
        if not (np.isnan(numeric).all() and (codes < 0).all()):
            raise ArtifactError(
                f"{self.path}: the graph has more classes than the {n} of metadata field 'classes'"
            )

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
        noise = np.asarray(noise)
        if noise.ndim != 2 or noise.shape[1] != self.noise_dim or noise.dtype.kind not in "fiu":
            raise ValueError(
                f"noise must be a numeric array of shape (rows, {self.noise_dim}); got shape "
                f"{noise.shape} and dtype {noise.dtype}"
            )
        noise = np.ascontiguousarray(noise, dtype=np.float32)
        if not np.isfinite(noise).all():
            raise ValueError("noise must be finite: it holds NaN or infinite values")
        condition = self._check_conditions(condition)
        if len(condition) != len(noise):
            raise ValueError(
                f"noise has {len(noise)} rows but condition has {len(condition)} entries"
            )
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
        """Yield ``(numeric, codes, conditions)`` per chunk of the ``n`` rows, in order.

        ``conditions_of(start, stop)`` gives the class indices of rows ``[start, stop)``. When
        there is more than one chunk, up to ``n_threads`` of them run at once and one more waits,
        so memory stays bounded by the chunk size however many rows are asked for. With ``out``
        (arrays of all the rows), each chunk is written into its rows of ``out`` and yielded as
        views of them. ``offset``: the stream row of row 0 (rejection sampling reads later rows).
        """
        n_num, n_cat = self._n_numeric, self._n_categorical
        chunk = self._chunk_rows(n, batch_size)
        jobs = (
            (a, b, conditions_of(a, b))
            for a, b in ((a, min(n, a + chunk)) for a in range(0, n, chunk))
        )

        def work(job: _Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            start, stop, cond = job
            if out is not None:
                numeric, codes = out[0][start:stop], out[1][start:stop]
            elif stop - start <= INFERENCE_ROWS:  # one call: keep ONNX Runtime's own arrays
                return (*self._run(noise_rows(seed, offset + start, offset + stop, self.noise_dim), cond), cond)
            else:
                numeric = np.empty((stop - start, n_num), dtype=np.float32)
                codes = np.empty((stop - start, n_cat), dtype=np.int64)
            for a in range(start, stop, INFERENCE_ROWS):
                b = min(stop, a + INFERENCE_ROWS)
                rows = slice(a - start, b - start)
                noise = noise_rows(seed, offset + a, offset + b, self.noise_dim)
                numeric[rows], codes[rows] = self._run(noise, cond[rows])
            return numeric, codes, cond

        if n <= chunk or self.n_threads == 1:
            yield from map(work, jobs)
            return
        # at most n_threads chunks in flight and one more queued, on the persistent pool (looked
        # up per chunk: set_max_workers may replace the shared pool while a request runs)
        window: deque[Future[tuple[np.ndarray, np.ndarray, np.ndarray]]] = deque()
        try:
            for job in jobs:
                pool = self._executor or shared_executor(self.n_threads)
                window.append(pool.submit(work, job))
                if len(window) > self.n_threads:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            # also when the consumer stops early or drops the generator: chunks not started are
            # cancelled, so the pool's threads go back to other requests at once (running chunks
            # finish on their own; nobody waits for them)
            for future in window:
                future.cancel()

    def _batch_size(self, batch_size: int | None) -> int:
        if batch_size is None:
            return self.batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        return int(batch_size)

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
        """Sample ``n`` rows.

        Parameters
        ----------
        n : int
            Number of rows (positive).
        y : label or array-like of labels, optional
            One label: all rows of that class. ``n`` labels: one row per label. None: classes in
            training proportions, with exact counts (largest remainder). Must be None for
            regression models.
        random_state : int, numpy Generator or RandomState, optional
            Seed of the noise. An int ``s`` gives row ``i`` the noise of row ``i`` of stream
            ``s`` (:func:`ganaug.core.noise.noise_rows`): ``GANAugmenter.sample``,
            ``ConditionalGAN.sample`` and ``OnnxGenerator.sample`` of one model give the same
            rows for the same ``(n, y, s)``. A Generator or RandomState gives one int seed drawn
            from it (advancing it); None a fresh one.
        conditions : dict, optional
            Column conditions, as in :meth:`ganaug.gan.synthesizer.ConditionalGAN.sample` (a
            condition on the class column :attr:`target` sets ``y``).

        Returns
        -------
        X : DataFrame or ndarray
            Original column names, dtypes and category labels (the target column removed for
            regression models).
        y : ndarray
            Class labels of the rows; regression: the generated target values.
        """
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
        labels = None if y is None else np.atleast_1d(np.asarray(y, dtype=object))
        if labels is not None and len(labels) not in (1, n):
            raise ValueError(f"y must be one label or n={n} labels; got {len(labels)}")
        every = bounds = None
        if labels is None:
            counts = np.array([n]) if regression else split_counts(n, self.class_counts_)
            bounds = np.cumsum(counts)
        elif len(labels) == n and n > 1:
            every = self.class_index(labels)
        else:
            only = int(self.class_index(labels)[0])

        def conditions_of(start: int, stop: int) -> np.ndarray:
            # worked out per chunk, so memory stays bounded by the chunk size
            if every is not None:
                return every[start:stop]
            if bounds is not None:
                return np.searchsorted(bounds, np.arange(start, stop), side="right").astype(np.int64)
            return np.full(stop - start, only, dtype=np.int64)

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
        if label_column == "auto":
            label_column = self.label_name
        path = Path(path)
        fmt = format or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"format must be 'csv' or 'parquet'; got {format!r}")
        names = self.schema.names
        conditional = self.task != "regression" and not (
            len(self.classes_) == 1 and self.classes_[0] is None
        )
        add_label = label_column is not None and conditional
        if add_label and label_column in [str(c) for c in names]:
            raise ValueError(f"label_column {label_column!r} is already a column name; choose another")
        try:
            import pyarrow as pa
        except ImportError:
            if fmt == "parquet":
                raise ImportError("writing Parquet needs pyarrow: pip install 'ganaug[parquet]'") from None
            pa = None
        n = check_n(n)
        if fmt == "csv":  # rows are streamed, one chunk in memory: the disk is the limit
            check_rows_on_disk(n, len(names) + add_label, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        def batches() -> Iterator[pd.DataFrame]:
            for X, cond in self._iter_tables(n, y, random_state, batch_size, conditions):
                frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X, columns=names)
                yield frame.assign(**({label_column: self.classes_[cond]} if add_label else {}))
                if on_rows is not None:  # the writer asks for the next batch once it wrote this one
                    on_rows(len(frame))

        frames = batches()
        with replacing(path) as tmp:
            if pa is None:  # plain pandas CSV (about 8x slower than pyarrow's writer)
                with open(tmp, "w", newline="", encoding="utf-8") as fh:
                    for i, frame in enumerate(frames):
                        frame.to_csv(fh, header=i == 0, index=False)
            else:
                _write_arrow(frames, tmp, fmt)
        return path
