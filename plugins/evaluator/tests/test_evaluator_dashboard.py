"""Issue 22: the evaluator's dashboard — completed within the SOP (against the
core's own deadlines), summary cards, period presets, the inclusive end day,
agencies by what needs attention, empty rows folded away, the chart's data
behind a toggle."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import select, update

from aspirasi_core.domain.sop import WorkingCalendar
from aspirasi_core.storage.tables import messages
from aspirasi_evaluator.period import DateRange
from aspirasi_evaluator.within_sop import deadline_kept

TZ = ZoneInfo("Asia/Makassar")


def _fixed_holidays(country: str, year: int) -> dict[date, str]:
    return {date(year, 8, 17): "Independence Day", date(year, 12, 25): "Christmas"}


def test_a_stage_is_kept_exactly_when_it_ends_before_the_cores_deadline():
    """Every start day × end day × working days of two months (weekends, public
    holidays, extra days off) against :meth:`WorkingCalendar.due_at` itself."""
    calendar = WorkingCalendar(
        timezone=TZ, days_off=frozenset({date(2026, 8, 18)}), holidays=_fixed_holidays
    )
    first, last = date(2026, 8, 1), date(2026, 9, 30)
    kept = deadline_kept(calendar, first, last)
    checked = late = 0
    for began_n in range(0, 40):
        began = first + timedelta(days=began_n)
        start = datetime.combine(began, time(10), tzinfo=TZ).astimezone(UTC)
        for n in (1, 2, 5):
            due = calendar.due_at(start, n)
            for ended_n in range(began_n, 60):
                ended = first + timedelta(days=ended_n)
                # The last moment of that local day is before the deadline.
                end_of_day = datetime.combine(ended + timedelta(days=1), time(0), tzinfo=TZ)
                want = end_of_day.astimezone(UTC) <= due
                assert kept(began, ended, n) is want, (began, ended, n)
                checked += 1
                late += not want
    assert checked > 3000 and 0 < late < checked


def _finish(world: Any, name: str) -> None:
    core = world.core
    op = world.ctx("op_pupr" if name.startswith("p") else "op_dinkes")
    anyio.run(lambda: core.messages.act(op, world.ids[name], "start", note="ok"))
    anyio.run(lambda: core.messages.act(op, world.ids[name], "reply", answer="selesai"))


def _plain_within_sop(world: Any) -> dict[int, int]:
    """Completed within the SOP, the plainest way: the core's own deadline of each
    stage (its calendar, the settings' working days) against the milestones."""
    settings = world.core.deps.settings
    calendar = WorkingCalendar(timezone=ZoneInfo(settings.timezone))
    rows = world.core.deps.db.run_sync(
        lambda uow: uow.execute(
            select(
                messages.c.agency_id,
                messages.c.forwarded_at,
                messages.c.started_at,
                messages.c.closed_at,
            ).where(messages.c.status == "done")
        ).all(),
        write=False,
    )
    out: dict[int, int] = {}
    for agency, forwarded, started, closed in rows:
        if started < calendar.due_at(forwarded, settings.sop_confirm_days) and (
            closed < calendar.due_at(started, settings.sop_reply_days)
        ):
            out[agency] = out.get(agency, 0) + 1
    return out


def test_completed_within_the_sop_equals_the_cores_deadlines(world):
    for name in ("p1", "p3", "d1"):
        _finish(world, name)
    # p3 took three weeks to confirm: late, although its reply was quick.
    three_weeks_ago = world.core.deps.clock.now() - timedelta(days=21)
    world.core.deps.db.run_sync(
        lambda uow: uow.execute(
            update(messages)
            .where(messages.c.id == world.ids["p3"])
            .values(forwarded_at=three_weeks_ago)
        )
    )
    plain = _plain_within_sop(world)
    body = world.get("/api/v1/evaluator/report", "eval_op").json()
    by_code = {a["code"]: a for a in body["agencies"]}
    assert by_code["pupr"]["counts"]["done"] == 2
    assert by_code["pupr"]["completed_within_sop"] == plain[world.ids["pupr"]] == 1
    assert by_code["dinkes"]["completed_within_sop"] == plain[world.ids["dinkes"]] == 1
    assert body["total"]["completed_within_sop"] == 2
    html = world.get("/evaluator", "eval_op").text
    summary = html.split('id="h-summary"', 1)[1].split("</section>", 1)[0]
    assert "Selesai sesuai SOP" in summary and "67%" in summary
    assert "2 dari 3 pesan yang selesai" in summary


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
