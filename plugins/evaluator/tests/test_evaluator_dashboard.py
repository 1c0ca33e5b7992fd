"""Issue 22: the evaluator's dashboard — completed within the SOP (against the
core's own deadlines), summary cards, period presets, the inclusive end day,
agencies by what needs attention, empty rows folded away, the chart's data
behind a toggle."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import select

from aspirasi_core.storage.tables import messages
from aspirasi_evaluator.period import DateRange

TZ = ZoneInfo("Asia/Makassar")


def _due(world: Any, name: str) -> datetime:
    return world.core.deps.db.run_sync(
        lambda uow: uow.execute(
            select(messages.c.due_at).where(messages.c.id == world.ids[name])
        ).scalar_one(),
        write=False,
    )


def _finish(world: Any, name: str, kept: dict[int, int]) -> None:
    """Start and reply to ``name`` as its agency; count it in ``kept`` (by agency)
    when both stages ended before the deadline the message had at that moment."""
    core = world.core
    op = world.ctx("op_pupr" if name.startswith("p") else "op_dinkes")
    on_time = core.deps.clock.now() < _due(world, name)
    anyio.run(lambda: core.messages.act(op, world.ids[name], "start", note="ok"))
    on_time = on_time and core.deps.clock.now() < _due(world, name)
    done = anyio.run(lambda: core.messages.act(op, world.ids[name], "reply", answer="selesai"))
    if on_time:
        kept[done.agency_id] = kept.get(done.agency_id, 0) + 1


def test_completed_within_the_sop_equals_the_deadlines_the_messages_had(world):
    """The report counts a completed message within the SOP when its agency
    started and replied before the deadline the message showed at that moment
    (populate left p1, p2 and d1 overdue)."""
    kept: dict[int, int] = {}
    # p3 is on time; p1 was confirmed after its deadline, d1 too.
    for name in ("p3", "p1", "d1"):
        _finish(world, name, kept)
    # A second dinkes message, confirmed on time but answered after its deadline.
    world.ids["d2"] = world.ids["fresh"]
    forward = dict(
        category_id=world.ids["aduan"],
        subcategory_id=world.ids["jalan"],
        agency_id=world.ids["dinkes"],
    )
    admin = world.ctx("admin")
    anyio.run(lambda: world.core.messages.act(admin, world.ids["d2"], "forward", **forward))
    op = world.ctx("op_dinkes")
    anyio.run(lambda: world.core.messages.act(op, world.ids["d2"], "start", note="ok"))
    world.make_overdue("d2")
    anyio.run(lambda: world.core.messages.act(op, world.ids["d2"], "reply", answer="selesai"))
    assert kept == {world.ids["pupr"]: 1}
    body = world.get("/api/v1/evaluator/report", "eval_op").json()
    by_code = {a["code"]: a for a in body["agencies"]}
    assert by_code["pupr"]["counts"]["done"] == 2 and by_code["dinkes"]["counts"]["done"] == 2
    assert by_code["pupr"]["completed_within_sop"] == kept[world.ids["pupr"]] == 1
    assert by_code["dinkes"]["completed_within_sop"] == kept.get(world.ids["dinkes"], 0) == 0
    assert body["total"]["completed_within_sop"] == 1
    html = world.get("/evaluator", "eval_op").text
    summary = html.split('id="h-summary"', 1)[1].split("</section>", 1)[0]
    assert "Selesai sesuai SOP" in summary and "25%" in summary
    assert "1 dari 4 pesan yang selesai" in summary


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'class="report stack {table}"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row">([^<]+)</th>', body)


def test_the_dashboard_cards_presets_order_and_folded_rows(world):
    core = world.core
    rctx = world.ctx("root")
    anyio.run(lambda: core.admin.create_entry(rctx, "agency", code="sepi", name="Dinas sepi"))
    html = world.get("/evaluator", "eval_op").text
    # The summary cards come before every table.
    assert html.index('class="summary-cards"') < html.index('class="report stack agencies"')
    assert "Pesan diterima" in html and "Terlambat saat ini" in html
    # Presets: this month, last month, this year (the current one is marked).
    now = core.deps.clock.now().astimezone(TZ).date()
    month = now.replace(day=1)
    this_year = f'href="/evaluator?from={now.year}-01-01&amp;to={now.year}-12-31" aria-current'
    assert this_year in html
    assert f"from={month.isoformat()}&amp;to=" in html
    # The period as people read it, not ISO: "1 Jan 2026 – 31 Des 2026".
    assert f"1 Jan {now.year} – 31 Des {now.year}" in html
    # Agencies by attention: pupr has 2 overdue, dinkes 1, the unforwarded one none.
    # (by name, dinkes would come first)
    rows = _rows(html, "agencies")
    assert rows[:2] == ["Dinas pupr", "Dinas dinkes"] and len(rows) == 3, rows
    # An agency with nothing is folded away, not a row of zeros.
    assert "Dinas sepi" not in "".join(_rows(html, "agencies"))
    folded = html.split('<details class="folded">', 1)[1].split("</details>", 1)[0]
    assert "1 perangkat daerah tanpa pesan pada periode ini" in folded
    assert "Dinas sepi" in folded
    # Cells carry their column's name for the phone's cards.
    assert 'data-label="Terlambat"' in html
    # The chart's data is behind a <details> toggle (works without script).
    data = html.split('<details class="chart-data">', 1)[1].split("</details>", 1)[0]
    assert "Tampilkan data grafik sebagai tabel" in data and '<table class="report trend">' in data
    assert '<link rel="stylesheet" href="/static/evaluator/evaluator.css">' in html
    assert world.get("/static/evaluator/evaluator.css").status_code == 200


def test_the_end_day_is_included(world):
    """A message submitted today is in a range that ends today."""
    today = world.core.deps.clock.now().astimezone(TZ).date()
    query = f"from={today.isoformat()}&to={today.isoformat()}"
    body = world.get(f"/api/v1/evaluator/report?{query}", "eval_op").json()
    assert body["total"]["total"] == 5
    assert (body["from"], body["to"]) == (today.isoformat(), today.isoformat())
    yesterday = (today - timedelta(days=1)).isoformat()
    before = world.get(f"/api/v1/evaluator/report?from={yesterday}&to={yesterday}", "eval_op")
    assert before.json()["total"]["total"] == 0
    html = world.get(f"/evaluator?{query}", "eval_op").text
    assert 'value="' + today.isoformat() + '"' in html
    assert "Sampai (tanggal)" in html and "tidak termasuk" not in html


def test_presets_are_whole_months_and_the_year():
    now = datetime(2026, 3, 15, 2, tzinfo=UTC)
    presets = DateRange.presets(now, "Asia/Makassar")
    assert presets["this_month"].query() == {"from": "2026-03-01", "to": "2026-03-31"}
    assert presets["last_month"].query() == {"from": "2026-02-01", "to": "2026-02-28"}
    assert presets["this_year"].query() == {"from": "2026-01-01", "to": "2026-12-31"}
    january = DateRange.presets(datetime(2026, 1, 1, 0, tzinfo=UTC), "Asia/Makassar")
    assert january["last_month"].query() == {"from": "2025-12-01", "to": "2025-12-31"}
