"""The local store: one pretrained artifact per dataset name, reused across runs.

Root: ``$GANAUG_HOME`` if set, else ``$XDG_CACHE_HOME/ganaug`` (``~/.cache/ganaug``). Layout::

    ROOT/artifacts/<dataset name>/   # an artifact directory (see ganaug.gan.artifact)
    ROOT/onnx/<dataset name>.onnx    # exported generators
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ganaug.gan import artifact

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def default_root() -> Path:
    """The store root from ``GANAUG_HOME`` or the user's cache directory."""
    home = os.environ.get("GANAUG_HOME")
    if home:
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "ganaug"


def safe_name(name: str) -> str:
    """Turn a dataset name or URI (``sklearn:wine``, ``csv:data/x.csv``) into a store key.

    Raises
    ------
    ValueError
        If nothing usable is left.
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string; got {type(name).__name__}")
    key = re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace(":", "-")).strip("._-")
    if not _NAME.match(key):
        raise ValueError(f"cannot make a store name from {name!r}")
    return key


class Store:
    """Artifacts keyed by dataset name.

    Parameters
    ----------
    root : path-like, optional
        Store root; defaults to :func:`default_root`.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def path(self, name: str) -> Path:
        """Artifact directory for a dataset name."""
        return self.root / "artifacts" / safe_name(name)

    def onnx_path(self, name: str) -> Path:
        """Where the exported ONNX generator of a dataset goes."""
        return self.root / "onnx" / f"{safe_name(name)}.onnx"

    def exists(self, name: str) -> bool:
        """Whether an artifact is stored for the name."""
        return (self.path(name) / artifact.META_FILE).is_file()

    def save(self, name: str, model: Any, extra: dict[str, Any] | None = None) -> Path:
        """Store a fitted model under ``name`` (atomically replacing an older one)."""
        return artifact.save(model, self.path(name), extra=extra)

    def load(self, name: str) -> tuple[Any, dict[str, Any]]:
        """Load the model stored under ``name``.

        Raises
        ------
        ValueError
            If nothing is stored under that name.
        """
        if not self.exists(name):
            raise ValueError(f"no pretrained artifact for {name!r} in {self.root}; run `ganaug pretrain {name}` first")
        return artifact.load(self.path(name))

    def list(self) -> list[str]:
        """Names with a stored artifact."""
        base = self.root / "artifacts"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / artifact.META_FILE).is_file())
