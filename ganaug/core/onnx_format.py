"""The ganaug ONNX file format: names, the graph digest and the metadata checks (numpy only).

Shared by the exporter (:mod:`ganaug.gan.export`, torch) and the reader
(:mod:`ganaug.runtime.generator`, onnxruntime); the runtime must not import the exporter, and
neither may need the ``onnx`` package to read a file, so the digest is computed on the file's
bytes with a small protocol-buffers scanner. The contract is documented in ``docs/onnx-format.md``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from ganaug.core.errors import ArtifactError
from ganaug.core.files import atomic_write_bytes
from ganaug.core.limits import MAX_ROWS

FORMAT = "ganaug-onnx"
#: version 2: categories and missing values are sampled in the graph from extra noise columns
#: (version 1 took an argmax); both are read, sampling works the same way for either. Files
#: written since the graph digest and input guard were added are still version 2: the additions
#: are new metadata keys and the handling of inputs that were errors before.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
METADATA_KEY = "ganaug"
INPUT_NAMES = ("noise", "condition")
OUTPUT_NAMES = ("numeric", "codes")
#: ``GraphProto.name`` of exported graphs
GRAPH_NAME = "ganaug_sampler"
#: metadata key of the graph digest (see :func:`graph_digest`)
DIGEST_KEY = "graph_sha256"
#: suffix of the sidecar holding the same metadata JSON: ``model.onnx`` -> ``model.onnx.json``
SIDECAR_SUFFIX = ".json"

_METADATA_PROPS_FIELD = 14  # ModelProto.metadata_props


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The sidecar of an exported file: ``model.onnx`` -> ``model.onnx.json``."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _varint(blob: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(blob) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = blob[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return value, i
        shift += 7


def graph_digest(blob: bytes) -> str:
    """SHA-256 (hex) of a serialized ONNX model without its ``metadata_props``.

    The model's top-level protocol-buffers records (key, length and payload, as they lie in the
    file) are hashed in file order, leaving out every ``metadata_props`` record (field 14). That
    covers the graph with all its weights, the opset imports and the producer fields, and lets
    the digest itself be stored in the metadata. For a file written by a serializer that emits
    fields in field-number order (all official protobuf libraries do), it equals the SHA-256 of
    the model re-serialized after clearing ``metadata_props``.

    Raises
    ------
    ValueError
        If ``blob`` is not a well-formed protocol-buffers message.
    """
    digest = hashlib.sha256()
    i = 0
    while i < len(blob):
        start = i
        key, i = _varint(blob, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(blob, i)
        elif wire == 1:
            i += 8
        elif wire == 2:
            length, i = _varint(blob, i)
            i += length
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wire} at byte {start}")
        if i > len(blob) or field == 0:
            raise ValueError(f"malformed record at byte {start}")
        if field != _METADATA_PROPS_FIELD:
            digest.update(blob[start:i])
    return digest.hexdigest()


def _field_error(source: Any, field: str, problem: str) -> ArtifactError:
    return ArtifactError(f"{source}: metadata field '{field}' {problem}")


def _count(value: Any) -> int | None:
    """``value`` as an int if it is one (bools refused), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return None
    return int(value)


def check_metadata(
    meta: dict[str, Any],
    source: Any,
    *,
    noise_width: Any,
    numeric_width: Any,
    codes_width: Any,
) -> None:
    """Check the fields of a ganaug ONNX description against themselves and the graph's shapes.

    Parameters
    ----------
    meta : dict
        The parsed metadata JSON (format and version already checked).
    source : object
        Names the file in error messages.
    noise_width, numeric_width, codes_width : int or str or None
        Second dimension of the graph's ``noise`` input and ``numeric``/``codes`` outputs as the
        runtime reports them (an int, or a symbolic name / None when the graph does not fix it).

    Raises
    ------
    ArtifactError
        Naming the file and the first inconsistent field.
    """
    noise_dim = _count(meta.get("noise_dim"))
    if noise_dim is None or noise_dim < 1:
        raise _field_error(source, "noise_dim", f"must be a positive integer; got {meta.get('noise_dim')!r}")
    if isinstance(noise_width, int) and noise_width != noise_dim:
        raise _field_error(
            source, "noise_dim", f"is {noise_dim} but the graph's noise input has {noise_width} columns"
        )
    classes, counts = meta.get("classes"), meta.get("class_counts")
    if not isinstance(classes, list) or not classes:
        raise _field_error(source, "classes", "must be a non-empty list")
    if not isinstance(counts, list) or len(counts) != len(classes):
        raise _field_error(
            source, "class_counts", f"must list one count per class ({len(classes)}); got {counts!r}"
        )
    if any(_count(c) is None or not 0 <= c <= MAX_ROWS for c in counts) or sum(counts) < 1:
        raise _field_error(
            source,
            "class_counts",
            f"must be non-negative integers of at most {MAX_ROWS:,}, not all zero; got "
            f"{str(counts)[:200]}",
        )
    schema = meta.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("columns"), list) or not schema["columns"]:
        raise _field_error(source, "schema", "must hold a non-empty list of columns")
    columns = schema["columns"]
    if not all(isinstance(c, dict) for c in columns):
        raise _field_error(source, "schema.columns", "must be a list of objects")
    kinds = [c.get("kind") for c in columns]
    if any(k not in ("numeric", "categorical") for k in kinds):
        raise _field_error(source, "schema.columns", f"has a column kind outside numeric/categorical: {kinds}")
    names = [repr(c.get("name")) for c in columns]
    if len(set(names)) != len(names):
        raise _field_error(source, "schema.columns", "names a column twice")
    n_numeric = kinds.count("numeric")
    n_categorical = kinds.count("categorical")
    for width, n, field, output in (
        (numeric_width, n_numeric, "numeric", "numeric"),
        (codes_width, n_categorical, "categorical", "codes"),
    ):
        if isinstance(width, int) and width != n:
            raise _field_error(
                source,
                "schema.columns",
                f"lists {n} {field} columns but the graph's {output} output has {width}",
            )
    for column in columns:
        if column["kind"] == "categorical" and not (
            isinstance(column.get("categories"), list) and column["categories"]
        ):
            raise _field_error(
                source, "schema.columns", f"column {column.get('name')!r} has no categories"
            )
    draws = meta.get("noise", {}).get("sampling_draws") if isinstance(meta.get("noise"), dict) else None
    if draws is not None:
        expected = n_categorical + sum(
            1 for c in columns if c["kind"] == "numeric" and (c.get("missing_rate") or 0) > 0
        )
        if _count(draws) != expected or draws >= noise_dim:
            raise _field_error(
                source,
                "noise.sampling_draws",
                f"is {draws!r}; the schema needs {expected} draws, fewer than noise_dim={noise_dim}",
            )
    task = meta.get("task", "classification")
    if task not in ("classification", "regression"):
        raise _field_error(source, "task", f"must be 'classification' or 'regression'; got {task!r}")
    if task == "regression":
        if len(classes) != 1:
            raise _field_error(
                source, "task", f"is 'regression' but the metadata lists {len(classes)} classes"
            )
        last = columns[-1]
        target = meta.get("target")
        if last["kind"] != "numeric" or target is None or target != last.get("name"):
            raise _field_error(
                source,
                "target",
                f"is {target!r}; a regression model's target is its last column, which must be "
                f"numeric ({last.get('name')!r} is {last['kind']})",
            )

#: graphs that read rows instead of noise: the critic's features (``kind`` "features") and the
#: fine-tuned discriminator classifier (``kind`` "classifier"); see :mod:`ganaug.gan.critic_features`
ROWS_FORMAT = "ganaug-rows-onnx"
ROWS_FORMAT_VERSION = 1
ROWS_INPUT_NAMES = ("numeric", "codes")
ROWS_OUTPUT_NAMES = {"features": ("features",), "classifier": ("probabilities",)}


def write_export(path: str | os.PathLike[str], blob: bytes, metadata_json: str) -> None:
    """Write an exported file and its sidecar ``<path>.json`` (the same metadata JSON), each
    atomically; the file first, so a sidecar never describes a file that is not there yet."""
    atomic_write_bytes(path, blob)
    atomic_write_bytes(sidecar_path(path), metadata_json.encode("utf-8"))
