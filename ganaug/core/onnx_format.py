"""The ganaug ONNX file format: its name, version, metadata key and graph input/output names.

Shared by the exporter (:mod:`ganaug.gan.export`, torch) and the reader
(:mod:`ganaug.runtime.generator`, onnxruntime); the runtime must not import the exporter.
"""

from __future__ import annotations

FORMAT = "ganaug-onnx"
#: version 2: categories and missing values are sampled in the graph from extra noise columns
#: (version 1 took an argmax); both are read, sampling works the same way for either
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
METADATA_KEY = "ganaug"
INPUT_NAMES = ("noise", "condition")
OUTPUT_NAMES = ("numeric", "codes")

#: graphs that read rows instead of noise: the critic's features (``kind`` "features") and the
#: fine-tuned discriminator classifier (``kind`` "classifier"); see :mod:`ganaug.gan.features`
ROWS_FORMAT = "ganaug-rows-onnx"
ROWS_FORMAT_VERSION = 1
ROWS_INPUT_NAMES = ("numeric", "codes")
ROWS_OUTPUT_NAMES = {"features": ("features",), "classifier": ("probabilities",)}
