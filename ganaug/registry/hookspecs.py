"""Hook specifications for ganaug plugins.

Plugins implement these hooks with the :data:`hookimpl` marker (also exported as
``ganaug.hookimpl``)::

    from ganaug import hookimpl
    from ganaug.models import ModelSpec

    @hookimpl
    def register_models(register):
        register(ModelSpec("my_model", "classification", "My model", make_my_model))

Built-in datasets and models are plugins registered through the very same hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("ganaug")
hookimpl = pluggy.HookimplMarker("ganaug")


@hookspec
def register_datasets(register: Callable[[Any], None]) -> None:
    """Register named datasets by calling ``register(DatasetAdapter(...))`` for each."""


@hookspec
def register_dataset_schemes(register: Callable[[Any], None]) -> None:
    """Register data URI schemes (``csv:PATH``) by calling ``register(DatasetScheme(...))``."""


@hookspec
def register_models(register: Callable[[Any], None]) -> None:
    """Register downstream models by calling ``register(ModelSpec(...))`` for each."""


@hookspec
def register_commands(cli: Any) -> None:
    """Attach extra click commands to ``cli``, the ``ganaug`` command group."""
