"""Feature extraction and classification with an exported row graph, on ONNX Runtime alone.

Reads the files :func:`ganaug.gan.critic_features.export_rows_onnx` writes (``GANFeatures.export_onnx``
and ``DiscriminatorClassifier.export_onnx``): numpy, pandas and onnxruntime only::

    from ganaug.runtime.row_model import OnnxRowModel

    features = OnnxRowModel("features.onnx").transform(X)          # the critic's activations
    proba = OnnxRowModel("classifier.onnx").predict_proba(X)       # class probabilities
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from ganaug.core.errors import ArtifactError
from ganaug.core.labels import classes_from_json
from ganaug.core.limits import MAX_ONNX_BYTES, parse_json, read_regular_file
from ganaug.core.onnx_format import (
    METADATA_KEY,
    ROWS_FORMAT,
    ROWS_FORMAT_VERSION,
    ROWS_INPUT_NAMES,
    ROWS_OUTPUT_NAMES,
)
from ganaug.core.rows import split_rows
from ganaug.core.schema import Schema

#: rows per ONNX Runtime call (bounds the memory of the in-graph quantile look-up)
BATCH_ROWS = 1024


class OnnxRowModel:
    """An exported feature extractor or discriminator classifier, run with ONNX Runtime.

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file.

    Attributes
    ----------
    kind : {"features", "classifier"}
    schema : Schema
        The columns the model reads.
    classes_ : ndarray
        Class labels (``kind="classifier"`` only).
    metadata : dict
        The JSON description stored in the file.

    Raises
    ------
    ArtifactError
        The file is missing, not a valid ONNX model or not a ganaug row graph.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        blob = read_regular_file(self.path, MAX_ONNX_BYTES, "ONNX file")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - ORT raises several private exception types
            raise ArtifactError(f"{self.path} is not a valid ONNX model: {exc}") from None
        raw = self._session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        meta = parse_json(raw, f"{self.path}: ganaug metadata", "metadata field") if raw else None
        if not isinstance(meta, dict) or meta.get("format") != ROWS_FORMAT:
            raise ArtifactError(
                f"{self.path} is not a ganaug feature extractor or classifier (no {ROWS_FORMAT!r} "
                "metadata)"
            )
        if meta.get("format_version") != ROWS_FORMAT_VERSION:
            raise ArtifactError(f"{self.path} has format version {meta.get('format_version')!r}")
        self.kind = meta.get("kind")
        if self.kind not in ROWS_OUTPUT_NAMES:
            raise ArtifactError(f"{self.path}: unknown kind {self.kind!r}")
        inputs = tuple(i.name for i in self._session.get_inputs())
        if inputs != ROWS_INPUT_NAMES:
            raise ArtifactError(f"{self.path}: graph inputs {inputs}, expected {ROWS_INPUT_NAMES}")
        self.schema = Schema.from_dict(meta["schema"])
        if self.kind == "classifier":
            self.classes_ = classes_from_json(meta)
        self.metadata = meta

    def _run(self, X: Any) -> np.ndarray:
        numeric, codes = split_rows(self.schema, X)
        parts = [
            self._session.run(
                None,
                {"numeric": numeric[i : i + BATCH_ROWS], "codes": codes[i : i + BATCH_ROWS]},
            )[0]
            for i in range(0, len(numeric), BATCH_ROWS)
        ]
        width = int(self.metadata["n_outputs"])
        return np.concatenate(parts) if parts else np.empty((0, width), dtype=np.float32)

    def transform(self, X: Any) -> np.ndarray:
        """The features of the rows ``X`` (``kind="features"``), float32."""
        if self.kind != "features":
            raise ValueError(f"{self.path} is a {self.kind}, not a feature extractor")
        return self._run(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in :attr:`classes_` order (``kind="classifier"``)."""
        if self.kind != "classifier":
            raise ValueError(f"{self.path} is a feature extractor, not a classifier")
        return self._run(X)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
