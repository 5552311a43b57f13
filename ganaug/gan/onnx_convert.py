"""Converting an eval-mode torch module to an ONNX graph with a dynamic batch dimension, and
sealing it: metadata JSON and the graph's digest stored in ``metadata_props``, checked by
``onnx.checker``. Used by the generator export (:mod:`ganaug.gan.export`) and the row graphs of
:mod:`ganaug.gan.critic_features`.

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
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

from ganaug._version import __version__
from ganaug.core.onnx_format import (
    DIGEST_KEY,
    FORMAT_VERSION,
    GRAPH_NAME,
    INPUT_NAMES,
    METADATA_KEY,
    OUTPUT_NAMES,
    SIDECAR_SUFFIX,
    graph_digest,
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
