"""The ``aspirasi_after_*`` hooks, which run after the commit: a plugin that raises
there is logged, never turned into an error of the committed change, and never
keeps the other plugins from the event.

:func:`~aspirasi_core.plugins.create_plugin_manager` registers the guard
(:class:`AfterHookGuard`); :func:`~aspirasi_core.bootstrap.bootstrap` gives the use
cases :func:`isolated_after_hooks` to call the hooks with.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pluggy
import structlog

from . import hookspecs

log = structlog.get_logger("aspirasi.plugins")

#: Name under which the guard of the ``aspirasi_after_*`` hooks is registered.
AFTER_HOOK_GUARD_NAME = "aspirasi_core.after_hooks"
#: The hooks called after a commit: a failure is logged, never raised.
AFTER_HOOKS = ("aspirasi_after_submission", "aspirasi_after_transition", "aspirasi_after_event")


class AfterHookGuard:
    """The core's outermost wrapper of the ``aspirasi_after_*`` hooks.

    Those hooks run after the commit, so a plugin that raises must not turn a
    committed change into an error: the guard logs the exception
    (``after_hook_failed``, naming the hook, the event and the plugin whose
    implementation raised) and the hook returns no results. pluggy stops calling
    implementations at the first one that raises, so the use cases call each
    implementation on its own (:func:`isolated_after_hooks`): one failing plugin
    does not keep the others from the event. The hooks are called through pluggy
    like every other, so plugins' wrappers and hook tracing see them.
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


def isolated_after_hooks(pm: pluggy.PluginManager) -> Callable[[str, Any], None]:
    """A caller of the ``aspirasi_after_*`` hook ``hook_name`` with ``event`` that runs
    each implementation in isolation: one that raises is logged by the guard and the
    others still receive the event.

    With two implementations or more (wrappers aside), each is called on its own, in
    pluggy's order, through a caller of the hook limited to it and every wrapper
    (``pm.subset_hook_caller``), so wrappers, the guard included, and hook tracing
    see every call; a wrapper then runs once per implementation. With one or none,
    the hook is called as it is."""

    def call(hook_name: str, event: Any) -> None:
        caller = getattr(pm.hook, hook_name)
        plain = [impl for impl in caller.get_hookimpls() if not (impl.wrapper or impl.hookwrapper)]
        if len(plain) < 2:
            caller(event=event)
            return
        # pluggy calls the last of get_hookimpls() first.
        for impl in reversed(plain):
            others = [other.plugin for other in plain if other is not impl]
            pm.subset_hook_caller(hook_name, remove_plugins=others)(event=event)

    return call
