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
import re
from pathlib import Path
from typing import Any

import numpy as np

from ganaug._version import __version__
from ganaug.core.checks import check_knots, check_schema, check_task, is_count, read_classes
from ganaug.core.errors import ArtifactError
from ganaug.core.files import atomic_write_bytes, locked_directory, remove_stale_temps
from ganaug.core.labels import classes_to_json
from ganaug.core.limits import MAX_JSON_BYTES, parse_json, read_regular_file
from ganaug.core.schema import Schema
from ganaug.gan.codec import TableCodec
from ganaug.gan.presets import GANConfig

FORMAT = "ganaug-artifact"
#: version 2: the copula base gives log-probabilities for one-hot blocks (``logit_mask``);
#: version 1 artifacts load with an all-false mask, their original behaviour
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
META_FILE = "ganaug.json"


#: the only files a save removes: weights files of this naming pattern (``weights-`` and the first
#: 16 hex digits of their SHA-256), which are also the only weights names a load accepts
WEIGHTS_PATTERN = r"weights-[0-9a-f]{16}\.safetensors"


def _weights_name(sha: str) -> str:
    return f"weights-{sha[:16]}.safetensors"


def check_destination(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that an artifact can be saved at ``path``.

    An existing artifact there, even a corrupt one, may be replaced; a file in the way, a
    ``ganaug.json`` that is a directory, or a parent that is not a writable directory may not:
    those raise an :class:`ArtifactError` naming the path at fault. Returns the directory.
    """
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise ArtifactError(f"{root} exists and is not a directory")
    if (root / META_FILE).is_dir():
        raise ArtifactError(f"{root / META_FILE} is a directory, not an artifact description")
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ArtifactError(f"cannot save an artifact in {root}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ArtifactError(f"cannot save an artifact in {root}: {existing} is not writable")
    return root


def save(model: Any, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> Path:
    """Save a fitted :class:`~ganaug.gan.synthesizer.ConditionalGAN` to a directory, atomically.

    Whatever the directory held before (another artifact, a corrupt one, files left by a killed
    save) only weights files ``weights-<16 hex digits>.safetensors`` that the new description
    does not reference, and temporary files of killed saves, are removed; no other file is
    touched, whatever an old ``ganaug.json`` says.

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

    Raises
    ------
    ArtifactError
        If ``path`` cannot hold an artifact, or a value cannot be stored as JSON (nothing is
        written then).
    """
    from safetensors.torch import save as st_save

    model._check_fitted()
    root = check_destination(path)
    tensors = {f"generator.{k}": v.detach().cpu().contiguous() for k, v in model.generator_.state_dict().items()}
    tensors.update(
        {f"discriminator.{k}": v.detach().cpu().contiguous() for k, v in model.discriminator_.state_dict().items()}
    )
    blob = st_save(tensors, metadata={"format": FORMAT})
    sha = hashlib.sha256(blob).hexdigest()
    weights_name = _weights_name(sha)
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
        "target": getattr(model, "target_name_", None),
        "weights": {"file": weights_name, "sha256": sha, "bytes": len(blob)},
        "extra": {"task": model.task, **(extra or {})},
    }
    text = _to_json(meta, root)  # before any write: an unstorable value leaves nothing behind
    root.mkdir(parents=True, exist_ok=True)
    with locked_directory(root):
        atomic_write_bytes(root / weights_name, blob)
        atomic_write_bytes(root / META_FILE, text)
        # Only now are older weights unreferenced. Files are recognised by name, never taken from
        # the old description (which may name any file, or be unreadable).
        remove_stale_temps(root, WEIGHTS_PATTERN)
        for entry in os.scandir(root):
            if (
                entry.name != weights_name
                and re.fullmatch(WEIGHTS_PATTERN, entry.name)
                and entry.is_file(follow_symlinks=False)
            ):
                Path(entry.path).unlink(missing_ok=True)
    return root


def _to_json(meta: dict[str, Any], root: Path) -> bytes:
    try:
        return json.dumps(meta, indent=1, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        where = _unstorable(meta, [])
        if where[:2] == ["schema", "columns"] and len(where) > 2:
            column = meta["schema"]["columns"][int(where[2])]["name"]
            field = f"column {column!r}, field {'.'.join(where[3:])!r}"
        else:
            field = f"field {'.'.join(where)!r}"
        raise ArtifactError(f"cannot save the artifact in {root}: {field} cannot be stored as JSON ({exc})") from None


def _unstorable(value: Any, where: list[str]) -> list[str]:
    """The path to the first value inside ``value`` that JSON cannot hold."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        try:
            json.dumps(item, allow_nan=False)
        except (TypeError, ValueError):
            return _unstorable(item, [*where, str(key)])
    return where


def _read_meta(root: Path) -> dict[str, Any]:
    meta_path = root / META_FILE
    if not meta_path.is_file():
        raise ArtifactError(f"{root} is not a ganaug artifact: {META_FILE} is missing")
    meta = parse_json(read_regular_file(meta_path, MAX_JSON_BYTES, "artifact description"), meta_path)
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


def _weights_path(root: Path, meta: dict[str, Any]) -> Path:
    """The weights file the description names, after checking the ``weights`` fields."""
    source = root / META_FILE
    weights = meta.get("weights")
    if not isinstance(weights, dict):
        raise ArtifactError(f"{source}: field 'weights' is missing or not an object")
    name, sha, size = weights.get("file"), weights.get("sha256"), weights.get("bytes")
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ArtifactError(f"{source}: field 'weights.sha256' must be 64 hex digits; got {sha!r}")
    if not is_count(size) or size < 0:
        raise ArtifactError(f"{source}: field 'weights.bytes' must be a byte count; got {size!r}")
    if not isinstance(name, str) or not re.fullmatch(WEIGHTS_PATTERN, name):
        raise ArtifactError(
            f"{source}: field 'weights.file' must be a file weights-<16 hex digits>.safetensors "
            f"inside the artifact; got {name!r}"
        )
    if name != _weights_name(sha):
        raise ArtifactError(f"{source}: field 'weights.file' {name!r} does not match 'weights.sha256'")
    return root / name


def _check_fields(meta: dict[str, Any], source: Path) -> dict[str, Any]:
    """Check the plain fields of a description; returns its ``extra``."""
    for field in ("seed", "n_epochs"):
        if not is_count(meta.get(field)) or meta[field] < 0:
            raise ArtifactError(
                f"{source}: field {field!r} must be a non-negative integer; got {meta.get(field)!r}"
            )
    if not isinstance(meta.get("history"), dict):
        raise ArtifactError(f"{source}: field 'history' must be an object")
    extra = meta.get("extra", {})
    if not isinstance(extra, dict):
        raise ArtifactError(f"{source}: field 'extra' must be an object; got {extra!r}")
    if not isinstance(extra.get("augmenter_params", {}), dict):
        raise ArtifactError(f"{source}: field 'extra.augmenter_params' must be an object")
    return extra


def _parse(meta: dict[str, Any], field: str, parse: Any, source: Path) -> Any:
    if field not in meta:
        raise ArtifactError(f"{source}: field {field!r} is missing")
    try:
        return parse(meta[field])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ArtifactError(f"{source}: field {field!r} is invalid: {exc}") from None


def load(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Load an artifact saved by :func:`save`.

    Every field of ``ganaug.json`` is checked against the others and against the weights before
    anything is built. Loading neither uses nor advances the global torch random generator.

    Returns
    -------
    model : ConditionalGAN
        Ready to sample, on the CPU (whatever device it was trained on).
    extra : dict
        The ``extra`` data given to :func:`save`.

    Raises
    ------
    ArtifactError
        Missing files, unknown format version, checksum mismatch, truncated weights, or a field
        of the description that is invalid or disagrees with another (the message names it).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    from ganaug.gan.synthesizer import ConditionalGAN

    root = Path(path)
    source = root / META_FILE
    with locked_directory(root, shared=True):  # a concurrent save removes the old weights
        meta = _read_meta(root)
        weights_path = _weights_path(root, meta)
        if not weights_path.is_file():
            raise ArtifactError(f"{root}: weights file {weights_path.name} is missing")
        blob = weights_path.read_bytes()
    expected = meta["weights"]["bytes"]
    if len(blob) != expected:
        raise ArtifactError(f"{weights_path} has {len(blob)} bytes, expected {expected} (truncated?)")
    if hashlib.sha256(blob).hexdigest() != meta["weights"]["sha256"]:
        raise ArtifactError(f"{weights_path} does not match its checksum (altered or corrupt)")
    try:
        tensors = st_load(blob)
    except (SafetensorError, ValueError) as exc:
        raise ArtifactError(f"{weights_path} is not a valid safetensors file: {exc}") from None
    config = _parse(meta, "config", GANConfig.from_dict, source)
    schema = _parse(meta, "schema", Schema.from_dict, source)
    check_schema(schema, str(source))
    classes = read_classes(meta, str(source))
    check_knots(schema, meta["class_counts"], str(source))
    extra = _check_fields(meta, source)
    if "task" in extra:
        check_task(extra["task"], classes, schema, str(source), field="extra.task")
    model = ConditionalGAN(preset=config, task=extra.get("task", "classification"))
    model.config_ = config
    model.codec_ = TableCodec.from_schema(schema, numeric_encoding=config.numeric_encoding)
    model.classes_ = classes
    model.class_counts_ = np.asarray(meta["class_counts"], dtype=np.int64)
    model.seed_ = meta["seed"]
    model.n_epochs_ = meta["n_epochs"]
    model.history_ = meta["history"]
    target = meta.get("target")
    model.target_name_ = target if isinstance(target, str) else None
    try:
        _load_networks(model, tensors, len(classes))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ArtifactError(
            f"{root}: the weights do not fit the fields 'config', 'schema' and 'classes': {exc}"
        ) from None
    _check_weights(model, tensors, weights_path)
    return model, extra


def _check_weights(model: Any, tensors: dict[str, Any], weights_path: Path) -> None:
    """Finite weights whose generator gives finite outputs for every class, or an ArtifactError
    naming the file and the tensor (weights edited with their checksum recomputed would
    otherwise fail deep in the decode, or give NaN rows)."""
    import torch

    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ArtifactError(f"{weights_path}: tensor {name!r} holds NaN or infinite values")
    generator = model.generator_
    n_classes = len(model.classes_)
    with torch.no_grad():
        raw = generator(torch.ones(n_classes, generator.noise_dim), torch.arange(n_classes))
    if not torch.isfinite(raw).all():
        largest = max(
            (k for k, t in tensors.items() if k.startswith("generator.") and t.is_floating_point()),
            key=lambda k: float(tensors[k].abs().max()) if tensors[k].numel() else 0.0,
        )
        raise ArtifactError(
            f"{weights_path}: the generator gives infinite or NaN outputs (tensor {largest!r} holds "
            f"values up to {float(tensors[largest].abs().max()):.3g}): the weights were altered"
        )


def _load_networks(model: Any, tensors: dict[str, Any], n_classes: int) -> None:
    """Build the networks without initialising them, then fill them from ``tensors``.

    Built on the meta device, modules draw no random initial weights, so a load leaves the
    global torch random generator as it was (and is not slowed by initialisation).
    """
    import torch

    from ganaug.gan.decode import DecodeHead

    config = model.config_
    with torch.device("meta"):
        model._build(n_classes)
    model.head_ = DecodeHead(model.codec_, output=config.output)  # holds tables, not weights
    for prefix in ("generator.", "discriminator."):
        module = getattr(model, f"{prefix[:-1]}_").to_empty(device="cpu")
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        if prefix == "generator." and config.copula and "logit_mask" not in state:
            # a version-1 artifact: Gaussian one-hot codes, one factor shared by all classes
            state["logit_mask"] = torch.zeros(module.logit_mask.shape, dtype=torch.bool)
            state["base_factor"] = state["base_factor"].repeat(1, n_classes)
        if prefix == "generator." and config.copula and "component_cdf" not in state:
            state["component_cdf"] = torch.ones(module.component_cdf.shape)  # one component
        module.load_state_dict(state)
        module.eval()

def storable(params: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``params`` JSON can store as they are (strings, numbers, booleans, None,
    flat lists and dicts of those); the others are left out."""
    out = {}
    for k, v in params.items():
        if v is None or isinstance(v, (str, bool, int, float)):
            out[k] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(i, (str, int, float, bool)) for i in v):
            out[k] = list(v)
        elif isinstance(v, dict) and all(isinstance(i, (str, int, float, bool)) for i in v.values()):
            out[k] = {str(kk): vv for kk, vv in v.items()}
    return out

