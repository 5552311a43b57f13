"""The served models: the ``.onnx`` files of a path, found at start-up and reloaded when they change.

A model's name is its file stem, sanitised to ``[A-Za-z0-9._-]`` (never ``..``): a name in a URL
is only ever looked up in this table, never joined to a filesystem path, so nothing outside the
served files is reachable. :meth:`ModelRepository.refresh` compares each file's size and
modification time with those it loaded and loads only what changed, so calling it often (the
server polls it every few seconds, and ``POST /v1/reload`` calls it on request) costs one
``stat`` per file.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ganaug.core.errors import ArtifactError
from ganaug.runtime.generator import OnnxGenerator

logger = logging.getLogger("ganaug.runtime.server")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def model_name(stem: str) -> str:
    """A URL-safe model name from a file stem: ``[A-Za-z0-9._-]``, no leading dot, never ``..``.

    ``"parquet-.._data_churn"`` becomes ``"parquet-data_churn"``; an empty result is ``"model"``.
    """
    name = _UNSAFE.sub("_", stem)
    name = re.sub(r"\.{2,}", "", name)
    name = re.sub(r"([_-])[._-]+", r"\1", name).strip("._-")
    return name or "model"


def discover(path: str | os.PathLike[str]) -> dict[str, Path]:
    """Model name -> file, for one ``.onnx`` file or the ``*.onnx`` files of a directory.

    Only regular files directly inside the directory count; hidden files (such as interrupted
    atomic writes) and links leading outside the directory are skipped. Names come from
    :func:`model_name`; a name that two files would share keeps the first file (sorted order).
    """
    root = Path(path)
    if root.is_file():
        return {model_name(root.stem): root}
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such .onnx file or directory")
    base = root.resolve()
    found: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.suffix != ".onnx" or not entry.is_file():
            continue
        if entry.resolve().parent != base:
            logger.warning("skipping %s: it links outside %s", entry.name, root)
            continue
        name = model_name(entry.stem)
        if name in found:
            logger.warning("skipping %s: the name %r is taken by %s", entry.name, name,
                           found[name].name)
            continue
        found[name] = entry
    return found


def _signature(file: Path) -> tuple[int, int] | None:
    try:
        st = file.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass
class _Entry:
    file: Path
    signature: tuple[int, int] | None
    generator: OnnxGenerator | None  # None: the file at this signature failed to load
    error: str | None = None


@dataclass
class RefreshReport:
    """What one :meth:`ModelRepository.refresh` changed (names, sorted)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict[str, object]:
        return {"added": self.added, "updated": self.updated, "removed": self.removed,
                "failed": self.failed}


class ModelRepository(Mapping[str, OnnxGenerator]):
    """The models served from ``path``, a read-only mapping name -> :class:`OnnxGenerator`.

    Parameters
    ----------
    path : path-like
        One ``.onnx`` file or a directory of them.
    n_threads : int, optional
        Sampling threads per request of each loaded generator.

    Raises
    ------
    ValueError
        If no model could be loaded at start-up (a single invalid file raises its ArtifactError).
    """

    def __init__(self, path: str | os.PathLike[str], n_threads: int | None = None) -> None:
        self.path = Path(path)
        self.n_threads = n_threads
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._models: dict[str, OnnxGenerator] = {}
        if self.path.is_file():  # one file: an invalid one is an error, not a warning
            name, file = next(iter(discover(self.path).items()))
            gen = OnnxGenerator(file, n_threads=n_threads)
            self._entries[name] = _Entry(file, _signature(file), gen)
            self._models = {name: gen}
        else:
            self.refresh()
        if not self._models:
            raise ValueError(f"no ganaug .onnx models found in {path}")

    # Mapping over the models loaded now (a snapshot: a reload swaps the dict, never edits it)
    def __getitem__(self, name: str) -> OnnxGenerator:
        return self._models[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def failures(self) -> dict[str, str]:
        """Files present but not loadable: name -> reason."""
        return {k: e.error or "" for k, e in self._entries.items() if e.generator is None}

    def refresh(self) -> RefreshReport:
        """Load new and changed files, drop removed ones; unchanged files are not read again.

        A changed file that no longer loads is dropped with a warning (not served stale), and
        not retried until it changes again. Thread-safe; requests in flight keep the generator
        they looked up.
        """
        report = RefreshReport()
        with self._lock:
            try:
                files = discover(self.path)
            except FileNotFoundError as exc:
                logger.warning("model path gone: %s", exc)
                files = {}
            entries: dict[str, _Entry] = {}
            for name, file in files.items():
                sig = _signature(file)
                old = self._entries.get(name)
                if old is not None and old.file == file and old.signature == sig:
                    entries[name] = old
                    continue
                try:
                    gen: OnnxGenerator | None = OnnxGenerator(file, n_threads=self.n_threads)
                    error = None
                except (ArtifactError, OSError) as exc:
                    gen, error = None, str(exc)
                    logger.warning("skipping %s: %s", file.name, exc)
                    report.failed[name] = error
                entries[name] = _Entry(file, sig, gen, error)
                if gen is not None:
                    was_served = old is not None and old.generator is not None
                    (report.updated if was_served else report.added).append(name)
            served = {k: e.generator for k, e in entries.items() if e.generator is not None}
            report.removed = sorted(set(self._models) - set(served))
            self._entries = entries
            self._models = served
        for kind in ("added", "updated", "removed"):
            names = getattr(report, kind)
            if names:
                logger.info("models %s: %s", kind, ", ".join(names))
        return report


def load_models(
    path: str | os.PathLike[str], n_threads: int | None = None
) -> dict[str, OnnxGenerator]:
    """Load every model :func:`discover` finds; unreadable files are skipped with a warning.

    Raises
    ------
    ValueError
        If no model could be loaded (a single invalid file raises its ArtifactError).
    """
    return dict(ModelRepository(path, n_threads=n_threads))
