"""The plugin manager factory and the helpers that read what plugins declare.

There is no module-level plugin manager: each composition root (the web app
factory, the CLI, a test) calls :func:`create_plugin_manager` and passes the
manager on. The manager holds the core's hook specs, the core's own default
implementations (:mod:`aspirasi_core.default_plugin`, under the name
``aspirasi_core``), the installed plugins of the ``aspirasi`` entry-point group
that the allow-list and block-list let through, and any extra plugin objects.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from importlib.metadata import Distribution
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import attrs
import pluggy
import structlog

from . import __version__, default_plugin, hookspecs
from .domain.policy import PermissionDecl, Policy, PolicyError, RoleDecl, build_policy
from .plugin_types import CategoryDecl
from .settings import Settings

#: Entry-point group of installed plugins (``[project.entry-points.aspirasi]``).
ENTRY_POINT_GROUP = "aspirasi"
#: Name under which the core's default implementations are registered.
CORE_PLUGIN_NAME = "aspirasi_core"
#: Environment variable that turns on hook tracing even when the settings do not.
TRACE_ENV = "ASPIRASI_TRACE_HOOKS"

D = TypeVar("D")

log = structlog.get_logger("aspirasi.plugins")


#: Name under which the guard of the ``aspirasi_after_*`` hooks is registered.
AFTER_HOOK_GUARD_NAME = "aspirasi_core.after_hooks"
#: The hooks called after a commit: a failure is logged, never raised.
AFTER_HOOKS = ("aspirasi_after_submission", "aspirasi_after_transition", "aspirasi_after_event")


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


class AfterHookGuard:
    """The core's outermost wrapper of the ``aspirasi_after_*`` hooks.

    Those hooks run after the commit, so a plugin that raises must not turn a
    committed change into an error: the guard logs the exception
    (``after_hook_failed``, naming the hook, the event and the plugin whose
    implementation raised) and the hook returns no results. pluggy stops calling
    implementations at the first one that raises, so the implementations after a
    failing one (in pluggy's order) miss that event: an ``after_*``
    implementation that may fail should catch its own errors. The hooks are called
    through pluggy like every other, so plugins' wrappers and hook tracing see them.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._pm = pm

    def _failed(self, hook_name: str, event: Any, exc: BaseException) -> None:
        log.error(
            "after_hook_failed",
            hook=hook_name,
            event_name=getattr(event, "name", type(event).__name__),
            plugin=self._culprit(hook_name, exc),
            exc_info=exc,
        )

    def _culprit(self, hook_name: str, exc: BaseException) -> str | None:
        """The plugin whose implementation raised: the innermost of the hook's
        implementations in the traceback (wrappers, this one included, are outer)."""
        codes = {
            getattr(impl.function, "__code__", None): impl.plugin_name
            for impl in getattr(self._pm.hook, hook_name).get_hookimpls()
        }
        culprit = None
        tb = exc.__traceback__
        while tb is not None:
            culprit = codes.get(tb.tb_frame.f_code, culprit)
            tb = tb.tb_next
        return culprit

    @hookspecs.hookimpl(wrapper=True, tryfirst=True)
    def aspirasi_after_submission(self, event: Any) -> Generator[None, list[None], list[None]]:
        try:
            return (yield)
        except Exception as exc:
            self._failed("aspirasi_after_submission", event, exc)
            return []

    @hookspecs.hookimpl(wrapper=True, tryfirst=True)
    def aspirasi_after_transition(self, event: Any) -> Generator[None, list[None], list[None]]:
        try:
            return (yield)
        except Exception as exc:
            self._failed("aspirasi_after_transition", event, exc)
            return []

    @hookspecs.hookimpl(wrapper=True, tryfirst=True)
    def aspirasi_after_event(self, event: Any) -> Generator[None, list[None], list[None]]:
        try:
            return (yield)
        except Exception as exc:
            self._failed("aspirasi_after_event", event, exc)
            return []


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


def _flatten(results: Iterable[Any], kind: type[D], hook_name: str) -> list[D]:
    out: list[D] = []
    for result in results:
        if result is None:
            continue
        if isinstance(result, str | bytes) or not isinstance(result, Iterable):
            raise TypeError(
                f"{hook_name} must return a sequence of {kind.__name__},"
                f" got {type(result).__name__}"
            )
        for item in result:
            if not isinstance(item, kind):
                raise TypeError(
                    f"{hook_name} must return {kind.__name__} values, got {type(item).__name__}"
                )
            out.append(item)
    return out


def _declared_by(pm: pluggy.PluginManager, hook_name: str, name: str) -> list[str]:
    """Plugins whose no-argument ``hook_name`` returns a declaration named ``name``,
    each asked through pluggy (a caller of the hook limited to that plugin)."""
    impls = getattr(pm.hook, hook_name).get_hookimpls()
    found = []
    for impl in impls:
        others = [other.plugin for other in impls if other.plugin is not impl.plugin]
        results = pm.subset_hook_caller(hook_name, remove_plugins=others)()
        if any(getattr(decl, "name", None) == name for result in results for decl in result or ()):
            found.append(impl.plugin_name)
    return sorted(found)


def collect_policy(pm: pluggy.PluginManager) -> Policy:
    """The role policy: the core's table plus every plugin's roles and permissions.

    Raises :class:`~aspirasi_core.domain.policy.PolicyError` (naming the
    plugins) when a role or permission is declared twice or a permission names
    an unknown role, and ``TypeError`` when a hook returns something else than
    declarations.
    """
    roles = _flatten(pm.hook.aspirasi_register_roles(), RoleDecl, "aspirasi_register_roles")
    permissions = _flatten(
        pm.hook.aspirasi_register_permissions(), PermissionDecl, "aspirasi_register_permissions"
    )
    try:
        return build_policy(roles, permissions)
    except PolicyError as exc:
        # build_policy names the clashing declaration; say which plugins made it.
        culprits: set[str] = set()
        for role in roles:
            if repr(role.name) in str(exc):
                culprits.update(_declared_by(pm, "aspirasi_register_roles", role.name))
        for permission in permissions:
            if repr(permission.name) in str(exc):
                culprits.update(_declared_by(pm, "aspirasi_register_permissions", permission.name))
        where = f" (declared by: {', '.join(sorted(culprits))})" if culprits else ""
        raise PolicyError(f"{exc}{where}") from None


def collect_category_decls(pm: pluggy.PluginManager) -> list[CategoryDecl]:
    """Every sub-category plugins require, without duplicates, in a stable order.

    Two plugins may require the same sub-category; raises ``ValueError`` when
    they disagree on its name or its category's name.
    """
    decls = _flatten(
        pm.hook.aspirasi_register_categories(), CategoryDecl, "aspirasi_register_categories"
    )
    by_key: dict[tuple[str, str], CategoryDecl] = {}
    category_names: dict[str, str] = {}
    for decl in decls:
        known_name = category_names.setdefault(decl.category_code, decl.category_name)
        if known_name != decl.category_name:
            raise ValueError(
                f"category {decl.category_code!r} is declared with two names:"
                f" {known_name!r} and {decl.category_name!r}"
            )
        key = (decl.category_code, decl.code)
        known = by_key.setdefault(key, decl)
        if known != decl:
            raise ValueError(
                f"sub-category {decl.category_code}/{decl.code} is declared with two names:"
                f" {known.name!r} and {decl.name!r}"
            )
    return sorted(by_key.values(), key=lambda d: (d.category_code, d.code))


def migration_locations(pm: pluggy.PluginManager) -> list[str]:
    """Folders of plugins' Alembic revisions (absolute, existing, without duplicates).

    Raises ``ValueError`` for a relative path or a folder that does not exist,
    so a packaging mistake fails at start-up rather than during an upgrade.
    """
    locations: list[str] = []
    for result in pm.hook.aspirasi_migration_locations():
        if result is None:
            continue
        if isinstance(result, str | os.PathLike):
            raise TypeError(
                "aspirasi_migration_locations must return a sequence of paths, got one path"
            )
        for raw in result:
            path = Path(raw)
            if not path.is_absolute():
                raise ValueError(f"migration location {raw!s} must be an absolute path")
            if not path.is_dir():
                raise ValueError(f"migration location {raw!s} is not a folder")
            if str(path) not in locations:
                locations.append(str(path))
    return locations
