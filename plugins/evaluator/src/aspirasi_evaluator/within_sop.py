"""Which completed messages their agency handled within the SOP.

A ``done`` message of the range counts as *within SOP* when its agency kept both
of its deadlines: it confirmed the message (``start``) no later than the confirm
stage's last working day after the last forward, and replied no later than the
reply stage's last working day after confirming. The days are the core's
(:class:`aspirasi_core.domain.sop.WorkingCalendar`: weekends, the country's public
holidays, the super admin's days off, in the province's time zone), and the
working days of each stage are the sub-category's own where it sets them, else
the settings' (``ASPIRASI_SOP_CONFIRM_DAYS``, ``ASPIRASI_SOP_REPLY_DAYS``).

The core keeps no deadline once a message is final (``due_at`` is cleared), so
the deadlines are recomputed from the milestones (``forwarded_at``,
``started_at``, ``closed_at``): a deadline is the end of the n-th working day
after the local day the stage began (:meth:`WorkingCalendar.due_at`), so a stage
was kept when the working days after its first local day, up to and including
its last one, are at most n. Working days are counted with a running sum over
the days the range's milestones span (one calendar look-up per day, a
subtraction per stage of a message). It reads every completed message of the
range (agency, milestones, the sub-category's SOP) once, in the report's read
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import select

from aspirasi_core.domain.sop import WorkingCalendar
from aspirasi_core.plugin_types import Transaction

from .core_tables import days_off, messages, subcategories
from .period import DateRange

m = messages
sc = subcategories


@attrs.frozen
class SopRule:
    """What the SOP is: default working days per agency stage, the holidays'
    country and the province's time zone (from the settings)."""

    confirm_days: int
    reply_days: int
    country: str
    timezone: str

    @classmethod
    def of(cls, settings: Any) -> SopRule:
        return cls(
            confirm_days=int(settings.sop_confirm_days),
            reply_days=int(settings.sop_reply_days),
            country=str(settings.sop_holiday_country).upper(),
            timezone=str(settings.timezone),
        )


def _done_rows(conn: Transaction, rng: DateRange) -> list[Any]:
    stmt = (
        select(
            m.c.agency_id,
            m.c.forwarded_at,
            m.c.started_at,
            m.c.closed_at,
            sc.c.sop_confirm_days,
            sc.c.sop_reply_days,
        )
        .select_from(m.outerjoin(sc, sc.c.id == m.c.subcategory_id))
        .where(
            m.c.agency_id.is_not(None),
            m.c.status == "done",
            m.c.created_at >= rng.start,
            m.c.created_at < rng.end,
            m.c.forwarded_at.is_not(None),
            m.c.started_at.is_not(None),
            m.c.closed_at.is_not(None),
        )
    )
    return list(conn.execute(stmt))


def deadline_kept(
    calendar: WorkingCalendar, first: date, last: date
) -> Callable[[date, date, int], bool]:
    """``kept(began, ended, n)``: whether ``ended`` is no later than the ``n``-th
    working day after ``began`` (the last day :meth:`WorkingCalendar.due_at`
    allows), for days in ``[first, last]``: a running sum of working days, built
    once."""
    running = [0]
    working = [calendar.is_working_day(first)]
    day = first
    while day < last:
        day += timedelta(days=1)
        working.append(calendar.is_working_day(day))
        running.append(running[-1] + (1 if working[-1] else 0))

    def kept(began: date, ended: date, n: int) -> bool:
        if ended <= began:
            return True
        i = (ended - first).days
        counted = running[i] - running[(began - first).days]
        # n working days counted by ``ended``: kept only if ``ended`` is the n-th.
        return counted < n or (counted == n and working[i])

    return kept


def within_sop(conn: Transaction, rng: DateRange, rule: SopRule) -> Mapping[Any, int]:
    """The completed messages of ``rng`` handled within the SOP, by agency id."""
    rows = _done_rows(conn, rng)
    if not rows:
        return {}
    tz = ZoneInfo(rule.timezone)

    def local(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    days = [(local(r.forwarded_at), local(r.started_at), local(r.closed_at)) for r in rows]
    first = min(d[0] for d in days)
    last = max(max(d) for d in days)
    off = select(days_off.c.day).where(days_off.c.day.between(first, last))
    calendar = WorkingCalendar(
        timezone=tz, country=rule.country, days_off=frozenset(d for (d,) in conn.execute(off))
    )
    kept_by = deadline_kept(calendar, first, last)
    kept: dict[Any, int] = {}
    for row, (forwarded, started, closed) in zip(rows, days, strict=True):
        confirm = row.sop_confirm_days or rule.confirm_days
        reply = row.sop_reply_days or rule.reply_days
        if kept_by(forwarded, started, confirm) and kept_by(started, closed, reply):
            kept[row.agency_id] = kept.get(row.agency_id, 0) + 1
    return kept
