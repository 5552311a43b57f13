"""Export a fitted generator, decoding included, to one self-describing ONNX file.

The exported graph is :class:`ganaug.gan.decode.SamplingModule` (generator + decode head) behind
:class:`ganaug.gan.guard.InputGuard` (a row with an unknown class or non-finite noise comes out as
NaN and code -1)::

    inputs:  noise      float32 [batch, noise_dim]   (caller-supplied, so sampling is reproducible)
             condition  int64   [batch]              (class index, see metadata "classes")
    outputs: numeric    float32 [batch, n_numeric]   (original scale, integers rounded, NaN = missing)
             codes      int64   [batch, n_categorical] (index into each categorical column's labels)

Everything needed to turn those outputs into the user's table (schema with column names, dtypes,
category labels and missing-value rates; class labels and counts; noise dimension; task; format
and ganaug versions) is stored as JSON under the ``"ganaug"`` key of the model's
``metadata_props``, and in the sidecar ``<file>.json`` for clients that cannot read
``metadata_props`` (ONNX Runtime for Node). The metadata also holds the SHA-256 of the graph
(:func:`ganaug.core.onnx_format.graph_digest`), checked at load. :class:`ganaug.runtime.OnnxGenerator`
reads it all back with ONNX Runtime alone. The contract for other clients is ``docs/onnx-format.md``.

Exporter choice (torch 2.13, onnxruntime 1.32, measured on a shared 2-core x86 machine: classic
preset, 30 numeric columns, 1 intra-op thread, median rows/s of the graph alone over 5 runs):

==================  =====  ==========  ===========  ===========
exporter            nodes  export (s)  batch 4096   batch 65536
==================  =====  ==========  ===========  ===========
dynamo (default)    28     2 - 5       622,000      553,000
TorchScript         50     0.15        627,000      603,000
==================  =====  ==========  ===========  ===========

Both give the same outputs, and they run at the same speed within this machine's noise (the
dynamo graph is leaner: constants folded, fewer nodes). The dynamo exporter (``torch.export``
with a dynamic batch ``Dim``) is the supported one; the TorchScript exporter is deprecated since
torch 2.9 and announced for removal, so it is only the fallback of ``exporter="auto"`` or an
explicit choice (``exporter="torchscript"``: the same file format, 20x faster to *export*).

Export uses the ``onnx`` and ``onnxscript`` packages (core dependencies of ganaug); sampling
the exported file needs only ``onnxruntime``, ``numpy`` and ``pandas``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ganaug._version import __version__
from ganaug.core.labels import TARGET_COLUMN  # the joint regression target column
from ganaug.core.noise import NOISE_BLOCK_ROWS
from ganaug.core.onnx_format import (
    DIGEST_KEY,
    FORMAT,
    FORMAT_VERSION,
    GRAPH_NAME,
    INPUT_NAMES,
    METADATA_KEY,
    OUTPUT_NAMES,
    SIDECAR_SUFFIX,
    graph_digest,
    sidecar_path,
)

EXPORTERS = ("auto", "dynamo", "torchscript")


def _require_onnx(exporter: str) -> None:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError(
            "ONNX export needs the 'onnx' package, a dependency of ganaug that is missing from "
            "this environment: pip install 'onnx>=1.16' (or reinstall ganaug)"
        ) from None
    if exporter == "dynamo":
        try:
            import onnxscript  # noqa: F401
        except ImportError:
            raise ImportError(
                "exporter='dynamo' needs the 'onnxscript' package, a dependency of ganaug that is "
                "missing from this environment: pip install 'onnxscript>=0.1' (or reinstall ganaug)"
            ) from None


def _resolve(model: Any, task: str) -> tuple[Any, str]:
    """A fitted ConditionalGAN (or an OnnxGenerator to copy) and its task from what was given."""
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if path.is_dir():
            from ganaug.gan import artifact

            loaded, extra = artifact.load(path)
            return loaded, extra.get("task", task)
        if path.suffix == ".onnx" and path.is_file():
            from ganaug.runtime import OnnxGenerator

            gen = OnnxGenerator(path)
            return gen, gen.task
        raise ValueError(f"{path} is neither a ganaug artifact directory nor an .onnx file")
    if hasattr(model, "fit_resample"):  # a GANAugmenter
        if not hasattr(model, "model_"):
            raise ValueError("the augmenter is not fitted yet: call fit or fit_resample first")
        return model.model_, getattr(model, "task_", task)
    if hasattr(model, "_model_bytes"):  # an OnnxGenerator
        return model, model.task
    if hasattr(model, "sampling_module"):
        return model, task
    raise TypeError(
        "export_onnx takes a fitted ConditionalGAN, a fitted GANAugmenter, an artifact directory "
        f"or an .onnx file; got {type(model).__name__}"
    )


def build_metadata(model: Any, task: str) -> dict[str, Any]:
    """The JSON description stored in the ONNX file (see the module docstring)."""
    from ganaug.core.labels import classes_to_json

    schema = model.codec_.schema_
    noise_dim = model.sampling_noise_dim
    # classification: the class column's name in training (None when y had none)
    target = getattr(model, "target_name_", None)
    if task == "regression":
        target = TARGET_COLUMN if schema.container == "pandas" else schema.names[-1]
        if target not in schema.names:
            raise ValueError(
                f"task='regression' but the generator has no {TARGET_COLUMN!r} column: export the "
                "GANAugmenter itself, or pass task='classification'"
            )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ganaug_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "task": task,
        "target": target,
        "noise_dim": noise_dim,
        **classes_to_json(model.classes_),
        "class_counts": [int(c) for c in model.class_counts_],
        "schema": schema.to_dict(),
        "config": model.config_.to_dict(),
        "inputs": {
            "noise": {"dtype": "float32", "shape": ["batch", noise_dim]},
            "condition": {"dtype": "int64", "shape": ["batch"], "meaning": "index into classes"},
        },
        "outputs": {
            "numeric": {
                "dtype": "float32",
                "shape": ["batch", len(schema.numeric_columns)],
                "columns": [c.name for c in schema.numeric_columns],
                "meaning": "original scale; integer columns rounded; NaN where missing",
            },
            "codes": {
                "dtype": "int64",
                "shape": ["batch", len(schema.categorical_columns)],
                "columns": [c.name for c in schema.categorical_columns],
                "meaning": "index into the column's categories; a null category is a missing value",
            },
        },
        "noise": {
            "distribution": "standard normal, float32",
            "block_rows": NOISE_BLOCK_ROWS,
            "recipe": (
                "rows k*block_rows ... (k+1)*block_rows-1 are numpy.random.Generator(numpy.random."
                "PCG64(numpy.random.SeedSequence(seed, spawn_key=(k,)))).standard_normal((rows, "
                "noise_dim), dtype=numpy.float32); see ganaug.core.noise.noise_rows"
            ),
            "draws": (
                "the last `sampling_draws` columns are turned into uniforms u = Phi(z) inside the "
                "graph: one per missing indicator, then one per categorical column, each picking "
                "its level by inverse CDF of the generated probabilities"
            ),
            "sampling_draws": noise_dim - int(model.config_.noise_dim),
        },
    }


def _example_inputs(model: Any) -> tuple[Any, Any]:
    import torch

    n_classes = len(model.classes_)
    gen = torch.Generator().manual_seed(0)
    # batch >= 2 so that the exporter does not specialise the batch dimension to 1
    noise = torch.randn(3, model.sampling_noise_dim, generator=gen)
    condition = torch.tensor([0, min(1, n_classes - 1), n_classes - 1], dtype=torch.int64)
    return noise, condition


#: (category, message regex) of the exporters' known, harmless warnings on torch 2.3 - 2.13
_KNOWN_WARNINGS = (
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),
    (UserWarning, r"# The axis name: .* will not be used"),
    (DeprecationWarning, r"You are using the legacy TorchScript-based ONNX export"),
    (DeprecationWarning, r"The feature will be removed"),
)
_REGISTRATION_LOGGER = "torch.onnx._internal.exporter._registration"


class _NoTorchvisionNotice(logging.Filter):
    """Drop the dynamo exporter's one log line per torchvision operator when torchvision is absent."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "torchvision is not installed" not in record.getMessage()


@contextlib.contextmanager
def _known_warnings_ignored() -> Iterator[None]:
    """Ignore only the exporters' known warnings; any other warning still reaches the caller."""
    logger = logging.getLogger(_REGISTRATION_LOGGER)
    if not any(isinstance(f, _NoTorchvisionNotice) for f in logger.filters):
        logger.addFilter(_NoTorchvisionNotice())  # once per process; a filter is thread-safe
    with warnings.catch_warnings():
        for category, message in _KNOWN_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


def _export_dynamo(module: Any, args: tuple[Any, ...], opset: int, names: Any = None) -> Any:
    """``names``: (input names, output names), the generator's by default."""
    inputs, outputs = names or (INPUT_NAMES, OUTPUT_NAMES)
    import torch

    batch = torch.export.Dim("batch", min=1)
    with _known_warnings_ignored():
        program = torch.onnx.export(
            module,
            args,
            dynamo=True,
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_shapes={name: {0: batch} for name in inputs},
            opset_version=opset,
            optimize=True,
            verbose=False,
        )
    return program.model_proto


def _export_torchscript(module: Any, args: tuple[Any, ...], opset: int, names: Any = None) -> Any:
    """``names``: (input names, output names), the generator's by default."""
    inputs, outputs = names or (INPUT_NAMES, OUTPUT_NAMES)
    import onnx
    import torch

    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in inputs + outputs}
    with _known_warnings_ignored():
        torch.onnx.export(
            module,
            args,
            buffer,
            dynamo=False,
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes=axes,
            opset_version=opset,
        )
    return onnx.load_from_string(buffer.getvalue())


def _verify(proto_bytes: bytes, module: Any, args: tuple[Any, Any]) -> None:
    """Run the exported graph once and compare it with torch (a cheap guard against bad exports)."""
    import onnxruntime as ort
    import torch

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(proto_bytes, opts, providers=["CPUExecutionProvider"])
    noise, condition = args
    numeric, codes = session.run(
        list(OUTPUT_NAMES), {"noise": noise.numpy(), "condition": condition.numpy()}
    )
    with torch.no_grad():
        t_numeric, t_codes = module(noise, condition)
    ok = np.allclose(numeric, t_numeric.numpy(), rtol=1e-4, atol=1e-5, equal_nan=True)
    if not ok or not np.array_equal(codes, t_codes.numpy()):
        raise RuntimeError("the exported ONNX graph does not reproduce the torch outputs")


def export_onnx(
    model: Any,
    path: str | os.PathLike[str],
    *,
    task: str = "classification",
    opset: int = 18,
    exporter: str = "auto",
    verify: bool = True,
) -> Path:
    """Export a fitted generator with its decoding to one self-describing ``.onnx`` file.

    Parameters
    ----------
    model : ConditionalGAN, GANAugmenter, OnnxGenerator or path-like
        A fitted model, a fitted augmenter (its ``model_`` and ``task_`` are used), an artifact
        directory saved by :func:`ganaug.gan.artifact.save` / ``GANAugmenter.save``, or an ``.onnx``
        file (copied as is).
    path : path-like
        Destination file (parent directories are created). Written atomically.
    task : {"classification", "regression"}, default="classification"
        Stored in the metadata; ``"regression"`` marks the last column (``__target__`` for
        DataFrames) as the jointly modelled target. Ignored when ``model`` knows its task.
    opset : int, default=18
        ONNX opset version.
    exporter : {"auto", "dynamo", "torchscript"}, default="auto"
        ``auto`` uses the dynamo exporter and falls back to the TorchScript one if it fails.
    verify : bool, default=True
        Run the exported graph once with ONNX Runtime and check it matches torch.

    Returns
    -------
    Path
        The written file; its metadata JSON is also written to the sidecar ``<path>.json``
        (both atomically).

    Raises
    ------
    ImportError
        If ``onnx`` (or ``onnxscript`` for the dynamo exporter) is not installed.
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {EXPORTERS}; got {exporter!r}")
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}")
    path = Path(path)
    model, task = _resolve(model, task)
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "_model_bytes"):  # an OnnxGenerator: its file already is the export
        write_export(path, model._model_bytes, model._metadata_json)
        return path
    if not hasattr(model, "generator_"):
        raise ValueError("the model is not fitted yet: call fit first")
    from ganaug.gan.guard import InputGuard

    meta = build_metadata(model, task)
    module = InputGuard(model.sampling_module(), len(model.classes_)).eval()
    args = _example_inputs(model)
    proto, exporter = convert(module, args, opset, exporter)
    blob, text = seal(
        proto,
        meta,
        "ganaug conditional generator with decoding: (noise, condition) -> (numeric, codes).",
        exporter,
        opset,
    )
    if verify:
        _verify(blob, module, args)
    write_export(path, blob, text)
    return path


def convert(
    module: Any,
    args: tuple[Any, ...],
    opset: int,
    exporter: str,
    inputs: tuple[str, ...] = INPUT_NAMES,
    outputs: tuple[str, ...] = OUTPUT_NAMES,
) -> tuple[Any, str]:
    """``(ModelProto, exporter used)`` of an eval-mode module with a dynamic batch dimension.

    ``exporter="auto"`` uses the dynamo exporter and falls back to the TorchScript one if it is
    missing or fails.
    """
    import torch

    auto = exporter == "auto"
    if auto:
        try:
            _require_onnx("dynamo")
            exporter = "dynamo"
        except ImportError:
            _require_onnx("torchscript")
            exporter = "torchscript"
    else:
        _require_onnx(exporter)
    with torch.no_grad():
        if exporter == "dynamo":
            try:
                proto = _export_dynamo(module, args, opset, (inputs, outputs))
            except Exception as exc:
                if not auto:
                    raise
                warnings.warn(
                    f"dynamo ONNX export failed ({type(exc).__name__}: {exc}); using the "
                    "TorchScript exporter",
                    RuntimeWarning,
                    stacklevel=2,
                )
                exporter = "torchscript"
        if exporter == "torchscript":
            proto = _export_torchscript(module, args, opset, (inputs, outputs))
    got_in = tuple(i.name for i in proto.graph.input)
    got_out = tuple(o.name for o in proto.graph.output)
    if got_in != tuple(inputs) or got_out != tuple(outputs):
        raise RuntimeError(f"unexpected graph signature: inputs {got_in}, outputs {got_out}")
    return proto, exporter


def seal(
    proto: Any,
    meta: dict[str, Any],
    description: str,
    exporter: str,
    opset: int,
    graph_name: str = GRAPH_NAME,
    model_version: int = FORMAT_VERSION,
) -> tuple[bytes, str]:
    """``(file bytes, metadata JSON)``: ``meta`` (plus exporter, opset and the graph digest) as
    JSON in ``metadata_props``, producer, doc string, model version and graph name set, checked by
    ``onnx.checker``. Write both with :func:`write_export`."""
    meta["exporter"] = exporter
    meta["opset"] = opset
    proto.producer_name = "ganaug"
    proto.producer_version = __version__
    proto.doc_string = (
        f"{description} Description as JSON in metadata_props['{METADATA_KEY}'] and in the "
        f"sidecar file <this file>{SIDECAR_SUFFIX}."
    )
    proto.model_version = model_version
    proto.graph.name = graph_name
    return _seal_with_digest(proto, meta)


def _seal_with_digest(proto: Any, meta: dict[str, Any]) -> tuple[bytes, str]:
    """``(file bytes, metadata JSON)``: the graph checked, its digest
    (:func:`ganaug.core.onnx_format.graph_digest`) added to ``meta``, ``meta`` stored."""
    import onnx

    del proto.metadata_props[:]
    onnx.checker.check_model(proto, full_check=True)
    # the digest leaves metadata_props out, so it can be stored there; checked once added
    meta[DIGEST_KEY] = graph_digest(proto.SerializeToString())
    text = json.dumps(meta, allow_nan=False)
    onnx.helper.set_model_props(proto, {METADATA_KEY: text})
    blob = proto.SerializeToString()
    if graph_digest(blob) != meta[DIGEST_KEY]:
        raise RuntimeError("the serialized graph changed when its metadata was added")
    return blob, text


def write_export(path: str | os.PathLike[str], blob: bytes, metadata_json: str) -> None:
    """Write an exported file and its sidecar ``<path>.json`` (the same metadata JSON), each
    atomically; the file first, so a sidecar never describes a file that is not there yet."""
    from ganaug.core.files import atomic_write_bytes

    atomic_write_bytes(path, blob)
    atomic_write_bytes(sidecar_path(path), metadata_json.encode("utf-8"))


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ganaug description stored in an exported file (needs the ``onnx`` package)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    props = {p.key: p.value for p in proto.metadata_props}
    if METADATA_KEY not in props:
        from ganaug.core.errors import ArtifactError

        raise ArtifactError(f"{path} has no ganaug metadata: it was not exported by ganaug")
    return json.loads(props[METADATA_KEY])
