"""Medians and ratings of the report: per started message of the range, the time
to confirm (last forward or re-forward → ``start``), the time to close
(submission → the reply) and its rating, by agency and overall.

A message is started once (``in_progress`` or ``done``) and never forwarded
afterwards (the workflow's table), so its times are read from its log by the
status each entry moved it to, through ``message_log (message_id, to_status,
at)``, one index look-up each: the last entry into ``forwarded`` (the forward
or the latest re-forward), the first into ``in_progress`` (the start; progress
updates come after it) and the entry into ``done`` (the reply). PostgreSQL computes the medians
with ``percentile_cont(0.5)`` per agency and overall (``ROLLUP``). SQLite has no
percentile function, and its sorter (a window function's ``ORDER BY``) takes
seconds for a year at 1M messages: the durations are fetched and their medians
taken in Python: the middle value, or the mean of the two middle values of an
even count, as ``percentile_cont(0.5)``. Each agency's durations are sorted in
place and the overall median walks their merge, so no second copy of them is
made.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from typing import Any

import attrs
from sqlalchemy import ColumnElement, and_, case, func, select, true

from aspirasi_core.plugin_types import Transaction

from .core_tables import agencies, message_log, messages, ratings
from .period import DateRange

#: Statuses of a message that was started (confirmed) by its agency.
STARTED_STATUSES: tuple[str, ...] = ("in_progress", "done")

m = messages
lg = message_log


@attrs.frozen
class Median:
    """A median duration in seconds over ``count`` messages (None when none)."""

    seconds: float | None = None
    count: int = 0

    @property
    def hours(self) -> float | None:
        return None if self.seconds is None else self.seconds / 3600


@attrs.frozen
class Timings:
    """Medians by agency id and overall; ratings ``(average, count)`` by ``(agency,)``."""

    confirm: dict[Any, Median] = attrs.field(factory=dict)
    close: dict[Any, Median] = attrs.field(factory=dict)
    confirm_total: Median = Median()
    close_total: Median = Median()
    rating: dict[tuple[Any, ...], tuple[float, int]] = attrs.field(factory=dict)
    rating_total: tuple[float | None, int] = (None, 0)


def seconds_between(conn: Transaction, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in seconds, on the connection's dialect (exact to well
    under a millisecond: ``julianday`` on SQLite)."""
    if conn.dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _started_in(rng: DateRange) -> list[ColumnElement[bool]]:
    """Messages of the range an agency started; their agency is never NULL
    (written as an ``IN`` over the agencies: an index equality for SQLite)."""
    return [
        m.c.agency_id.in_(select(agencies.c.id)),
        m.c.status.in_(STARTED_STATUSES),
        m.c.created_at >= rng.start,
        m.c.created_at < rng.end,
    ]


def _middle(ordered: Iterable[float], count: int) -> Median:
    """The median of ``count`` values given in ascending order."""
    if not count:
        return Median()
    lower = (count - 1) // 2
    values = list(itertools.islice(ordered, lower, lower + 2 - count % 2))
    return Median(seconds=sum(values) / len(values), count=count)


def _medians(by_agency: dict[Any, list[float]]) -> tuple[dict[Any, Median], Median]:
    """Per agency and overall, sorting each agency's list in place."""
    for values in by_agency.values():
        values.sort()
    per_agency = {k: _middle(iter(v), len(v)) for k, v in by_agency.items()}
    total = sum(len(v) for v in by_agency.values())
    return per_agency, _middle(heapq.merge(*by_agency.values()), total)


def _timings_sqlite(conn: Transaction, rng: DateRange) -> Timings:
    """Per started message: its agency, time to confirm, time to close and
    stars (one index look-up each), fetched; medians and averages in Python."""

    def entered(status: str, first: bool = False) -> Any:
        """When the message's log last (or first) moved it to ``status``."""
        at = func.min(lg.c.at) if first else func.max(lg.c.at)
        where = (lg.c.message_id == m.c.id, lg.c.to_status == status)
        return select(at).where(*where).scalar_subquery()

    done = m.c.status == "done"
    started, forwarded = entered("in_progress", first=True), entered("forwarded")
    stmt = select(
        m.c.agency_id,
        seconds_between(conn, started, forwarded),
        case((done, seconds_between(conn, entered("done"), m.c.created_at))),
        case(
            (done, select(ratings.c.stars).where(ratings.c.message_id == m.c.id).scalar_subquery())
        ),
    ).where(*_started_in(rng))
    confirm: dict[Any, list[float]] = {}
    close: dict[Any, list[float]] = {}
    stars: dict[Any, list[int]] = {}
    for agency, confirm_secs, close_secs, given in conn.execute(stmt):
        if confirm_secs is not None:
            confirm.setdefault(agency, []).append(confirm_secs)
        if close_secs is not None:
            close.setdefault(agency, []).append(close_secs)
        if given is not None:
            stars.setdefault(agency, []).append(given)
    confirm_by, confirm_total = _medians(confirm)
    close_by, close_total = _medians(close)
    rated = sum(len(v) for v in stars.values())
    return Timings(
        confirm=confirm_by,
        close=close_by,
        confirm_total=confirm_total,
        close_total=close_total,
        rating={(k,): (sum(v) / len(v), len(v)) for k, v in stars.items()},
        rating_total=(sum(sum(v) for v in stars.values()) / rated, rated) if rated else (None, 0),
    )


def _timings_postgresql(conn: Transaction, rng: DateRange) -> Timings:
    """The same in one statement: per started message one index range of its
    log (a ``LATERAL`` aggregate), ``percentile_cont(0.5)`` per agency and
    overall (``ROLLUP``)."""
    times = (
        select(
            func.min(lg.c.at).filter(lg.c.to_status == "in_progress").label("started"),
            func.max(lg.c.at).filter(lg.c.to_status == "forwarded").label("forwarded"),
            func.max(lg.c.at).filter(lg.c.to_status == "done").label("replied"),
        )
        .where(lg.c.message_id == m.c.id)
        .lateral("t")
    )
    done = m.c.status == "done"
    per_message = (
        select(
            m.c.agency_id,
            seconds_between(conn, times.c.started, times.c.forwarded).label("confirm"),
            case((done, seconds_between(conn, times.c.replied, m.c.created_at))).label("close"),
            ratings.c.stars,
        )
        .select_from(
            m.join(times, true()).outerjoin(ratings, and_(ratings.c.message_id == m.c.id, done))
        )
        .where(*_started_in(rng))
        .subquery("d")
    )
    d = per_message
    stmt = select(
        func.grouping(d.c.agency_id),
        d.c.agency_id,
        func.percentile_cont(0.5).within_group(d.c.confirm),
        func.count(d.c.confirm),
        func.percentile_cont(0.5).within_group(d.c.close),
        func.count(d.c.close),
        func.avg(d.c.stars),
        func.count(d.c.stars),
    ).group_by(func.rollup(d.c.agency_id))
    out = Timings()
    for overall, agency, c_median, c_count, d_median, d_count, stars, rated in conn.execute(stmt):
        confirm = Median(float(c_median), int(c_count)) if c_count else Median()
        close = Median(float(d_median), int(d_count)) if d_count else Median()
        rating = (float(stars), int(rated)) if rated else (None, 0)
        if overall:
            out = attrs.evolve(out, confirm_total=confirm, close_total=close, rating_total=rating)
            continue
        if c_count:
            out.confirm[agency] = confirm
        if d_count:
            out.close[agency] = close
        if rated:
            out.rating[(agency,)] = rating  # type: ignore[assignment]
    return out


def timings(conn: Transaction, rng: DateRange) -> Timings:
    """The medians and ratings of the messages submitted in ``rng``."""
    if conn.dialect == "postgresql":
        return _timings_postgresql(conn, rng)
    return _timings_sqlite(conn, rng)
