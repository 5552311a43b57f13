"""Runtime layer: sample an exported ``.onnx`` generator with ONNX Runtime alone, and serve it.

Imports numpy, pandas, onnxruntime and :mod:`ganaug.core` only: never torch, scikit-learn,
:mod:`ganaug.gan` or :mod:`ganaug.learn` (checked by the import contracts in ``pyproject.toml``).
The HTTP server is :mod:`ganaug.runtime.server`, imported on demand.
:mod:`ganaug.runtime.partitions` computes any row range of a request (pandas out), for engines
such as Dask, Spark or Ray.
"""

from __future__ import annotations

from ganaug.core.onnx_format import FORMAT, FORMAT_VERSION, INPUT_NAMES, METADATA_KEY, OUTPUT_NAMES
from ganaug.runtime.chunks import (
    INFERENCE_ROWS,
    MAX_DEFAULT_THREADS,
    default_num_threads,
    set_max_workers,
    shared_executor,
)
from ganaug.runtime.generator import DEFAULT_BATCH_SIZE, OnnxGenerator

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FORMAT",
    "FORMAT_VERSION",
    "INFERENCE_ROWS",
    "INPUT_NAMES",
    "MAX_DEFAULT_THREADS",
    "METADATA_KEY",
    "OUTPUT_NAMES",
    "OnnxGenerator",
    "default_num_threads",
    "set_max_workers",
    "shared_executor",
]
