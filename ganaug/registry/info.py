"""What each registered plugin provides: datasets, schemes, models, commands (``ganaug plugins``).

Kept apart from :mod:`ganaug.registry.manager` so that the manager does not import the dataset and
model registries, which themselves call the manager's hooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganaug.registry import manager
from ganaug.registry.datasets import list_dataset_schemes, list_datasets
from ganaug.registry.manager import DEFAULT_PLUGINS, collect_commands, load_plugins, pm
from ganaug.registry.models import list_models


@dataclass(frozen=True)
class PluginInfo:
    """What one registered plugin provides.

    Attributes
    ----------
    name : str
        Registration name (module path for built-ins, entry-point name for external ones).
    builtin : bool
        Whether the plugin ships with ganaug.
    package, version : str or None
        Distribution that provides an external plugin.
    hooks : tuple of str
        Hooks the plugin implements.
    datasets, dataset_schemes, commands : tuple of str
        Names it registered.
    models : tuple of (name, task)
        Models it registered.
    """

    name: str
    builtin: bool
    package: str | None
    version: str | None
    hooks: tuple[str, ...]
    datasets: tuple[str, ...]
    dataset_schemes: tuple[str, ...]
    models: tuple[tuple[str, str], ...]
    commands: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "builtin": self.builtin,
            "package": self.package,
            "version": self.version,
            "hooks": list(self.hooks),
            "datasets": list(self.datasets),
            "dataset_schemes": list(self.dataset_schemes),
            "models": [{"name": n, "task": t} for n, t in self.models],
            "commands": list(self.commands),
        }


def get_plugins() -> list[PluginInfo]:
    """Describe every registered plugin and what it registered, built-ins first.

    Returns
    -------
    list of PluginInfo
    """
    load_plugins()
    datasets = list_datasets()
    schemes = list_dataset_schemes()
    models = list_models()
    commands = collect_commands()
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        hooks = sorted(c.name for c in pm.get_hookcallers(plugin) or ())
        dist = manager._distributions.get(name)  # read at call time
        infos.append(
            PluginInfo(
                name=name,
                builtin=name in DEFAULT_PLUGINS,
                package=dist[0] if dist else None,
                version=dist[1] if dist else None,
                hooks=tuple(hooks),
                datasets=tuple(d.name for d in datasets if d.plugin == name),
                dataset_schemes=tuple(s.name for s in schemes if s.plugin == name),
                models=tuple((m.name, m.task) for m in models if m.plugin == name),
                commands=tuple(c for c, (_, p) in commands.items() if p == name),
            )
        )
    return infos
