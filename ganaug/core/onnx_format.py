"""The ganaug ONNX file format: its name, version, metadata key and graph input/output names.

Shared by the exporter (:mod:`ganaug.gan.export`, torch) and the reader
(:mod:`ganaug.runtime.generator`, onnxruntime); the runtime must not import the exporter.
"""

from __future__ import annotations

FORMAT = "ganaug-onnx"
FORMAT_VERSION = 1
METADATA_KEY = "ganaug"
INPUT_NAMES = ("noise", "condition")
OUTPUT_NAMES = ("numeric", "codes")
