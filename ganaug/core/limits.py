"""Limits on what ganaug makes and reads (standard library and numpy only).

Every entry point that can be asked for too much calls one of these checks before doing the
work: the same request then gets the same typed error naming the limit (a
:class:`~ganaug.core.errors.SizeLimitError`, or an :class:`~ganaug.core.errors.ArtifactError`
for a file), instead of a MemoryError, an OverflowError, a RecursionError or minutes of work.

- rows per request: at most :data:`MAX_ROWS` (:func:`check_row_count`), in memory or streamed;
- rows held in memory at once: what the memory available now can hold
  (:func:`check_rows_in_memory`); streaming writers (``OnnxGenerator.write``,
  ``ganaug sample -o``) hold one chunk at a time instead, and a CSV must fit on its disk
  (:func:`check_rows_on_disk`);
- model files: an ``.onnx`` file is at most :data:`MAX_ONNX_BYTES`, checked before it is read
  (:func:`read_regular_file`); JSON descriptions are parsed by :func:`parse_json`, which names
  the field of a too deeply nested value or of an integer with too many digits.
"""

from __future__ import annotations

import json
import numbers
import os
import re
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

from ganaug.core.errors import ArtifactError, SizeLimitError

#: most rows one request may ask for: the largest count float64 holds exactly (per-class counts
#: are split in float64), far beyond any memory or disk
MAX_ROWS = 2**53
#: largest ``.onnx`` file read: protocol buffers cannot serialize a model over 2 GiB in one file
MAX_ONNX_BYTES = 2**31 - 1
#: largest artifact description (``ganaug.json``) read: its quantile tables take about 20 KiB
#: a column, so this leaves room for some 25,000 columns
MAX_JSON_BYTES = 512 * 2**20
#: bytes one CSV cell takes at least (one character and a separator)
CSV_CELL_BYTES = 2


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} EiB"  # pragma: no cover


def available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable``, capped by a cgroup limit), or None if
    the system does not say."""
    found: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            return None
    try:  # a container's memory limit (cgroup v2)
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit.isdigit() and used.isdigit():
            found = min(found, max(int(limit) - int(used), 0))
    except OSError:
        pass
    return found


def row_bytes(n_columns: int) -> int:
    """Bytes one sampled row of ``n_columns`` columns takes in memory, about.

    The decoded outputs (8 bytes a value), the assembled table (8 more: a float64 or an object
    pointer), the condition index and the label of the row, and room for the copy pandas makes
    when it converts dtypes.
    """
    return 16 + 24 * max(int(n_columns), 1)


def positive_int(value: object, name: str) -> int:
    """``value`` as an int; a ValueError naming ``name`` unless it is a positive integer (numpy
    integers accepted, bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_row_count(n: object, what: str = "n") -> int:
    """``n`` as an int: a positive integer (bools refused; a ValueError otherwise) of at most
    :data:`MAX_ROWS` (a SizeLimitError)."""
    if isinstance(n, bool) or not hasattr(n, "__index__") or not isinstance(n.__index__(), int):
        raise ValueError(f"{what} must be a positive integer; got {n!r}")
    count = int(n.__index__())
    if count < 1:
        raise ValueError(f"{what} must be a positive integer; got {n!r}")
    if count > MAX_ROWS:
        raise SizeLimitError(
            f"{what}={count:,} rows is more than the limit of {MAX_ROWS:,} (2**53) rows per request",
            count,
            MAX_ROWS,
        )
    return count


STREAM_HINT = (
    "ask for fewer rows, or stream them to a file (OnnxGenerator.write or iter_samples, "
    "`ganaug sample -o FILE`)"
)


def check_rows_in_memory(
    n: int, bytes_per_row: int, what: str = "n", hint: str = STREAM_HINT
) -> int:
    """Refuse, before any work, ``n`` rows that would not fit in the memory available now.

    Parameters
    ----------
    n : int
        Rows to hold in memory at once.
    bytes_per_row : int
        What one row takes (:func:`row_bytes`).
    what : str
        The request, for the message (``"n"``, ``"augment_ratio"``...).
    hint : str
        What to do instead, for the message.

    Returns
    -------
    int
        ``n``.

    Raises
    ------
    SizeLimitError
        If ``n * bytes_per_row`` is over the memory available (the message gives both).
    """
    n = check_row_count(n, what) if n else 0
    available = available_memory()
    need = n * int(bytes_per_row)
    if available is not None and need > available:
        limit = available // int(bytes_per_row)
        raise SizeLimitError(
            f"{what}: {n:,} rows would need about {_size(need)} of memory ({bytes_per_row} bytes "
            f"a row) and {_size(available)} is available, room for about {limit:,} rows: {hint}",
            n,
            limit,
        )
    return n


def check_rows_on_disk(n: int, n_cells: int, path: str | os.PathLike[str]) -> None:
    """Refuse, before writing, a CSV of ``n`` rows of ``n_cells`` cells that cannot fit in the
    free space of ``path``'s directory (each cell takes at least :data:`CSV_CELL_BYTES`)."""
    directory = Path(path).parent
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return
    need = n * n_cells * CSV_CELL_BYTES
    if need > free:
        limit = free // (n_cells * CSV_CELL_BYTES)
        raise SizeLimitError(
            f"{path}: {n:,} rows of {n_cells} cells need at least {_size(need)} as CSV and "
            f"{directory} has {_size(free)} free, room for at most {limit:,} rows",
            n,
            limit,
        )


def read_regular_file(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else is refused with an
    ArtifactError naming the file, before it is read.

    The file is opened non-blocking and checked first, so a FIFO cannot make the reader wait
    forever for a writer, and a file over the limit is never read whole.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise ArtifactError(f"{path} is a directory, not an {what}") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot open the {what}: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ArtifactError(f"{path} is a directory, not an {what}")
        raise ArtifactError(f"{path} is not a regular file (a FIFO or device?): refusing to read it")
    if info.st_size > max_bytes:
        os.close(fd)
        raise ArtifactError(
            f"{path} is {_size(info.st_size)}, over the {_size(max_bytes)} limit of an {what}: "
            "refusing to read it"
        )
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


class _LongInteger:
    """An integer literal too long to convert (held as its digit count)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _integers(found: list[_LongInteger]) -> Any:
    """A ``parse_int`` hook that holds an integer too long to convert, and records it."""
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300

    def parse(text: str) -> Any:
        digits = len(text.lstrip("-"))
        if not limit or digits <= limit:
            return int(text)
        found.append(_LongInteger(digits))
        return found[-1]

    return parse


def _find(value: Any, path: str) -> tuple[str, _LongInteger] | None:
    """The path of the first too-long integer inside ``value``."""
    if isinstance(value, _LongInteger):
        return path, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _find(item, f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]")
        if found:
            return found
    return None


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _deep_field(text: str, depth_limit: int) -> str | None:
    """The top-level field whose value nests more than ``depth_limit`` levels deep."""
    depth, last_string, field = 0, None, None
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            if depth == 1:
                last_string = token
        elif token in "[{":
            depth += 1
            if depth == 2:
                field = last_string
            if depth > depth_limit:
                try:
                    return json.loads(field) if field else None
                except ValueError:
                    return None
        else:
            depth -= 1
    return None


def parse_json(text: str | bytes, source: Any, field_word: str = "field") -> Any:
    """Parse a stored JSON description; anything unreadable is an ArtifactError naming
    ``source`` and, where it can, the field.

    Besides malformed text: a value nested deeper than Python can parse (the json module's
    RecursionError) and an integer of more digits than Python converts (its ValueError).
    """
    long_integers: list[_LongInteger] = []
    try:
        value = json.loads(text, parse_int=_integers(long_integers))
    except RecursionError:
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        field = _deep_field(text, 200)
        where = f"{field_word} {field!r}" if field else "a value"
        raise ArtifactError(
            f"{source}: {where} is nested too deeply to parse (JSON nesting past Python's "
            "recursion limit): the file was edited or damaged"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ArtifactError(f"{source} is not valid JSON (truncated or corrupt?): {exc}") from None
    found = _find(value, "") if long_integers else None  # walk the value only when needed
    if found:
        path, number = found
        raise ArtifactError(
            f"{source}: {field_word} {path.lstrip('.')!r} is an integer of {number.digits:,} "
            "digits, past Python's limit on converting integers: the file was edited or damaged"
        )
    return value
