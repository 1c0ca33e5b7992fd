"""Readiness: does every component the service needs answer, right now?

Liveness (the process runs) is the web adapter's ``/healthz``; readiness is this:
the database answers a trivial statement, the attachment store can write, and
each plugin's components (``aspirasi_readiness``) are up, all within a short time
limit, so a load balancer stops sending requests to a worker that could only
answer 503 and sends them again once it can serve.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import anyio.to_thread
import attrs

from ..domain.errors import Unavailable
from ..plugin_types import ComponentStatus
from .core import CoreDeps

#: Seconds every check together may take.
READINESS_TIMEOUT = 2.0


@attrs.frozen
class Readiness:
    """The answer of :meth:`HealthService.readiness`."""

    components: tuple[ComponentStatus, ...]

    @property
    def ready(self) -> bool:
        """Every essential component is up."""
        return all(c.ok or not c.essential for c in self.components)

    @property
    def all_ok(self) -> bool:
        """Every component, essential or not, is up."""
        return all(c.ok for c in self.components)

    def as_json(self, *, details: bool = False) -> dict[str, Any]:
        """``{"status": "ok"|"unavailable", "components": {name: {"status":
        "ok"|"down"|"degraded"}}}``: what anyone may be told. With ``details``
        each component's own facts too (timings, free disk, counters, the error's
        name): for the logs, not for an unauthenticated answer."""
        components: dict[str, Any] = {}
        for c in self.components:
            status = "ok" if c.ok else ("down" if c.essential else "degraded")
            components[c.name] = {"status": status, **(dict(c.detail) if details else {})}
        return {"status": "ok" if self.ready else "unavailable", "components": components}


class HealthService:
    """Checks for readiness probes."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    async def readiness(self, *, timeout: float = READINESS_TIMEOUT) -> Readiness:
        """Check the database, the attachment store and the plugins' components at
        once, each in a worker thread, all within ``timeout`` seconds (a check
        still running then counts as down)."""
        deps = self._d
        checks: dict[str, Callable[[], Mapping[str, Any] | None]] = {
            "database": self._database,
            "storage": self._storage,
        }
        found: dict[str, ComponentStatus] = {}
        plugin_components: list[ComponentStatus] = []
        plugins_done = False

        async def run(name: str, check: Callable[[], Mapping[str, Any] | None]) -> None:
            started = time.perf_counter()
            try:
                result = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
                detail = dict(result or {})
            except Unavailable as exc:
                found[name] = ComponentStatus(name, False, detail={"error": exc.code})
                return
            except Exception as exc:
                found[name] = ComponentStatus(name, False, detail={"error": type(exc).__name__})
                return
            detail["ms"] = round((time.perf_counter() - started) * 1000, 1)
            found[name] = ComponentStatus(name, True, detail=detail)

        async def plugins() -> None:
            nonlocal plugins_done
            try:
                results = await anyio.to_thread.run_sync(
                    lambda: deps.hook.aspirasi_readiness(), abandon_on_cancel=True
                )
            except Exception as exc:
                plugin_components.append(
                    ComponentStatus("plugins", False, detail={"error": type(exc).__name__})
                )
                return
            for result in results:
                plugin_components.extend(result or ())
            plugins_done = True

        with anyio.move_on_after(timeout):
            async with anyio.create_task_group() as tg:
                for name, check in checks.items():
                    tg.start_soon(run, name, check)
                tg.start_soon(plugins)
        components = [
            found.get(name) or ComponentStatus(name, False, detail={"error": "timeout"})
            for name in checks
        ]
        if not plugins_done and not plugin_components:
            plugin_components.append(
                ComponentStatus("plugins", False, essential=False, detail={"error": "timeout"})
            )
        return Readiness(tuple(components + plugin_components))

    def _database(self) -> None:
        self._d.db.ping()

    def _storage(self) -> Mapping[str, Any] | None:
        check = getattr(self._d.files, "check", None)
        return check() if check is not None else None
