"""The report's figures: plain SQL aggregates over the core's tables.

Everything is read live, in one read transaction, through indexes this plugin's
branch adds to the core's tables (``migrations/e004_drop_rollups.py``); nothing
is written anywhere, least of all inside the core's transactions.

- **Counts** by status bucket, with the overdue ones (open, ``due_at <= now``):
  one index range per group, counted by a correlated ``count(*)`` — per agency
  (and none) × status × period of the trend on ``(agency_id, status,
  created_at, due_at)``, and per sub-category (category without one, neither)
  × status on ``(category_id, subcategory_id, status, created_at, due_at)``.
  The groups come from the directory, so the database walks only the index
  entries of the range and never sorts them (a ``GROUP BY`` over the range
  sorts every row on SQLite: ~2 s for a year at 1M messages, against ~0.1 s).
  The agency groups are complete (every message has an agency or none); a
  message whose sub-category is not of its category (never written through the
  use cases) is caught by comparing the totals, and then the classification is
  counted with a plain ``GROUP BY`` instead.
- **Completed within the SOP**: per agency and trend period, the ``done``
  messages whose agency missed a deadline (``sop_missed``, recorded by the core
  when the stage ended: :func:`aspirasi_core.domain.sop.sop_missed_after`), a
  third correlated ``count(*)`` in the same statement, over the core's partial
  index ``ix_messages_sop_missed`` (only the rows that missed); the completed
  ones within the SOP are the ``done`` count less those.
- **The trend**: the same counts per period for "submitted", and the ``done``
  log entries per period on ``message_log (to_status, at)`` for "closed".
- **Medians and ratings**: :mod:`aspirasi_evaluator.timings`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import structlog
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)

from aspirasi_core.plugin_types import Transaction

from .core_tables import (
    UTCDateTime,
    agencies,
    categories,
    message_log,
    messages,
    subcategories,
)
from .period import DateRange, local_midnight, trend_bounds
from .timings import Median, timings

log = structlog.get_logger("aspirasi.evaluator")

#: The status buckets of the report, in the order of its columns.
STATUS_BUCKETS: tuple[str, ...] = ("submitted", "forwarded", "in_progress", "done", "rejected")
#: Statuses with an SOP clock running.
OPEN_STATUSES: tuple[str, ...] = ("submitted", "forwarded", "in_progress")

m = messages
lg = message_log


@attrs.frozen
class TrendPoint:
    start_day: Any
    end_day: Any
    submitted: int
    closed: int

    @property
    def last_day(self) -> Any:
        """The period's last day (``end_day`` is the day after)."""
        return self.end_day - timedelta(days=1)


@attrs.frozen
class Trend:
    granularity: str  # "week" | "month"
    points: tuple[TrendPoint, ...]

    @property
    def peak(self) -> int:
        return max([0, *(max(p.submitted, p.closed) for p in self.points)])


@attrs.frozen
class Figures:
    """The figures a report is assembled from, by group: keys ``(agency,)`` and
    ``(category, subcategory)`` (None: no agency / not classified); medians
    and ratings by agency id."""

    status_by_agency: Mapping[tuple[Any, ...], Mapping[str, int]]
    status_by_sub: Mapping[tuple[Any, ...], Mapping[str, int]]
    overdue_by_agency: Mapping[tuple[Any, ...], int]
    #: ``done`` messages whose agency missed an SOP deadline, by ``(agency,)``.
    missed_by_agency: Mapping[tuple[Any, ...], int]
    overdue_by_sub: Mapping[tuple[Any, ...], int]
    confirm: Mapping[Any, Median]
    close: Mapping[Any, Median]
    confirm_total: Median
    close_total: Median
    rating: Mapping[tuple[Any, ...], tuple[float, int]]
    rating_total: tuple[float | None, int]
    trend: Trend


# ----------------------------------------------------------------------------- SQL pieces


def in_range(rng: DateRange) -> ColumnElement[bool]:
    """Messages submitted in the range, withdrawn ones left out."""
    return and_(m.c.created_at >= rng.start, m.c.created_at < rng.end, m.c.status != "withdrawn")


def is_overdue(now: datetime) -> ColumnElement[bool]:
    """Open and past its SOP deadline at ``now``."""
    return and_(m.c.due_at.is_not(None), m.c.due_at <= now, m.c.status.in_(OPEN_STATUSES))


def _crossed(first: Any, *others: Any) -> Any:
    """Every row of ``first`` with every row of the others (a cross join)."""
    for other in others:
        first = first.join(other, true())
    return first


def _statuses() -> Any:
    """The status buckets as a table (``UNION ALL`` of one-row selects)."""
    return union_all(
        *(select(literal(b, String()).label("status")) for b in STATUS_BUCKETS)
    ).subquery("s")


def _periods(bounds: Sequence[tuple[datetime, datetime]]) -> Any:
    """The trend's periods ``[lo, hi)`` numbered ``i``, as a table of bound values."""
    rows = (
        select(
            literal(i).label("i"),
            literal(lo, UTCDateTime()).label("lo"),
            literal(hi, UTCDateTime()).label("hi"),
        )
        for i, (lo, hi) in enumerate(bounds)
    )
    return union_all(*rows).subquery("p")


def _counted(
    group: ColumnElement[bool], status: Any, lo: Any, hi: Any, now: datetime
) -> tuple[Any, Any]:
    """``count(*)`` of one group's index range, and of its overdue ones (open
    statuses only; 0 for the others), as correlated scalar subqueries."""
    where = (group, m.c.status == status, m.c.created_at >= lo, m.c.created_at < hi)
    count = select(func.count()).select_from(m).where(*where).scalar_subquery()
    late = select(func.count()).select_from(m).where(*where, m.c.due_at <= now).scalar_subquery()
    return count, case((status.in_(OPEN_STATUSES), late), else_=0)


def _missed(group: ColumnElement[bool], status: Any, lo: Any, hi: Any) -> Any:
    """``count(*)`` of one group's completed messages whose agency missed an SOP
    deadline (0 for the other statuses), as a correlated scalar subquery; the
    bare ``sop_missed`` term is the condition of the partial index it reads."""
    where = (group, m.c.status == status, m.c.created_at >= lo, m.c.created_at < hi)
    missed = select(func.count()).select_from(m).where(*where, m.c.sop_missed).scalar_subquery()
    return case((status == "done", missed), else_=0)


# ----------------------------------------------------------------------------- counts


def _agency_counts(
    conn: Transaction, bounds: Sequence[tuple[datetime, datetime]], now: datetime
) -> list[tuple[Any, str, int, int, int, int]]:
    """``(agency, status, period, count, overdue, missed)`` for every agency (and
    none), status bucket and trend period (``missed``: completed after missing
    an SOP deadline)."""
    s = _statuses()
    p = _periods(bounds)
    parts = []
    for key, group, froms in (
        (agencies.c.id, m.c.agency_id == agencies.c.id, _crossed(agencies, s, p)),
        (null(), m.c.agency_id.is_(None), _crossed(s, p)),
    ):
        count, late = _counted(group, s.c.status, p.c.lo, p.c.hi, now)
        missed = _missed(group, s.c.status, p.c.lo, p.c.hi)
        parts.append(
            select(
                key.label("agency_id"),
                s.c.status,
                p.c.i,
                count.label("n"),
                late.label("late"),
                missed.label("missed"),
            ).select_from(froms)
        )
    return [tuple(r) for r in conn.execute(union_all(*parts))]  # type: ignore[misc]


def _classification_counts(
    conn: Transaction, rng: DateRange, now: datetime
) -> list[tuple[Any, Any, str, int, int]]:
    """``(category, subcategory, status, count, overdue)`` for every
    sub-category, every category without one, and neither."""
    s = _statuses()
    c, sc = categories, subcategories
    parts = []
    for cat, sub, group, froms in (
        (
            sc.c.category_id,
            sc.c.id,
            and_(m.c.category_id == sc.c.category_id, m.c.subcategory_id == sc.c.id),
            _crossed(sc, s),
        ),
        (
            c.c.id,
            null(),
            and_(m.c.category_id == c.c.id, m.c.subcategory_id.is_(None)),
            _crossed(c, s),
        ),
        (null(), null(), and_(m.c.category_id.is_(None), m.c.subcategory_id.is_(None)), s),
    ):
        count, late = _counted(group, s.c.status, rng.start, rng.end, now)
        parts.append(
            select(
                cat.label("category_id"),
                sub.label("subcategory_id"),
                s.c.status,
                count.label("n"),
                late.label("late"),
            ).select_from(froms)
        )
    return [tuple(r) for r in conn.execute(union_all(*parts))]  # type: ignore[misc]


def _classification_grouped(
    conn: Transaction, rng: DateRange, now: datetime
) -> list[tuple[Any, Any, str, int, int]]:
    """The same with a plain ``GROUP BY`` over the range (every pair, but it
    sorts the range): when :func:`_classification_counts` missed a pair."""
    keys = (m.c.category_id, m.c.subcategory_id, m.c.status)
    late = func.count(case((is_overdue(now), 1)))
    stmt = select(*keys, func.count(), late).where(in_range(rng)).group_by(*keys)
    return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[misc]


# ----------------------------------------------------------------------------- the trend


def _closed(conn: Transaction, bounds: Sequence[tuple[datetime, datetime]]) -> dict[int, int]:
    """``done`` log entries per period (the index ``(to_status, at)``)."""
    p = _periods(bounds)
    count = (
        select(func.count())
        .select_from(lg)
        .where(lg.c.to_status == "done", lg.c.at >= p.c.lo, lg.c.at < p.c.hi)
        .scalar_subquery()
    )
    return {int(i): int(n) for i, n in conn.execute(select(p.c.i, count))}


# ----------------------------------------------------------------------------- all of it


def figures(conn: Transaction, rng: DateRange, now: datetime) -> Figures:
    """Every figure of the report for ``rng`` (overdue as of ``now``), read in
    the caller's transaction."""
    if conn.dialect == "postgresql":
        # For this transaction only: the statements' estimated costs (one index
        # range per group, one look-up per message) are far above the JIT's
        # threshold, and compiling them took longer (~1.5 s) than running them;
        # a generic plan of a prepared statement, made once for any range,
        # cannot know a month from five years; and the medians' sorts of a
        # year (~300,000 durations) spilled to disk at the default 4 MB.
        conn.execute(
            select(
                func.set_config("jit", "off", true()),
                func.set_config("plan_cache_mode", "force_custom_plan", true()),
                func.set_config("work_mem", "64MB", true()),
            )
        )
    granularity, periods = trend_bounds(rng)
    bounds = [
        (local_midnight(a, rng.timezone), local_midnight(b, rng.timezone)) for a, b in periods
    ]
    status_by_agency: dict[tuple[Any, ...], dict[str, int]] = {}
    overdue_by_agency: dict[tuple[Any, ...], int] = {}
    submitted = [0] * len(periods)
    missed_by_agency: dict[tuple[Any, ...], int] = {}
    for agency, status, period, n, late, missed in _agency_counts(conn, bounds, now):
        if missed:
            missed_by_agency[(agency,)] = missed_by_agency.get((agency,), 0) + int(missed)
        if n:
            into = status_by_agency.setdefault((agency,), {})
            into[status] = into.get(status, 0) + int(n)
            submitted[int(period)] += int(n)
        if late:
            overdue_by_agency[(agency,)] = overdue_by_agency.get((agency,), 0) + int(late)
    by_sub = _classification_counts(conn, rng, now)
    if sum(int(r[3]) for r in by_sub) != sum(submitted):
        log.warning("evaluator_unknown_classification", hint="sub-category of another category")
        by_sub = _classification_grouped(conn, rng, now)
    status_by_sub: dict[tuple[Any, ...], dict[str, int]] = {}
    overdue_by_sub: dict[tuple[Any, ...], int] = {}
    for category, sub, status, n, late in by_sub:
        if n:
            status_by_sub.setdefault((category, sub), {})[status] = int(n)
        if late:
            overdue_by_sub[(category, sub)] = overdue_by_sub.get((category, sub), 0) + int(late)
    closed = _closed(conn, bounds)
    times = timings(conn, rng)
    return Figures(
        status_by_agency=status_by_agency,
        status_by_sub=status_by_sub,
        overdue_by_agency=overdue_by_agency,
        missed_by_agency=missed_by_agency,
        overdue_by_sub=overdue_by_sub,
        confirm=times.confirm,
        close=times.close,
        confirm_total=times.confirm_total,
        close_total=times.close_total,
        rating=times.rating,
        rating_total=times.rating_total,
        trend=Trend(
            granularity,
            tuple(
                TrendPoint(start, end, submitted[i], closed.get(i, 0))
                for i, (start, end) in enumerate(periods)
            ),
        ),
    )
