"""Progress reporting that works when stderr is not a terminal.

On a terminal, a ``rich`` progress bar; redirected to a file or a pipe (a batch job, CI, ``2> log``)
a bar prints nothing useful, so a log line is written every :data:`DEFAULT_INTERVAL` seconds
instead, plus one when the work ends (work shorter than the interval prints nothing). The mode comes from the ``GANAUG_PROGRESS`` environment
variable (set by ``ganaug --progress MODE`` and ``ganaug --quiet``, and inherited by worker
processes):

- ``auto`` (default): a bar on a terminal, log lines otherwise;
- ``bar``: always the bar; ``log``: always log lines; ``off``: nothing.

``GANAUG_PROGRESS_INTERVAL`` sets the seconds between log lines.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

MODES = ("auto", "bar", "log", "off")
ENV_MODE = "GANAUG_PROGRESS"
ENV_INTERVAL = "GANAUG_PROGRESS_INTERVAL"
#: seconds between two log lines
DEFAULT_INTERVAL = 10.0


def progress_mode() -> str:
    """The mode set by ``GANAUG_PROGRESS`` (``auto`` when unset or unknown)."""
    mode = os.environ.get(ENV_MODE, "auto").strip().lower()
    return mode if mode in MODES else "auto"


def _interval() -> float:
    try:
        value = float(os.environ.get(ENV_INTERVAL, DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value >= 0 else DEFAULT_INTERVAL


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@dataclass
class _Task:
    description: str
    total: float | None
    completed: float = 0.0
    started: float = 0.0
    logged: float = 0.0
    finished: bool = False
    lines: int = 0


class LogProgress:
    """The part of :class:`rich.progress.Progress` ganaug uses, as periodic log lines.

    Parameters
    ----------
    unit : str, default=""
        Word after the counts ("epochs", "rows").
    interval : float, optional
        Seconds between lines (default from ``GANAUG_PROGRESS_INTERVAL``, else 10).
    file : text stream, optional
        Where lines go (default: ``sys.stderr`` at the time of writing).
    """

    def __init__(self, unit: str = "", interval: float | None = None, file: TextIO | None = None):
        self.unit = unit
        self.interval = _interval() if interval is None else interval
        self.file = file
        self._tasks: dict[int, _Task] = {}

    def __enter__(self) -> LogProgress:  # noqa: PYI034 (typing.Self needs Python 3.11)
        return self

    def __exit__(self, *exc: object) -> None:
        now = time.monotonic()
        for task in self._tasks.values():
            if not task.finished and self._worth_a_line(task, now):
                self._log(task)

    def _worth_a_line(self, task: _Task, now: float) -> bool:
        # work shorter than one interval ends silently: the command's own result line says it
        return task.lines > 0 or now - task.started >= self.interval

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        now = time.monotonic()
        task_id = len(self._tasks)
        self._tasks[task_id] = _Task(description, total, started=now, logged=now)
        return task_id

    def update(self, task_id: int, *, advance: float | None = None,
               completed: float | None = None, description: str | None = None,
               total: float | None = None, **_: Any) -> None:
        task = self._tasks[task_id]
        if description is not None:
            task.description = description
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance:
            task.completed += advance
        done = task.total is not None and task.completed >= task.total
        now = time.monotonic()
        if now - task.logged >= self.interval or (done and self._worth_a_line(task, now)):
            self._log(task)
        task.finished = task.finished or done

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def _log(self, task: _Task) -> None:
        now = time.monotonic()
        task.logged = now
        task.lines += 1
        elapsed = now - task.started
        count = f"{task.completed:,.0f}"
        parts = [f"{task.description}: {count}"]
        if task.total:
            share = task.completed / task.total
            parts[0] += f"/{task.total:,.0f}"
            if self.unit:
                parts[0] += f" {self.unit}"
            parts.append(f"({share:.0%})")
            parts.append(f"{_clock(elapsed)} elapsed")
            if 0 < share < 1:
                parts.append(f"about {_clock(elapsed * (1 - share) / share)} left")
        else:
            if self.unit:
                parts[0] += f" {self.unit}"
            parts.append(f"{_clock(elapsed)} elapsed")
        print(" ".join(parts), file=self.file or sys.stderr, flush=True)


def make_progress(enabled: bool = True, unit: str = "") -> Any:
    """A progress display for the current mode: a rich bar, a :class:`LogProgress`, or nothing.

    The result is a context manager with ``add_task(description, total)`` and
    ``update(task, advance=..., description=...)``, as :class:`rich.progress.Progress`.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    mode = progress_mode()
    if enabled and (mode == "log" or (mode == "auto" and not sys.stderr.isatty())):
        return LogProgress(unit=unit)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled or mode == "off",
        transient=False,
        console=Console(file=sys.stderr),
    )


@contextlib.contextmanager
def track_rows(total: int, description: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """A callback ``done(n_rows)`` that advances a progress display of ``total`` rows."""
    progress = make_progress(enabled, unit="rows")
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.update(task, advance=n)
