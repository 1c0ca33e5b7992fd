"""The plugin manager factory, the loading of installed plugins, hook tracing and
the list of plugins.

There is no module-level plugin manager: each composition root (the web app
factory, the CLI, a test) calls :func:`create_plugin_manager` and passes the
manager on. The manager holds the core's hook specs, the core's own default
implementations (:mod:`aspirasi_core.default_plugin`, under the name
``aspirasi_core``), the installed plugins of the ``aspirasi`` entry-point group
that the allow-list and block-list let through, and any extra plugin objects.

The guard of the ``aspirasi_after_*`` hooks is in :mod:`aspirasi_core.plugin_after_hooks`
and the collection of what plugins declare (policy, categories, migrations) in
:mod:`aspirasi_core.plugin_declarations`; both are importable from here too.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import Distribution
from types import ModuleType
from typing import Any

import attrs
import pluggy
import structlog

from . import __version__, default_plugin, hookspecs
from .plugin_after_hooks import (
    AFTER_HOOK_GUARD_NAME,
    AFTER_HOOKS,
    AfterHookGuard,
    isolated_after_hooks,
)
from .plugin_declarations import collect_category_decls, collect_policy, migration_locations
from .settings import Settings

__all__ = [
    "AFTER_HOOKS",
    "AFTER_HOOK_GUARD_NAME",
    "CORE_PLUGIN_NAME",
    "ENTRY_POINT_GROUP",
    "TRACE_ENV",
    "AfterHookGuard",
    "AspirasiPluginManager",
    "PluginInfo",
    "PluginLoadError",
    "collect_category_decls",
    "collect_policy",
    "create_plugin_manager",
    "installed_plugin_names",
    "isolated_after_hooks",
    "list_plugins",
    "migration_locations",
    "trace_hook_calls",
]

#: Entry-point group of installed plugins (``[project.entry-points.aspirasi]``).
ENTRY_POINT_GROUP = "aspirasi"
#: Name under which the core's default implementations are registered.
CORE_PLUGIN_NAME = "aspirasi_core"
#: Environment variable that turns on hook tracing even when the settings do not.
TRACE_ENV = "ASPIRASI_TRACE_HOOKS"

log = structlog.get_logger("aspirasi.plugins")


class PluginLoadError(RuntimeError):
    """An installed plugin could not be loaded, or the allow-list names a missing one."""


@attrs.frozen
class PluginInfo:
    """One registered plugin, as ``aspirasi plugins list`` and ``/-/plugins.json`` show it."""

    name: str
    version: str | None
    module: str
    hooks: tuple[str, ...]
    #: The distribution (package) it was installed from; None for objects registered in code.
    distribution: str | None = None


class AspirasiPluginManager(pluggy.PluginManager):
    """pluggy's plugin manager for the ``aspirasi`` project, which also remembers
    the distribution each installed plugin came from (pytest subclasses pluggy's
    manager the same way). pluggy's own ``load_setuptools_entrypoints`` registers
    what an entry point names as it is; the core instead makes a fresh object of
    a plugin class for every manager, hence its own loading and this record."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        #: Plugin name → the ``importlib.metadata.Distribution`` it was installed from.
        self.distributions: dict[str, Distribution] = {}


def create_plugin_manager(
    settings: Settings,
    *,
    load_entry_points: bool = True,
    extra_plugins: Iterable[object] = (),
    extra_hookspecs: Iterable[ModuleType | type] = (),
) -> AspirasiPluginManager:
    """Build a plugin manager for ``settings``.

    In order: the core's hook specs and ``extra_hookspecs`` (an adapter's own,
    such as the web hooks), and the historic ``aspirasi_addhooks`` through which
    each plugin adds its own specs as it registers; tracing of every hook call when
    ``settings.trace_hooks`` or ``ASPIRASI_TRACE_HOOKS=1``; the block-list
    (``settings.disabled_plugins``); the core's default implementations and the
    :class:`AfterHookGuard` of the ``aspirasi_after_*`` hooks; the
    installed plugins of the ``aspirasi`` entry-point group (only those named by
    ``settings.plugins`` when it is not empty); ``extra_plugins`` (named after
    their module or class, so the block-list applies to them too); then
    ``check_pending()`` rejects implementations of hooks that do not exist
    (misspelt names), and ``aspirasi_configure(settings=...)`` is called as a
    historic hook, so plugins registered later still receive it.

    Raises :class:`PluginLoadError` when the allow-list names a plugin that is
    not installed or a plugin fails to import, ``pluggy.PluginValidationError``
    for a bad implementation, and whatever ``aspirasi_configure`` raises
    (``ValueError`` for a bad setting).
    """
    pm = AspirasiPluginManager()
    pm.add_hookspecs(hookspecs)
    for specs in extra_hookspecs:  # e.g. the web adapter's, added before any plugin loads
        pm.add_hookspecs(specs)
    # Historic: each plugin adds its own hook specs as it registers (pytest_addhooks).
    pm.hook.aspirasi_addhooks.call_historic(kwargs={"pluginmanager": pm})
    if settings.trace_hooks or _env_flag(TRACE_ENV):
        trace_hook_calls(pm)
    for name in settings.disabled_plugins:
        pm.set_blocked(name)
    pm.register(default_plugin, name=CORE_PLUGIN_NAME)
    pm.register(AfterHookGuard(pm), name=AFTER_HOOK_GUARD_NAME)
    if load_entry_points:
        _load_entry_points(pm, settings)
    for plugin in extra_plugins:
        if pm.is_registered(plugin):  # e.g. a bundled plugin module already loaded by name
            continue
        name = _plugin_module(plugin)
        pm.register(plugin, name=None if pm.has_plugin(name) else name)
    pm.check_pending()
    pm.hook.aspirasi_configure.call_historic(kwargs={"settings": settings})
    return pm


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def installed_plugin_names() -> list[str]:
    """Names of every entry point in the ``aspirasi`` group, blocked or not."""
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def _load_one(pm: AspirasiPluginManager, name: str) -> None:
    """Register the entry point ``name``. A module is registered as it is; a
    class (or any callable marked ``aspirasi_plugin_factory = True``) is called
    to make a fresh plugin object, so each plugin manager gets its own plugin
    state (two apps in one process do not share a configuration)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        loaded = ep.load()
        if isinstance(loaded, type) or getattr(loaded, "aspirasi_plugin_factory", False):
            loaded = loaded()
        pm.register(loaded, name=ep.name)
        if ep.dist is not None:
            pm.distributions[ep.name] = ep.dist


def _load_entry_points(pm: AspirasiPluginManager, settings: Settings) -> None:
    installed = installed_plugin_names()
    if settings.plugins:
        missing = sorted(set(settings.plugins) - set(installed))
        if missing:
            raise PluginLoadError(
                f"ASPIRASI_PLUGINS names plugins that are not installed: {', '.join(missing)}"
                f" (installed: {', '.join(installed) or 'none'})"
            )
        wanted = [name for name in installed if name in settings.plugins]
    else:
        wanted = installed
    for name in wanted:
        if pm.is_blocked(name):
            continue
        try:
            _load_one(pm, name)
        except pluggy.PluginValidationError:
            raise
        except Exception as exc:
            raise PluginLoadError(f"plugin {name!r} failed to load: {exc}") from exc


def trace_hook_calls(pm: pluggy.PluginManager) -> Callable[[], None]:
    """Log every hook call of ``pm``: hook name, implementing plugins, argument
    names, duration, and whether it raised. Argument *values* are never logged
    (they may hold tokens). Returns a function that stops the tracing."""
    trace_log = structlog.get_logger("aspirasi.hooks")
    # Hook calls nest (a hook implementation may call another hook) and run in
    # worker threads, hence a per-thread stack of start times.
    local = threading.local()

    def before(
        hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        stack = getattr(local, "starts", None)
        if stack is None:
            stack = local.starts = []
        stack.append(time.perf_counter())

    def after(
        outcome: pluggy.Result[Any],
        hook_name: str,
        hook_impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, Any],
    ) -> None:
        started = local.starts.pop()
        trace_log.info(
            "hook_call",
            hook=hook_name,
            plugins=[impl.plugin_name for impl in hook_impls],
            arguments=sorted(kwargs),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            failed=outcome.exception is not None,
        )

    return pm.add_hookcall_monitoring(before, after)


def _plugin_module(plugin: object) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    cls = plugin if isinstance(plugin, type) else type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"


def list_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin with its version and the hooks it implements.

    The core's defaults come first (as ``aspirasi_core`` with the core's
    version), then the others by name. Blocked plugins are not listed.
    """
    dists: Mapping[str, Distribution] = getattr(pm, "distributions", {})
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name == AFTER_HOOK_GUARD_NAME:  # a blocked name, the guard
            continue
        callers = pm.get_hookcallers(plugin) or []
        hooks = tuple(sorted(caller.name for caller in callers))
        dist = dists.get(name)
        if plugin is default_plugin:
            version, distribution = __version__, "aspirasi-core"
        elif dist is not None:
            version, distribution = dist.version, dist.name
        else:
            version, distribution = None, None
        infos.append(
            PluginInfo(
                name=name,
                version=version,
                module=_plugin_module(plugin),
                hooks=hooks,
                distribution=distribution,
            )
        )
    infos.sort(key=lambda info: (info.name != CORE_PLUGIN_NAME, info.name))
    return infos
