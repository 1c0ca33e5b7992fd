"""The report's roll-ups stay exact through every use case (SQLite and PostgreSQL).

After each step (submission, forward, re-forward to another agency and
category, start, progress, reply, reject, withdraw, rating) the roll-ups kept
by the plugin's ``aspirasi_in_transaction`` equal a rebuild from scratch of the
same rows (rolled back afterwards), and the step moved what it should; a change
that rolls back leaves them untouched; the migration's back-fill gives the same
rows; and the report read from them equals the one read from the core's tables.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest
from alembic import command
from evaluator_support import World, migrate_evaluator, populate, settings_for
from sqlalchemy import select, update

from aspirasi_core import hookimpl
from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.events import StatusChanged
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import ForwardInput, SubmitInput
from aspirasi_core.storage.migrate import make_config
from aspirasi_core.storage.tables import messages
from aspirasi_evaluator import MIGRATIONS_DIR, rollup
from aspirasi_evaluator.report import DateRange, build_report, raw_figures
from aspirasi_evaluator.rollup import (
    MEDIAN_PRECISION_SECONDS,
    _upsert,
    rebuild,
    rollup_timezone,
)
from aspirasi_evaluator.rollup_report import rollup_figures, segments
from aspirasi_evaluator.tables import (
    ROLLUP_TABLES,
    rollup_counts,
    rollup_duration_bins,
    rollup_ratings,
    rollup_totals,
)

TZ = "Asia/Makassar"


class Boom:
    """Fails a status change after the roll-ups were written (outbox items
    are asked for after ``aspirasi_in_transaction``): the change rolls back."""

    armed = False

    @hookimpl
    def aspirasi_outbox_items(self, event: Any, lookup: Any) -> None:
        if self.armed and isinstance(event, StatusChanged):
            raise RuntimeError("boom")


def make_world(database: Any, tmp_path: Any, boom: Boom) -> World:
    migrate_evaluator(database)
    settings = settings_for(tmp_path)
    pm = create_plugin_manager(settings, extra_plugins=[boom])
    world = World(core=bootstrap(settings, plugin_manager=pm, database=database))
    populate(world)
    return world


def snapshot(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every roll-up row that counts something (upkeep leaves rows at 0)."""
    out = {}
    for table in ROLLUP_TABLES:
        rows = [tuple(r) for r in conn.execute(select(table))]
        if "n" in table.c:
            index = list(table.c.keys()).index("n")
            rows = [r for r in rows if r[index] != 0]
        elif table is rollup_totals:
            rows = [r for r in rows if r[2] or r[3]]
        out[table.name] = sorted(rows)
    return out


class _RolledBack(Exception):
    pass


def rebuilt(db: Any, zone: str = TZ) -> dict[str, list[tuple[Any, ...]]]:
    """The roll-ups a rebuild in ``zone`` would write now (in a transaction rolled back)."""

    def go(uow: Any) -> None:
        rebuild(uow.connection, zone)
        raise _RolledBack(snapshot(uow.connection))

    with pytest.raises(_RolledBack) as caught:
        db.run_sync(go, write=True)
    return caught.value.args[0]


def current(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    return db.run_sync(lambda uow: snapshot(uow.connection), write=False)


def rows_of(snap: dict[str, list[tuple[Any, ...]]], table: Any) -> list[tuple[Any, ...]]:
    return snap[table.name]


def counted(snap: dict[str, Any], status: str, agency: int = 0) -> int:
    """Messages counted under ``status`` (and agency) at the day grain."""
    return sum(
        r[-1]
        for r in rows_of(snap, rollup_counts)
        if r[0] == "d" and r[5] == status and r[2] == agency
    )


def run(fn: Any) -> Any:
    return anyio.run(fn)


def test_every_use_case_keeps_the_rollups_exact(database, tmp_path):
    boom = Boom()
    world = make_world(database, tmp_path, boom)
    core, ids, db = world.core, world.ids, database
    assert db.run_sync(lambda uow: rollup_timezone(uow.connection), write=False) == TZ
    admin, citizen = world.ctx("admin"), world.ctx("ani")
    cats = {c.code: c.id for c in run(core.admin.categories)}
    root = world.ctx("root")
    idea = run(lambda: core.admin.create_subcategory(root, cats["aspirasi"], "ide", "Ide")).id
    pupr, dinkes, jalan = ids["pupr"], ids["dinkes"], ids["jalan"]

    def step(action: Any, *, moves: bool = True) -> dict[str, Any]:
        before = current(db)
        run(action)
        after = current(db)
        assert after == rebuilt(db)
        assert (after != before) is moves
        return after

    # Submission: one more "submitted" (no agency yet) and one more in the trend.
    before = current(db)
    assert before == rebuilt(db)  # populate() went through the use cases
    new = {}

    async def submit() -> None:
        new["n1"] = (await core.messages.submit(citizen, SubmitInput(subject="Lampu", body="x"))).id

    snap = step(submit)
    assert counted(snap, "submitted") == counted(before, "submitted") + 1
    n1 = new["n1"]

    # Forward to pupr, then re-forward to dinkes in another category.
    snap = step(
        lambda: core.messages.forward(
            admin, n1, ForwardInput(category_id=cats["aduan"], subcategory_id=jalan, agency_id=pupr)
        )
    )
    assert counted(snap, "forwarded", pupr) == 4
    snap = step(
        lambda: core.messages.forward(
            admin,
            n1,
            ForwardInput(category_id=cats["aspirasi"], subcategory_id=idea, agency_id=dinkes),
        )
    )
    assert counted(snap, "forwarded", pupr) == 3
    assert counted(snap, "forwarded", dinkes) == 2
    assert any(
        r[3:6] == (cats["aspirasi"], idea, "forwarded") for r in rows_of(snap, rollup_counts)
    )

    # Start (time to confirm), progress (nothing moves), reply (time to close,
    # one "closed"), rating.
    op = world.ctx("op_dinkes")
    snap = step(lambda: core.messages.start(op, n1, "ok"))
    assert {r[2:5] for r in rows_of(snap, rollup_duration_bins)} == {("confirm", dinkes, 0)}

    step(lambda: core.messages.progress(op, n1, "sedang dikerjakan"), moves=False)
    snap = step(lambda: core.messages.reply(op, n1, "selesai"))
    assert counted(snap, "done", dinkes) == 1
    assert {r[2] for r in rows_of(snap, rollup_duration_bins)} == {"confirm", "close"}
    assert sum(r[3] for r in rows_of(snap, rollup_totals) if r[0] == "d") == 1
    snap = step(lambda: core.messages.rate(citizen, n1, 4))
    assert [r[2:] for r in rows_of(snap, rollup_ratings) if r[0] == "d"] == [(dinkes, 4, 1)]

    # Reject a submitted message; submit and withdraw another (no longer counted).
    snap = step(lambda: core.messages.reject(admin, ids["fresh"], "Tidak jelas."))
    assert counted(snap, "rejected") == 1 and counted(snap, "submitted") == 0

    async def submit_and_withdraw() -> None:
        msg = await core.messages.submit(citizen, SubmitInput(subject="Batal", body="x"))
        new["n2"] = msg.id
        await core.messages.withdraw(citizen, msg.id)

    before = current(db)
    snap = step(submit_and_withdraw)
    assert rows_of(snap, rollup_counts) == rows_of(before, rollup_counts)
    assert "withdrawn" not in {r[5] for r in rows_of(snap, rollup_counts)}

    # A change that rolls back (a plugin fails after the roll-ups were written)
    # leaves them as they were.
    before = current(db)
    boom.armed = True
    with pytest.raises(RuntimeError, match="boom"):
        run(lambda: core.messages.start(world.ctx("op_pupr"), ids["p1"], "ok"))
    boom.armed = False
    assert current(db) == before
    status = db.run_sync(
        lambda uow: uow.connection.execute(
            select(messages.c.status).where(messages.c.id == ids["p1"])
        ).scalar(),
        write=False,
    )
    assert status == "forwarded"

    # The report from the roll-ups equals the one from the core's tables.
    now = core.deps.clock.now()
    year = now.astimezone(UTC).year
    rng = DateRange(date(year - 1, 1, 1), date(year + 1, 1, 1), TZ)

    def both(uow: Any) -> tuple[Any, Any]:
        return rollup_figures(uow.connection, rng, now), raw_figures(uow.connection, rng, now)

    fast, slow = db.run_sync(both, write=False)
    assert fast is not None
    for field in ("status_by_agency", "status_by_sub", "overdue_by_agency", "overdue_by_sub"):
        assert getattr(fast, field) == getattr(slow, field), field
    assert fast.overdue_by_agency == {(pupr,): 2, (dinkes,): 1}
    assert fast.rating == slow.rating and fast.rating_total == slow.rating_total
    assert fast.trend == slow.trend
    for kind in ("confirm", "close"):
        got, want = getattr(fast, f"{kind}_total"), getattr(slow, f"{kind}_total")
        assert got.count == want.count == 1
        assert got.seconds == pytest.approx(want.seconds, abs=MEDIAN_PRECISION_SECONDS)

    # The migration's back-fill writes the same rows as the upkeep did.
    kept = current(db)
    with database.engine.begin() as conn:
        command.downgrade(make_config(conn, [MIGRATIONS_DIR]), "e002_evaluator_message_log_index")
    migrate_evaluator(database)
    assert current(db) == kept


def test_overdue_follows_the_deadline_without_an_event(database, tmp_path):
    """The SOP clock re-times ``due_at`` without a domain event: the overdue
    count is read live, so it follows."""
    world = make_world(database, tmp_path, Boom())
    core, ids, db = world.core, world.ids, database
    now = core.deps.clock.now()
    year = now.astimezone(UTC).year
    rng = DateRange(date(year - 1, 1, 1), date(year + 1, 1, 1), TZ)

    def report() -> Any:
        return db.run_sync(lambda uow: build_report(uow.connection, rng, now), write=False)

    assert report().total.overdue == 3
    later = now + timedelta(days=3)
    db.run_sync(
        lambda uow: uow.connection.execute(
            update(messages).where(messages.c.id == ids["p1"]).values(due_at=later)
        )
    )
    assert report().total.overdue == 2
    db.run_sync(
        lambda uow: uow.connection.execute(
            update(messages).where(messages.c.id == ids["p2"]).values(due_at=None)
        )
    )
    assert report().total.overdue == 1


def test_rows_with_the_same_key_are_merged_before_the_upsert(database):
    """One multi-row upsert never updates a row twice (PostgreSQL refuses: "ON
    CONFLICT DO UPDATE command cannot affect row a second time"): rows with the
    same key are added up first."""
    migrate_evaluator(database)
    day = {"grain": "d", "period": 740_000, "agency_id": 0}
    next_day = day | {"period": 740_001}
    totals = {"grain": "d", "period": 740_000, "closed": 0}

    def go(uow: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        conn = uow.connection
        adds = ["stars", "n"]
        stars = [day | {"stars": 5, "n": 1}, next_day | {"stars": 2, "n": 1}]
        _upsert(conn, rollup_ratings, [*stars, day | {"stars": 3, "n": 1}], adds)
        # again, onto the stored rows
        _upsert(
            conn, rollup_ratings, [day | {"stars": 1, "n": 1}, day | {"stars": 4, "n": 1}], adds
        )
        _upsert(conn, rollup_totals, [totals | {"submitted": 1}] * 3, ["submitted"])
        return (
            sorted(tuple(r) for r in conn.execute(select(rollup_ratings))),
            sorted(tuple(r) for r in conn.execute(select(rollup_totals))),
        )

    ratings, trend = database.run_sync(go, write=True)
    assert ratings == [("d", 740_000, 0, 13, 4), ("d", 740_001, 0, 2, 1)]
    assert trend == [("d", 740_000, 3, 0)]


def test_a_new_message_is_counted_in_the_time_zone_of_the_rollups(database, tmp_path):
    """A submission counts its message with the time zone read before (its fact
    inserted from its row, no read first); once a rebuild moved the roll-ups to
    another zone, that insert writes nothing and the zone is read again."""
    world = make_world(database, tmp_path, Boom())
    core, db = world.core, database
    citizen = world.ctx("ani")

    async def submit() -> int:
        return (await core.messages.submit(citizen, SubmitInput(subject="Lampu", body="x"))).id

    run(submit)
    assert rollup._TZ.get(db.engine) == TZ
    run(submit)  # counted with the remembered zone
    assert current(db) == rebuilt(db)

    # A zone whose date differs from the roll-ups' right now (one of the two always does).
    now = core.deps.clock.now()
    other = next(
        zone
        for zone in ("Etc/GMT+12", "Pacific/Kiritimati")
        if now.astimezone(ZoneInfo(zone)).date() != now.astimezone(ZoneInfo(TZ)).date()
    )
    db.run_sync(lambda uow: rebuild(uow.connection, other), write=True)
    assert rollup._TZ.get(db.engine) == TZ  # still the old zone: the next insert must see it
    run(submit)
    assert rollup._TZ.get(db.engine) == other
    assert current(db) == rebuilt(db, other)


def test_another_time_zone_falls_back_to_the_core_tables(sqlite_database, tmp_path):
    world = make_world(sqlite_database, tmp_path, Boom())
    now = world.core.deps.clock.now()
    rng = DateRange(date(2000, 1, 1), date(2004, 1, 1), "Asia/Jakarta")
    assert (
        sqlite_database.run_sync(lambda uow: rollup_figures(uow.connection, rng, now), write=False)
        is None
    )
    report = sqlite_database.run_sync(
        lambda uow: build_report(uow.connection, rng, now), write=False
    )
    assert report.total.total == 0


def test_segments_are_whole_months_and_edge_days():
    d = date.toordinal
    assert segments(date(2025, 3, 15), date(2026, 3, 15)) == [
        ("d", d(date(2025, 3, 15)), d(date(2025, 4, 1))),
        ("m", 2025 * 12 + 3, 2026 * 12 + 2),
        ("d", d(date(2026, 3, 1)), d(date(2026, 3, 15))),
    ]
    assert segments(date(2026, 1, 1), date(2027, 1, 1)) == [("m", 2026 * 12, 2027 * 12)]
    assert segments(date(2026, 3, 10), date(2026, 4, 2)) == [
        ("d", d(date(2026, 3, 10)), d(date(2026, 4, 2)))
    ]


def test_submissions_and_withdrawals_at_once_keep_the_rollups_exact(pg_database, tmp_path):
    """New messages (counted by one statement) and withdrawals (the general path)
    update the same rows of today at the same moment, from the database threads of
    one worker: no deadlock, no lost count (PostgreSQL)."""
    import asyncio

    db = pg_database
    migrate_evaluator(db)
    settings = settings_for(tmp_path, disabled_plugins=("rate_limit",))
    world = World(
        core=bootstrap(settings, plugin_manager=create_plugin_manager(settings), database=db)
    )
    populate(world)
    core, citizen = world.core, world.ctx("ani")

    async def submit(i: int) -> int:
        return (await core.messages.submit(citizen, SubmitInput(f"Laporan {i}", "x"))).id

    async def main() -> None:
        mine = [await submit(i) for i in range(12)]  # the first one reads the time zone
        assert rollup._TZ.get(db.engine) == TZ
        for _ in range(3):
            withdraw = [core.messages.withdraw(citizen, mine.pop()) for _ in range(4)]
            await asyncio.gather(*(submit(100 + i) for i in range(8)), *withdraw)

    run(main)
    assert current(db) == rebuilt(db)
