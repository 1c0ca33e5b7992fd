"""Medians and ratings of the report: per started message of the range, the time
to confirm (last forward or re-forward → ``start``), the time to close
(submission → the reply) and its rating, by agency and overall.

The times come from the message row: the core records each message's
milestones (``forwarded_at``, ``started_at``, ``closed_at``) in the write of the
transition that reaches them, and indexes them with the agency, status and
submission time (``ix_messages_agency_id_status_created_at_milestones``), so the
started messages of a range and their durations are one index range per agency,
read from the index alone. A message is started once and never forwarded
afterwards (the workflow's table), so ``started_at - forwarded_at`` is the time
the agency took to confirm it; ``closed_at - created_at`` of a ``done`` message
the time to close it.

The medians are the database's: ``percentile_cont(0.5)`` per agency and overall
(``ROLLUP``) on PostgreSQL, over ``double precision`` seconds, with the ratings
in a statement of their own. SQLite has no percentile function: per agency and
overall, the middle row (or the mean of the two middle rows of an even count)
in ascending order, what ``percentile_cont(0.5)`` computes, read with ``ORDER BY
… LIMIT … OFFSET`` after counting the rows. SQLite sorts that with a bounded
sorter; a window function's median (``row_number() OVER (PARTITION BY agency
ORDER BY seconds)``) gives the same and cost three times the CPU for a year at
1M messages (~0.6 s against ~0.2 s).
"""

from __future__ import annotations

from typing import Any

import attrs
from sqlalchemy import (
    ColumnElement,
    any_,
    bindparam,
    case,
    func,
    select,
)

from aspirasi_core.plugin_types import Transaction

from .core_tables import agencies, messages, ratings
from .period import DateRange

#: Statuses of a message that was started (confirmed) by its agency.
STARTED_STATUSES: tuple[str, ...] = ("in_progress", "done")

m = messages


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
    under a millisecond: ``julianday`` on SQLite). On PostgreSQL ``date_part``,
    which answers ``double precision``: ``EXTRACT`` answers ``numeric`` since
    PostgreSQL 14, and computing and sorting numerics took twice as long for a
    year's medians at 1M messages (~0.45 s against ~0.2 s of CPU)."""
    if conn.dialect == "postgresql":
        return func.date_part("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _started_in(
    rng: DateRange, statuses: tuple[str, ...] = STARTED_STATUSES, *, dialect: str = "sqlite"
) -> list[Any]:
    """Messages of the range an agency started; their agency is never NULL
    (written as an ``IN`` over the agencies, an index equality for SQLite; on
    PostgreSQL ``= ANY(ARRAY(…))``, which it takes into the index condition
    instead of joining the agencies to a scan of the whole range)."""
    agency_ids = select(agencies.c.id)
    in_agencies = (
        m.c.agency_id == any_(func.array(agency_ids.scalar_subquery()))
        if dialect == "postgresql"
        else m.c.agency_id.in_(agency_ids)
    )
    return [
        in_agencies,
        m.c.status.in_(statuses),
        m.c.created_at >= rng.start,
        m.c.created_at < rng.end,
    ]


def _confirm(conn: Transaction) -> ColumnElement[Any]:
    return seconds_between(conn, m.c.started_at, m.c.forwarded_at)


def _close(conn: Transaction) -> ColumnElement[Any]:
    return seconds_between(conn, m.c.closed_at, m.c.created_at)


def _ratings(conn: Transaction, rng: DateRange, *, dialect: str) -> dict[Any, tuple[int, int]]:
    """``(sum of stars, count)`` by agency of the rated ``done`` messages of the
    range: a join of their index range with ``ratings`` by primary key."""
    rated = (
        select(m.c.agency_id, func.sum(ratings.c.stars), func.count())
        .select_from(m.join(ratings, ratings.c.message_id == m.c.id))
        .where(*_started_in(rng, ("done",), dialect=dialect))
        .group_by(m.c.agency_id)
    )
    return {agency: (int(stars), int(count)) for agency, stars, count in conn.execute(rated)}


def _with_ratings(out: Timings, sums: dict[Any, tuple[int, int]]) -> Timings:
    n = sum(c for _, c in sums.values())
    return attrs.evolve(
        out,
        rating={(k,): (s / c, c) for k, (s, c) in sums.items()},
        rating_total=(sum(s for s, _ in sums.values()) / n, n) if n else (None, 0),
    )


# ----------------------------------------------------------------------------- SQLite


def _middle(where: list[Any], value: Any) -> Any:
    """The mean of the middle one or two values of ``where`` in ascending order
    (``LIMIT :take OFFSET :skip``: a bounded sort of one index range); the
    parameters come from :func:`_bounds`."""
    middle = (
        select(value.label("v"))
        .where(*where)
        .order_by(value)
        .limit(bindparam("take"))
        .offset(bindparam("skip"))
        .subquery()
    )
    return select(func.avg(middle.c.v))


def _bounds(count: int) -> dict[str, int]:
    """Where the middle of ``count`` ordered values is: one value of an odd
    count, the two around the middle of an even one."""
    return {"take": 2 - count % 2, "skip": (count - 1) // 2}


def _medians_of(
    conn: Transaction, where: list[Any], value: Any
) -> tuple[dict[Any, Median], Median]:
    """Per agency and overall: the counts in one statement, then the middle of
    each agency's values and of all of them, one statement each (the same
    statement for every agency, built and compiled once: a ``UNION ALL`` of a
    middle per agency cost more to build than to run for a month)."""
    counts = conn.execute(
        select(m.c.agency_id, func.count()).where(*where).group_by(m.c.agency_id)
    ).all()
    if not counts:
        return {}, Median()
    of_agency = _middle([*where, m.c.agency_id == bindparam("agency")], value)
    per_agency = {
        agency: Median(
            float(conn.execute(of_agency, {"agency": agency, **_bounds(n)}).scalar_one()), int(n)
        )
        for agency, n in counts
    }
    everyone = sum(int(n) for _, n in counts)
    total = conn.execute(_middle(where, value), _bounds(everyone)).scalar_one()
    return per_agency, Median(float(total), everyone)


def _timings_sqlite(conn: Transaction, rng: DateRange) -> Timings:
    """The medians by ordered middles; the ratings by a look-up per ``done``
    message of the range."""
    confirm_by, confirm_total = _medians_of(
        conn,
        [*_started_in(rng), m.c.started_at.is_not(None), m.c.forwarded_at.is_not(None)],
        _confirm(conn),
    )
    close_by, close_total = _medians_of(
        conn, [*_started_in(rng, ("done",)), m.c.closed_at.is_not(None)], _close(conn)
    )
    out = Timings(
        confirm=confirm_by,
        close=close_by,
        confirm_total=confirm_total,
        close_total=close_total,
    )
    return _with_ratings(out, _ratings(conn, rng, dialect="sqlite"))


# ----------------------------------------------------------------------------- PostgreSQL


def _timings_postgresql(conn: Transaction, rng: DateRange) -> Timings:
    """The medians in one statement, ``percentile_cont(0.5)`` per agency and
    overall (``ROLLUP``) over the index range alone; the ratings in another (a
    join with ``ratings`` inside the medians' statement doubled its time: the
    hash join's output lost the index order and was sorted again)."""
    d = (
        select(
            m.c.agency_id,
            _confirm(conn).label("confirm"),
            case((m.c.status == "done", _close(conn))).label("close"),
        )
        .where(*_started_in(rng, dialect="postgresql"))
        .subquery("d")
    )
    stmt = select(
        func.grouping(d.c.agency_id),
        d.c.agency_id,
        func.percentile_cont(0.5).within_group(d.c.confirm),
        func.count(d.c.confirm),
        func.percentile_cont(0.5).within_group(d.c.close),
        func.count(d.c.close),
    ).group_by(func.rollup(d.c.agency_id))
    out = Timings()
    for overall, agency, c_median, c_count, d_median, d_count in conn.execute(stmt):
        confirm = Median(float(c_median), int(c_count)) if c_count else Median()
        close = Median(float(d_median), int(d_count)) if d_count else Median()
        if overall:
            out = attrs.evolve(out, confirm_total=confirm, close_total=close)
            continue
        if c_count:
            out.confirm[agency] = confirm
        if d_count:
            out.close[agency] = close
    return _with_ratings(out, _ratings(conn, rng, dialect="postgresql"))


def timings(conn: Transaction, rng: DateRange) -> Timings:
    """The medians and ratings of the messages submitted in ``rng``."""
    if conn.dialect == "postgresql":
        return _timings_postgresql(conn, rng)
    return _timings_sqlite(conn, rng)
