"""Saving and loading a fitted GAN as a directory: JSON description + safetensors weights.

No pickle anywhere: the description is JSON, the weights are safetensors (plain tensors). Writes are
atomic: the weights go to a new, content-addressed file, then ``ganaug.json`` is replaced in one
``os.replace``. An interrupted save therefore leaves the previous artifact loadable (the old JSON
still points at the old weights, which are only removed after the switch).

Layout::

    PATH/
      ganaug.json                       # format version, schema, hyperparameters, checksum, ...
      weights-<sha256 prefix>.safetensors
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ganaug._version import __version__
from ganaug.core.errors import ArtifactError
from ganaug.core.files import atomic_write_bytes
from ganaug.core.labels import classes_from_json, classes_to_json
from ganaug.core.schema import Schema
from ganaug.gan.codec import TableCodec
from ganaug.gan.presets import GANConfig

FORMAT = "ganaug-artifact"
#: version 2: the copula base gives log-probabilities for one-hot blocks (``logit_mask``);
#: version 1 artifacts load with an all-false mask, their original behaviour
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
META_FILE = "ganaug.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save(model: Any, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> Path:
    """Save a fitted :class:`~ganaug.gan.synthesizer.ConditionalGAN` to a directory, atomically.

    Parameters
    ----------
    model : ConditionalGAN
        Fitted model.
    path : path-like
        Artifact directory (created if needed; an existing artifact is replaced atomically).
    extra : dict, optional
        JSON-serialisable data stored alongside (e.g. the augmenter's parameters).

    Returns
    -------
    Path
        The artifact directory.
    """
    from safetensors.torch import save as st_save

    model._check_fitted()
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise ArtifactError(f"{root} exists and is not a directory")
    root.mkdir(parents=True, exist_ok=True)
    tensors = {f"generator.{k}": v.detach().cpu().contiguous() for k, v in model.generator_.state_dict().items()}
    tensors.update(
        {f"discriminator.{k}": v.detach().cpu().contiguous() for k, v in model.discriminator_.state_dict().items()}
    )
    blob = st_save(tensors, metadata={"format": FORMAT})
    sha = hashlib.sha256(blob).hexdigest()
    weights_name = f"weights-{sha[:16]}.safetensors"
    atomic_write_bytes(root / weights_name, blob)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ganaug_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": model.config_.to_dict(),
        "schema": model.codec_.schema_.to_dict(),
        **classes_to_json(model.classes_),
        "class_counts": [int(c) for c in model.class_counts_],
        "seed": model.seed_,
        "n_epochs": model.n_epochs_,
        "history": model.history_,
        "weights": {"file": weights_name, "sha256": sha, "bytes": len(blob)},
        "extra": extra or {},
    }
    previous = _read_meta(root) if (root / META_FILE).exists() else None
    atomic_write_bytes(root / META_FILE, json.dumps(meta, indent=1, allow_nan=False).encode())
    # Only now is the old weights file unreferenced.
    if previous is not None:
        old = previous.get("weights", {}).get("file")
        if old and old != weights_name:
            (root / old).unlink(missing_ok=True)
    return root


def _read_meta(root: Path) -> dict[str, Any]:
    meta_path = root / META_FILE
    if not meta_path.is_file():
        raise ArtifactError(f"{root} is not a ganaug artifact: {META_FILE} is missing")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{meta_path} is not valid JSON (truncated or corrupt?): {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ArtifactError(f"{meta_path} is not a ganaug artifact description")
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ArtifactError(
            f"{meta_path} has format version {version!r}; this ganaug ({__version__}) reads "
            f"versions {', '.join(map(str, READABLE_VERSIONS))}"
        )
    return meta


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate an artifact's JSON description without loading the weights."""
    return _read_meta(Path(path))


def load(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Load an artifact saved by :func:`save`.

    Returns
    -------
    model : ConditionalGAN
        Ready to sample, on the CPU (whatever device it was trained on).
    extra : dict
        The ``extra`` data given to :func:`save`.

    Raises
    ------
    ArtifactError
        Missing files, unknown format version, checksum mismatch or truncated weights.
    """
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    from ganaug.gan.synthesizer import ConditionalGAN

    root = Path(path)
    meta = _read_meta(root)
    try:
        weights = meta["weights"]
        weights_path = root / weights["file"]
        if Path(weights["file"]).name != weights["file"]:
            raise ArtifactError(f"{root}: weights file name {weights['file']!r} is not a plain name")
        if not weights_path.is_file():
            raise ArtifactError(f"{root}: weights file {weights['file']} is missing")
        blob = weights_path.read_bytes()
        if len(blob) != weights["bytes"]:
            raise ArtifactError(
                f"{weights_path} has {len(blob)} bytes, expected {weights['bytes']} (truncated?)"
            )
        if hashlib.sha256(blob).hexdigest() != weights["sha256"]:
            raise ArtifactError(f"{weights_path} does not match its checksum (altered or corrupt)")
        try:
            tensors = st_load(blob)
        except (SafetensorError, ValueError) as exc:
            raise ArtifactError(f"{weights_path} is not a valid safetensors file: {exc}") from None
        config = GANConfig.from_dict(meta["config"])
        schema = Schema.from_dict(meta["schema"])
        model = ConditionalGAN(preset=config)
        model.config_ = config
        model.codec_ = TableCodec.from_schema(schema, numeric_encoding=config.numeric_encoding)
        classes = classes_from_json(meta)
        model.classes_ = classes
        model.class_counts_ = np.asarray(meta["class_counts"], dtype=np.int64)
        model.seed_ = meta["seed"]
        model.n_epochs_ = meta["n_epochs"]
        model.history_ = meta["history"]
        model._build(len(classes))
        for prefix, module in (("generator.", model.generator_), ("discriminator.", model.discriminator_)):
            state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            if module is model.generator_ and config.copula and "logit_mask" not in state:
                # a version-1 artifact: Gaussian one-hot codes, one factor shared by all classes
                state["logit_mask"] = torch.zeros_like(module.logit_mask)
                state["base_factor"] = state["base_factor"].repeat(1, len(classes))
            if module is model.generator_ and config.copula and "component_cdf" not in state:
                state["component_cdf"] = torch.ones_like(module.component_cdf)  # one component
            module.load_state_dict(state)
            module.eval()
    except ArtifactError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ArtifactError(f"{root}: artifact is inconsistent: {exc}") from None
    return model, meta.get("extra", {})
