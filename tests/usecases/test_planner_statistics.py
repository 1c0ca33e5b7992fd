"""The query planner's statistics on SQLite: gathered by ``aspirasi db upgrade``
and refreshed hourly by the outbox worker's sweep (services/statistics.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from aspirasi_core.testing import World

pytestmark = pytest.mark.anyio


def _stat_rows(world: World, table: str) -> int:
    def count(uow):  # type: ignore[no-untyped-def]
        return uow.execute(
            text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}
        ).scalar_one()

    return int(world.app.deps.db.run_sync(count, write=False))


def _forget_statistics(world: World) -> None:
    world.app.deps.db.run_sync(lambda uow: uow.execute(text("DELETE FROM sqlite_stat1")))


async def test_the_sweep_refreshes_sqlites_statistics_once_an_hour(world: World) -> None:
    if world.app.deps.db.dialect != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its own statistics")
    # The migrations ended with an ANALYZE: the statistics table exists.
    _forget_statistics(world)
    assert world.app.outbox.sweep is not None

    await world.app.outbox.sweep()
    assert _stat_rows(world, "accounts") > 0  # one row per index of the table

    _forget_statistics(world)
    world.clock.advance(minutes=59)
    await world.app.outbox.sweep()
    assert _stat_rows(world, "accounts") == 0  # not due yet

    world.clock.advance(minutes=1)
    await world.app.outbox.sweep()
    assert _stat_rows(world, "accounts") > 0
