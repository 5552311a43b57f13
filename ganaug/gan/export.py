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

The conversion itself (dynamo or TorchScript exporter) is :mod:`ganaug.gan.onnx_convert`.

Export uses the ``onnx`` and ``onnxscript`` packages (core dependencies of ganaug); sampling
the exported file needs only ``onnxruntime``, ``numpy`` and ``pandas``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ganaug._version import __version__
from ganaug.core.labels import TARGET_COLUMN  # the joint regression target column
from ganaug.core.noise import NOISE_BLOCK_ROWS
from ganaug.core.onnx_format import (
    FORMAT,
    FORMAT_VERSION,
    METADATA_KEY,
    OUTPUT_NAMES,
    write_export,
)
from ganaug.core.protocol import RowGenerator, WrapsGenerator, target_column
from ganaug.gan.onnx_convert import EXPORTERS, convert, seal
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.runtime.generator import OnnxGenerator


def _resolve(model: Any) -> RowGenerator:
    """The generator to export from what was given: a path is loaded, an estimator that wraps a
    generator (``GANAugmenter``) gives its own."""
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if path.is_dir():
            from ganaug.gan import artifact

            return artifact.load(path)[0]
        if path.suffix == ".onnx" and path.is_file():
            return OnnxGenerator(path)
        raise ValueError(f"{path} is neither a ganaug artifact directory nor an .onnx file")
    if isinstance(model, WrapsGenerator):
        return model.fitted_generator()
    if isinstance(model, (ConditionalGAN, OnnxGenerator, RowGenerator)):  # fitted or not
        return model
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
        target = target_column(schema)
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
    task: str | None = None,
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
    task : {"classification", "regression"}, optional
        Stored in the metadata; ``"regression"`` marks the last column (``__target__`` for
        DataFrames) as the jointly modelled target. Default: the model's own ``task``. An
        ``.onnx`` file is copied as is.
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
    if task not in (None, "classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}")
    path = Path(path)
    generator = _resolve(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(generator, OnnxGenerator):  # its file already is the export
        generator.save(path)
        return path
    if not isinstance(generator, ConditionalGAN):
        raise TypeError(f"export_onnx cannot export a {type(generator).__name__}")
    model = generator
    model._check_fitted()
    task = task or model.task
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


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ganaug description stored in an exported file (needs the ``onnx`` package)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    props = {p.key: p.value for p in proto.metadata_props}
    if METADATA_KEY not in props:
        from ganaug.core.errors import ArtifactError

        raise ArtifactError(f"{path} has no ganaug metadata: it was not exported by ganaug")
    return json.loads(props[METADATA_KEY])
