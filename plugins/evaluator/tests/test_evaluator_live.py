"""The report is read live: after every use case it equals a plain count of the
core's rows, on SQLite and PostgreSQL, and no use case writes anything of the
plugin's (issue 19: the old roll-up rows, written inside the core's
transactions, deadlocked concurrent changes on PostgreSQL)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date
from typing import Any

import anyio
from evaluator_support import World, migrate_evaluator, populate, settings_for
from sqlalchemy import event, select

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import SubmitInput
from aspirasi_core.storage.tables import message_log, messages, ratings
from aspirasi_evaluator.report import OPEN_STATUSES, DateRange, build_report

TZ = "Asia/Makassar"
m = messages


def make_world(database: Any, tmp_path: Any) -> World:
    migrate_evaluator(database)
    settings = settings_for(tmp_path)
    pm = create_plugin_manager(settings)
    world = World(core=bootstrap(settings, plugin_manager=pm, database=database))
    populate(world)
    return world


def _durations(conn: Any, mid: int, created: Any) -> tuple[float | None, float | None]:
    log = conn.execute(
        select(message_log.c.action, message_log.c.at)
        .where(message_log.c.message_id == mid)
        .order_by(message_log.c.id)
    ).all()
    forwards = [at for action, at in log if action in ("forward", "reforward")]
    starts = [at for action, at in log if action == "start"]
    replies = [at for action, at in log if action == "reply"]
    confirm = (starts[0] - forwards[-1]).total_seconds() if starts and forwards else None
    close = (replies[0] - created).total_seconds() if replies else None
    return confirm, close


def plain(uow: Any, rng: DateRange, now: Any) -> dict[str, Any]:
    """The report's main figures, counted the plainest way (row by row, in Python)."""
    conn = uow
    inside = (m.c.created_at >= rng.start, m.c.created_at < rng.end, m.c.status != "withdrawn")
    counts: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    late: dict[Any, int] = defaultdict(int)
    confirm: list[float] = []
    close: list[float] = []
    rows = select(m.c.id, m.c.agency_id, m.c.status, m.c.due_at, m.c.created_at).where(*inside)
    for mid, agency, status, due, created in conn.execute(rows):
        counts[agency][status] += 1
        if status in OPEN_STATUSES and due is not None and due <= now:
            late[agency] += 1
        to_confirm, to_close = _durations(conn, mid, created)
        if to_confirm is not None:
            confirm.append(to_confirm)
        if to_close is not None:
            close.append(to_close)
    stars = list(
        conn.execute(
            select(ratings.c.stars)
            .select_from(ratings.join(m, m.c.id == ratings.c.message_id))
            .where(*inside)
        ).scalars()
    )
    return {
        "counts": {k: dict(v) for k, v in counts.items()},
        "late": dict(late),
        "confirm": (len(confirm), statistics.median(confirm) if confirm else None),
        "close": (len(close), statistics.median(close) if close else None),
        "stars": (len(stars), sum(stars) / len(stars) if stars else None),
    }


def reported(uow: Any, rng: DateRange, now: Any) -> dict[str, Any]:
    report = build_report(uow, rng, now)
    return {
        "counts": {
            r.key: {s: n for s, n in r.counts.items() if n} for r in report.agencies if r.total
        },
        "late": {r.key: r.overdue for r in report.agencies if r.overdue},
        "confirm": (report.total.confirm.count, report.total.confirm.seconds),
        "close": (report.total.close.count, report.total.close.seconds),
        "stars": (report.total.rating_count, report.total.rating_average),
    }


def test_after_every_use_case_the_report_equals_a_plain_count(database, tmp_path):
    world = make_world(database, tmp_path)
    core, ids = world.core, world.ids
    admin, citizen, root = world.ctx("admin"), world.ctx("ani"), world.ctx("root")
    cats = {c.code: c.id for c in anyio.run(core.admin.categories)}
    idea = anyio.run(
        lambda: core.admin.create_entry(
            root, "subcategory", category_id=cats["aspirasi"], code="ide", name="Ide"
        )
    )
    now = core.deps.clock.now()
    year = now.astimezone(UTC).year
    rng = DateRange(date(year - 1, 1, 1), date(year + 1, 1, 1), TZ)
    written: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "WITH")):
            written.append(statement)

    def same() -> dict[str, Any]:
        def both(uow: Any) -> tuple[Any, Any]:
            return reported(uow, rng, now), plain(uow, rng, now)

        got, want = database.run_sync(both, write=False)
        assert got["counts"] == want["counts"]
        assert got["late"] == want["late"]
        for key in ("confirm", "close", "stars"):
            assert got[key][0] == want[key][0], key
            if want[key][1] is None:
                assert got[key][1] is None, key
            else:
                assert abs(got[key][1] - want[key][1]) < 0.01, key
        return got

    def run(fn: Any) -> Any:
        return anyio.run(fn)

    def forward(mid: int, category: int, sub: int, agency: int) -> Any:
        data = dict(category_id=category, subcategory_id=sub, agency_id=agency)
        return run(lambda: core.messages.act(admin, mid, "forward", **data))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        assert same()["late"] == {ids["pupr"]: 2, ids["dinkes"]: 1}
        new = run(lambda: core.messages.submit(citizen, SubmitInput(subject="Lampu", body="x"))).id
        assert same()["counts"][None]["submitted"] == 2
        forward(new, cats["aduan"], ids["jalan"], ids["pupr"])
        assert same()["counts"][ids["pupr"]]["forwarded"] == 4
        forward(new, cats["aspirasi"], idea.id, ids["dinkes"])  # re-forward, reclassified
        assert same()["counts"][ids["dinkes"]]["forwarded"] == 2
        op = world.ctx("op_dinkes")
        run(lambda: core.messages.act(op, new, "start", note="ok"))
        assert same()["confirm"][0] == 1
        run(lambda: core.messages.act(op, new, "progress", note="sedang dikerjakan"))
        run(lambda: core.messages.act(op, new, "reply", answer="selesai"))
        assert same()["close"][0] == 1
        run(lambda: core.messages.rate(citizen, new, 4))
        assert same()["stars"] == (1, 4.0)
        run(lambda: core.messages.act(admin, ids["fresh"], "reject", reason="Tidak jelas."))
        assert same()["counts"][None] == {"rejected": 1}

        async def submit_and_withdraw() -> None:
            msg = await core.messages.submit(citizen, SubmitInput(subject="Batal", body="x"))
            await core.messages.act(citizen, msg.id, "withdraw")

        run(submit_and_withdraw)
        assert same()["counts"][None] == {"rejected": 1}
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    assert any(w.startswith("UPDATE messages") for w in written)  # the use cases wrote …
    assert not [w for w in written if "evaluator_" in w]  # … and nothing of the plugin's
