"""A Triton Inference Server model repository entry for an exported generator.

``write_model_repository("churn.onnx", "models")`` writes::

    models/churn/config.pbtxt     platform "onnxruntime_onnx", the graph's inputs and outputs
    models/churn/1/model.onnx     the exported file, unchanged (version 1)
    models/churn/1/model.onnx.json  its metadata sidecar (column names, categories, classes)

The configuration uses ``max_batch_size: 0`` and spells every dimension out, the batch as ``-1``:
the graph takes ``condition`` as a 1-d ``[batch]`` tensor, which Triton's batching form (dims
without the batch dimension) could only express with a reshape. Triton then serves the same
tensors as ``ganaug serve``'s ``/v2`` endpoints (:mod:`ganaug.runtime.oip`), so a client works
against either.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ganaug.core.files import atomic_write_bytes
from ganaug.runtime.repository import model_name

#: ONNX Runtime's type strings -> Triton's data types
TRITON_TYPES = {"tensor(float)": "TYPE_FP32", "tensor(double)": "TYPE_FP64",
                "tensor(int64)": "TYPE_INT64", "tensor(int32)": "TYPE_INT32",
                "tensor(bool)": "TYPE_BOOL"}
PLATFORM = "onnxruntime_onnx"
VERSION = "1"


def graph_tensors(onnx_file: str | os.PathLike[str]) -> dict[str, list[dict[str, Any]]]:
    """The graph's inputs and outputs: name, Triton data type and dims (``-1``: not fixed)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])

    def spec(arg: Any) -> dict[str, Any]:
        if arg.type not in TRITON_TYPES:
            raise ValueError(f"{onnx_file}: tensor {arg.name!r} has type {arg.type}, which this "
                             "export does not map to Triton")
        dims = [d if isinstance(d, int) and d >= 0 else -1 for d in arg.shape]
        return {"name": arg.name, "data_type": TRITON_TYPES[arg.type], "dims": dims}

    return {"input": [spec(a) for a in session.get_inputs()],
            "output": [spec(a) for a in session.get_outputs()]}


def config_pbtxt(name: str, tensors: dict[str, list[dict[str, Any]]]) -> str:
    """Triton's model configuration (protobuf text format) for ``tensors``."""
    lines = [f'name: "{name}"', f'platform: "{PLATFORM}"', "max_batch_size: 0"]
    for kind in ("input", "output"):
        entries = []
        for t in tensors[kind]:
            dims = ", ".join(str(d) for d in t["dims"])
            entries.append(f'  {{\n    name: "{t["name"]}"\n    data_type: {t["data_type"]}\n'
                           f"    dims: [ {dims} ]\n  }}")
        lines.append(f"{kind} [\n" + ",\n".join(entries) + "\n]")
    lines.append("version_policy: { latest: { num_versions: 1 } }")
    return "\n".join(lines) + "\n"


def write_model_repository(
    onnx_file: str | os.PathLike[str],
    repository: str | os.PathLike[str],
    name: str | None = None,
) -> Path:
    """Add ``onnx_file`` to the Triton model repository ``repository`` as model ``name``.

    Parameters
    ----------
    onnx_file : path-like
        An exported generator (``ganaug export``).
    repository : path-like
        The model repository directory (created if needed); other models in it are untouched.
    name : str, optional
        Model name (default: the file's stem), made URL-safe as the server's names are.

    Returns
    -------
    Path
        The model's directory, ``repository/name``.
    """
    source = Path(onnx_file)
    if not source.is_file():
        raise FileNotFoundError(f"ONNX file not found: {source}")
    name = model_name(name or source.stem)
    tensors = graph_tensors(source)
    entry = Path(repository) / name
    version = entry / VERSION
    version.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(version / "model.onnx", source.read_bytes())
    sidecar = source.with_name(source.name + ".json")
    if sidecar.is_file():
        atomic_write_bytes(version / "model.onnx.json", sidecar.read_bytes())
    else:  # an older sidecar must not describe the new graph
        (version / "model.onnx.json").unlink(missing_ok=True)
    atomic_write_bytes(entry / "config.pbtxt", config_pbtxt(name, tensors).encode())
    return entry


__all__ = ["config_pbtxt", "graph_tensors", "write_model_repository"]
