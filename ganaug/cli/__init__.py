"""The ``ganaug`` command line (console script ``ganaug = ganaug.cli:main``).

:mod:`ganaug.cli.app` holds the group and its plumbing; importing this package registers the
built-in commands of :mod:`ganaug.cli.catalog`, :mod:`ganaug.cli.pretrain`, :mod:`ganaug.cli.flow` and
:mod:`ganaug.cli.evaluate` on it.
"""

from __future__ import annotations

from ganaug.cli import catalog, evaluate, flow, pretrain  # noqa: F401 (registers the commands)
from ganaug.cli.app import main

__all__ = ["main"]
