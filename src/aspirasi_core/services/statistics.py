"""The query planner's statistics, refreshed by the outbox worker's sweeps.

SQLite keeps no statistics unless asked: without them its planner weighs two
indexes with the same leading columns as equal, and may pick the one that makes
it read a whole range of rows from the table instead of from the index. The
core refreshes them after every ``aspirasi db upgrade`` and, through this
sweep, once every :data:`STATISTICS_EVERY` while the outbox worker runs (a
sampled ``ANALYZE``: ~30 ms at 1M messages). PostgreSQL's autovacuum keeps its
own; the sweep does nothing there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio.to_thread

from .core import CoreDeps

#: How often the sweep refreshes the statistics.
STATISTICS_EVERY = timedelta(hours=1)


class PlannerStatistics:
    """Runs :meth:`Database.refresh_statistics
    <aspirasi_core.services.ports.Database.refresh_statistics>` at the worker's
    first sweep and then at most once every :data:`STATISTICS_EVERY`."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps
        self._last: datetime | None = None

    async def sweep(self) -> int:
        """Refresh the statistics when they are due; returns 0 (a count of the
        things a sweep handled for people, and this handles none)."""
        now = self._d.clock.now()
        if self._last is not None and now - self._last < STATISTICS_EVERY:
            return 0
        await anyio.to_thread.run_sync(self._d.db.refresh_statistics)
        self._last = now
        return 0
