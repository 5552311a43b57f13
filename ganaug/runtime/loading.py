"""Opening an exported generator: the file read safely, the ONNX Runtime session, the ganaug
metadata checked against the graph (format, version, digest, widths) and the classes probed.

Every failure is an :class:`~ganaug.core.errors.ArtifactError` naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from ganaug._version import __version__
from ganaug.core.errors import ArtifactError
from ganaug.core.limits import MAX_ONNX_BYTES, parse_json, read_regular_file
from ganaug.core.onnx_format import (
    DIGEST_KEY,
    FORMAT,
    INPUT_NAMES,
    METADATA_KEY,
    OUTPUT_NAMES,
    READABLE_VERSIONS,
    check_metadata,
    graph_digest,
)

Run = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""One inference call: ``(noise, condition) -> (numeric, codes)``."""


def read_model(path: Path) -> bytes:
    """The bytes of a regular ``.onnx`` file of at most :data:`ganaug.core.limits.MAX_ONNX_BYTES`
    (anything else is refused before it is read; see :func:`ganaug.core.limits.read_regular_file`)."""
    return read_regular_file(path, MAX_ONNX_BYTES, "ONNX file")


def _width(shape: Any) -> Any:
    """The second dimension of a graph input or output as ONNX Runtime reports it."""
    return shape[1] if isinstance(shape, (list, tuple)) and len(shape) == 2 else None


def open_session(blob: bytes, path: Path) -> tuple[ort.InferenceSession, dict[str, Any], str]:
    """A single-threaded ONNX Runtime session of a generator file, its checked ganaug metadata
    and that metadata's JSON text."""
    opts = ort.SessionOptions()
    # parallelism comes from running chunks side by side (see ganaug.runtime.generator); one
    # session is shared, and ORT's Run is thread-safe
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    try:
        session = ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - ORT raises several private exception types
        raise ArtifactError(
            f"{path} is not a valid ONNX model (truncated or corrupt?): {exc}"
        ) from None
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        raise ArtifactError(
            f"{path} has no '{METADATA_KEY}' metadata: it was not exported by ganaug"
        )
    meta = parse_json(raw, f"{path}: ganaug metadata", field_word="metadata field")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ArtifactError(f"{path}: metadata is not a {FORMAT!r} description")
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise ArtifactError(
            f"{path} has format version {meta.get('format_version')!r}; this ganaug "
            f"({__version__}) reads versions {', '.join(map(str, READABLE_VERSIONS))}"
        )
    inputs, outputs = session.get_inputs(), session.get_outputs()
    names = (tuple(i.name for i in inputs), tuple(o.name for o in outputs))
    if names != (INPUT_NAMES, OUTPUT_NAMES):
        raise ArtifactError(
            f"{path}: graph has inputs {names[0]} and outputs {names[1]}; expected "
            f"{INPUT_NAMES} -> {OUTPUT_NAMES}"
        )
    verify_digest(blob, meta, path)
    check_metadata(
        meta,
        path,
        noise_width=_width(inputs[0].shape),
        numeric_width=_width(outputs[0].shape),
        codes_width=_width(outputs[1].shape),
    )
    return session, meta, raw


def verify_digest(blob: bytes, meta: dict[str, Any], path: Path) -> None:
    """Compare the graph with the digest stored at export (files from before it have none)."""
    stored = meta.get(DIGEST_KEY)
    if stored is None:
        return
    try:
        actual = graph_digest(blob)
    except ValueError as exc:
        raise ArtifactError(f"{path} is not a well-formed ONNX file: {exc}") from None
    if actual != stored:
        raise ArtifactError(
            f"{path}: the graph (weights or nodes) changed after export: its SHA-256 is "
            f"{actual[:16]}..., the metadata field '{DIGEST_KEY}' says {str(stored)[:16]}..."
        )


def probe_classes(run: Run, metadata: dict[str, Any], n: int, noise_dim: int, path: Path) -> None:
    """Run one row per class, and one past the last: the graph must know exactly the ``n`` classes.

    The sampling draws are set high so no value is drawn missing: a valid row then has no
    NaN, while a guarded graph (see ``docs/onnx-format.md``) answers a condition it does not
    know with NaN and code -1, and an older graph fails in its one-hot Gather. High draws
    also pick the last level of each categorical column: one the metadata does not list is
    refused (``run`` checks every code against the listed levels).
    """
    draws = int(metadata.get("noise", {}).get("sampling_draws") or 0)
    noise = np.zeros((n + 1, noise_dim), dtype=np.float32)
    noise[:, noise_dim - draws :] = 8.0
    conditions = np.arange(n + 1, dtype=np.int64)
    try:
        numeric, codes = run(noise[:n], conditions[:n])
    except ArtifactError:  # a level the metadata does not list
        raise
    except Exception as exc:  # noqa: BLE001 - ORT raises several private exception types
        raise ArtifactError(
            f"{path}: the graph fails for the {n} classes of metadata field 'classes' "
            f"(more classes than the graph has?): {' '.join(str(exc).split())[:200]}"
        ) from None
    guarded = DIGEST_KEY in metadata
    bad = np.isnan(numeric).any(axis=1) | (codes < 0).any(axis=1) if guarded else []
    if np.any(bad):
        raise ArtifactError(
            f"{path}: the graph gives no valid row for class index "
            f"{int(np.argmax(bad))}: metadata field 'classes' lists {n} classes, more than the "
            "graph has (or its weights are damaged)"
        )
    try:
        numeric, codes = run(noise[n:], conditions[n:])
    except Exception:  # noqa: BLE001 - an older graph's Gather refuses the index: as expected
        return
    if not (np.isnan(numeric).all() and (codes < 0).all()):
        raise ArtifactError(
            f"{path}: the graph has more classes than the {n} of metadata field 'classes'"
        )
