"""Public import path of the plugin hook markers and specs (``from ganaug.hookspecs import
hookimpl``); defined in :mod:`ganaug.registry.hookspecs`."""

from ganaug.registry.hookspecs import (  # noqa: F401
    hookimpl,
    hookspec,
    register_commands,
    register_dataset_schemes,
    register_datasets,
    register_models,
)
