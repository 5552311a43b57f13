"""Atomic file writes that create files as ``open()`` would (mode 0666 less the umask), leave no
temporary files behind, and clean up after writers that were killed.

A temporary file from :func:`tempfile.mkstemp` is private (0600), so a file renamed into place
from it could not be read by a server or container running as another user. Every file ganaug
writes (artifacts, ONNX exports, sampled tables) goes through :func:`temp_file_beside`.

Temporary files are named ``.<target>.<pid>.<random>.tmp``. A writer that fails or gets SIGTERM
(see :func:`exit_on_sigterm`) removes its own; one killed with SIGKILL cannot, so the next write
to the same target removes the temporaries of that target whose process is gone.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: temporaries named without a process id (ganaug <= 0.2) count as stale after this many seconds
#: without a write: a live writer streams into its file, a killed one stopped long ago
LEGACY_TEMP_AGE_S = 3600.0


def _umask() -> int:
    # Linux reports the umask without changing it (changing it is process-wide, so racy)
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _process_alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill(pid, 0) is not a probe on Windows: never guess a writer is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def remove_stale_temps(
    directory: str | os.PathLike[str], target: str, owner: int | None = None
) -> list[Path]:
    """Remove the temporary files that killed writers left for targets matching ``target``.

    Parameters
    ----------
    directory : path-like
        The directory the targets live in.
    target : str
        A regular expression for the target file names (``re.escape(name)`` for one file).
        Only hidden files ``.<target>.<pid>.<random>.tmp`` whose process no longer exists are
        removed (and, from older ganaug versions, ``.<target>.<random>.tmp`` untouched for
        :data:`LEGACY_TEMP_AGE_S`); nothing else in the directory is looked at twice.
    owner : int, optional
        Remove the temporaries of this process id instead, alive or not.

    Returns
    -------
    list of Path
        The files removed.
    """
    tagged = re.compile(rf"\.(?:{target})\.(\d+)\.[A-Za-z0-9_]+\.tmp")
    legacy = re.compile(rf"\.(?:{target})\.[A-Za-z0-9_]{{8}}\.tmp")
    removed = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    now = time.time()
    for entry in entries:
        match = tagged.fullmatch(entry.name)
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if owner is not None:
                stale = bool(match) and int(match.group(1)) == owner
            elif match:
                stale = not _process_alive(int(match.group(1)))
            else:
                stale = bool(legacy.fullmatch(entry.name)) and (
                    now - entry.stat(follow_symlinks=False).st_mtime > LEGACY_TEMP_AGE_S
                )
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except FileNotFoundError:  # another writer cleaned it up first
            continue
    return removed


def temp_file_beside(path: Path) -> tuple[int, str]:
    """``(fd, name)`` of a new hidden temporary file next to ``path``, with the umask's mode.

    Stale temporaries of ``path`` left by killed writers are removed first.
    """
    path = Path(path)
    remove_stale_temps(path.parent, re.escape(path.name))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o666 & ~_umask())
    return fd, tmp


def _fsync_dir(directory: Path) -> None:
    # makes the rename durable; not every platform or file system lets a directory be opened
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[str]:
    """Write a file atomically: yield a temporary name beside ``path``, then rename it over.

    The caller writes the temporary file by name (a streaming writer can open it itself). When
    the block ends normally the file is flushed to disk and renamed to ``path``; when it raises
    (including ``SystemExit`` from :func:`exit_on_sigterm` and ``KeyboardInterrupt``) the
    temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : path-like
        The destination file.

    Yields
    ------
    str
        The temporary file's name.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = temp_file_beside(path)
        os.close(fd)
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        else:  # interrupted (SIGTERM) after the file was created but before its name came back
            remove_stale_temps(path.parent, re.escape(path.name), owner=os.getpid())
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename."""
    with replacing(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit(143)`` inside the block, so writers remove their temporaries.

    By default SIGTERM ends the process at once, skipping every ``finally``. Only the main thread
    can set a handler; elsewhere, or when SIGTERM already has a handler or is ignored, this does
    nothing.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def locked_directory(directory: str | os.PathLike[str], shared: bool = False) -> Iterator[None]:
    """Hold an advisory lock on a directory (``flock``) for the block.

    Writers of one directory take it exclusively, readers shared, so a reader never sees a file
    that a writer is about to remove. Where directories cannot be locked (no ``fcntl``, or a
    directory that cannot be opened) the block runs unlocked, as before.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        except OSError:  # a file system without locks (some network mounts)
            pass
        yield
    finally:
        os.close(fd)  # releases the lock
