"""The ganaug plugin manager.

Built-in plugins (:data:`DEFAULT_PLUGINS`) and external plugins advertised as setuptools
entry points of group ``"ganaug"`` are registered on :data:`pm` once, lazily, by
:func:`load_plugins`.  The ``GANAUG_PLUGINS`` environment variable restricts which external
plugins load: a comma-separated list of entry-point or distribution names; an empty string
loads none; unset loads all.  Built-in plugins always load.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterable
from importlib import metadata
from types import EllipsisType
from typing import Any

import click
import pluggy

from ganaug.registry import hookspecs

ENTRY_POINT_GROUP = "ganaug"
ENV_VAR = "GANAUG_PLUGINS"
DEFAULT_PLUGINS: tuple[str, ...] = (
    "ganaug.default_plugins.sklearn_datasets",
    "ganaug.default_plugins.file_datasets",
    "ganaug.default_plugins.sklearn_models",
)


class PluginWarning(UserWarning):
    """An external plugin could not be loaded or implements an unknown hook."""


def create_plugin_manager() -> pluggy.PluginManager:
    """Return a new, empty plugin manager that knows ganaug's hook specifications.

    Returns
    -------
    pluggy.PluginManager
        Manager with project name ``"ganaug"`` and the specs of :mod:`ganaug.registry.hookspecs`.
    """
    manager = pluggy.PluginManager("ganaug")
    manager.add_hookspecs(hookspecs)
    return manager


pm = create_plugin_manager()

# plugin name -> (distribution name, version) for plugins loaded from entry points
_distributions: dict[str, tuple[str, str]] = {}
_loaded = False
_lock = threading.RLock()


def load_plugins() -> None:
    """Register the built-in plugins, then the external ones, on :data:`pm` (once)."""
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True
        register_default_plugins(pm)
        for name, _plugin, dist in load_entrypoint_plugins(pm):
            if dist is not None:
                _distributions[name] = dist


def register_default_plugins(manager: pluggy.PluginManager) -> None:
    """Register every module of :data:`DEFAULT_PLUGINS` on ``manager`` under its module name.

    Parameters
    ----------
    manager : pluggy.PluginManager
        Target manager; modules already registered there are skipped.
    """
    for module_name in DEFAULT_PLUGINS:
        if not manager.has_plugin(module_name):
            manager.register(importlib.import_module(module_name), name=module_name)


def _normalize(name: str) -> str:
    """PEP 503 normalisation, so ``ganaug_lightgbm`` matches ``ganaug-lightgbm``."""
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def _select(
    entry_points: Iterable[metadata.EntryPoint], allowed: str | None
) -> list[metadata.EntryPoint]:
    """Entry points allowed by a ``GANAUG_PLUGINS``-style value (``None`` allows all)."""
    eps = list(entry_points)
    if allowed is None:
        return eps
    wanted = {_normalize(n) for n in allowed.split(",") if n.strip()}
    chosen, matched = [], set()
    for ep in eps:
        keys = {_normalize(ep.name)}
        if ep.dist is not None:
            keys.add(_normalize(ep.dist.name))
        if keys & wanted:
            chosen.append(ep)
            matched |= keys & wanted
    for missing in sorted(wanted - matched):
        warnings.warn(
            f"{ENV_VAR} names plugin {missing!r}, but no installed plugin has that name",
            PluginWarning,
            stacklevel=3,
        )
    return chosen


def load_entrypoint_plugins(
    manager: pluggy.PluginManager,
    group: str = ENTRY_POINT_GROUP,
    allowed: str | None | EllipsisType = ...,
) -> list[tuple[str, Any, tuple[str, str] | None]]:
    """Register the plugins advertised as entry points of ``group`` on ``manager``.

    A plugin that fails to import or to validate is skipped with a :class:`PluginWarning`
    naming it; the others still load.  A plugin implementing an unknown (misspelled) hook
    is kept but warned about.

    Parameters
    ----------
    manager : pluggy.PluginManager
        Target manager.
    group : str, default "ganaug"
        Entry-point group to scan.
    allowed : str or None, optional
        Comma-separated names of the plugins to load (entry-point or distribution names);
        ``""`` loads none, ``None`` loads all.  Defaults to ``$GANAUG_PLUGINS``.

    Returns
    -------
    list of (name, plugin, (distribution, version) or None)
        The plugins registered, in entry-point order.
    """
    if allowed is ...:
        allowed = os.environ.get(ENV_VAR)
    loaded = []
    for ep in _select(metadata.entry_points(group=group), allowed):
        dist = (ep.dist.name, ep.dist.version) if ep.dist is not None else None
        label = ep.name if dist is None else f"{ep.name} ({dist[0]})"
        if manager.has_plugin(ep.name) or manager.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
            if manager.is_registered(plugin):
                continue
            manager.register(plugin, name=ep.name)
        except Exception as exc:  # noqa: BLE001 -- a broken plugin must not stop the others
            warnings.warn(
                f"ganaug plugin {label!r} failed to load: {type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
            continue
        for hook_name in unknown_hooks(manager, plugin):
            warnings.warn(
                f"ganaug plugin {label!r} implements unknown hook {hook_name!r} "
                "(misspelled?); it is ignored",
                PluginWarning,
                stacklevel=2,
            )
        loaded.append((ep.name, plugin, dist))
    return loaded


def unknown_hooks(manager: pluggy.PluginManager, plugin: object) -> list[str]:
    """Names of the hooks ``plugin`` implements that have no specification.

    This is :meth:`pluggy.PluginManager.check_pending` restricted to one plugin.
    """
    names = []
    for caller in manager.get_hookcallers(plugin) or ():
        if caller.has_spec():
            continue
        impls = [i for i in caller.get_hookimpls() if i.plugin is plugin]
        if any(not i.optionalhook for i in impls):
            names.append(caller.name)
    return sorted(names)


def call_order(hook_name: str, manager: pluggy.PluginManager) -> list[tuple[str, object]]:
    """``(name, plugin)`` of the plugins implementing a hook, in the order ganaug calls them.

    ``tryfirst`` implementations first and ``trylast`` ones last, as pluggy orders them; within
    each group, plugins in registration order (built-ins, then entry points in entry-point
    order, then plugins registered later), so that listings are stable and the first plugin to
    register a name keeps it.
    """
    caller = getattr(manager.hook, hook_name)
    impls = {impl.plugin_name: impl for impl in caller.get_hookimpls()}
    named = [(name, plugin) for name, plugin in manager.list_name_plugin() if name in impls]

    def rank(item: tuple[str, object]) -> int:
        impl = impls[item[0]]
        return 0 if impl.tryfirst else 2 if impl.trylast else 1

    return sorted(named, key=rank)  # sorted() is stable: registration order within a rank


def call_register_hook(
    hook_name: str,
    register_for: Callable[[str], Callable[..., Any]],
    manager: pluggy.PluginManager | None = None,
) -> None:
    """Call a register-style hook, one plugin at a time, through pluggy's hook call.

    Each plugin gets its own callback, so that registrations can be attributed to it: the hook
    is called through :meth:`pluggy.PluginManager.subset_hook_caller` restricted to that plugin
    (pluggy's own call loop: argument checks, wrappers, tracing), in :func:`call_order`.

    Parameters
    ----------
    hook_name : str
        Name of a hook whose single argument is a callback (``register`` or ``cli``).
    register_for : callable
        ``register_for(plugin_name)`` returns the callback passed to that plugin.
    manager : pluggy.PluginManager, optional
        Defaults to :data:`pm` (after :func:`load_plugins`).
    """
    if manager is None:
        load_plugins()
        manager = pm
    (argname,) = getattr(manager.hook, hook_name).spec.argnames
    plugins = manager.get_plugins()
    for name, plugin in call_order(hook_name, manager):
        others = [p for p in plugins if p is not plugin]
        manager.subset_hook_caller(hook_name, remove_plugins=others)(**{argname: register_for(name)})


def plugins_key(manager: pluggy.PluginManager | None = None) -> tuple[tuple[str, int], ...]:
    """Identifies the registered plugins: changes whenever one is registered or unregistered."""
    if manager is None:
        load_plugins()
        manager = pm
    return tuple((name, id(plugin)) for name, plugin in manager.list_name_plugin())


def collect_commands(manager: pluggy.PluginManager | None = None) -> dict[str, tuple[Any, str]]:
    """Commands added by ``register_commands`` implementations.

    Each plugin receives its own scratch :class:`click.Group` as ``cli``; the commands it
    attaches are harvested.  When two plugins add the same command name the first wins and
    a :class:`PluginWarning` names both.

    Parameters
    ----------
    manager : pluggy.PluginManager, optional
        Defaults to :data:`pm` (after :func:`load_plugins`).

    Returns
    -------
    dict
        Command name -> (click command, plugin name), built-in plugins first.
    """
    found: dict[str, tuple[Any, str]] = {}

    def register_for(plugin_name: str) -> click.Group:
        return _HarvestGroup(name="ganaug", found=found, plugin_name=plugin_name)

    call_register_hook("register_commands", register_for, manager)
    return found


class _HarvestGroup(click.Group):
    """Scratch group that records commands into a shared dict as plugins add them."""

    def __init__(self, *, found: dict[str, tuple[Any, str]], plugin_name: str, **kwargs: Any):
        super().__init__(**kwargs)
        self._found = found
        self._plugin_name = plugin_name

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(cmd, name)
        name = name or cmd.name
        previous = self._found.get(name)
        if previous is not None and previous[1] != self._plugin_name:
            warnings.warn(
                f"command {name!r} from plugin {self._plugin_name!r} is already "
                f"registered by plugin {previous[1]!r}; ignoring it",
                PluginWarning,
                stacklevel=2,
            )
            return
        self._found[name] = (cmd, self._plugin_name)
