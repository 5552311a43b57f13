"""Public import path of the plugin manager (``ganaug.plugins.load_plugins()``); defined in
:mod:`ganaug.registry.manager` and :mod:`ganaug.registry.info`."""

from ganaug.registry.info import PluginInfo, get_plugins  # noqa: F401
from ganaug.registry.manager import (  # noqa: F401
    DEFAULT_PLUGINS,
    ENTRY_POINT_GROUP,
    ENV_VAR,
    PluginWarning,
    call_register_hook,
    collect_commands,
    create_plugin_manager,
    load_entrypoint_plugins,
    load_plugins,
    pm,
    register_default_plugins,
    unknown_hooks,
)
