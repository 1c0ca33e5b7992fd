"""The report's figures read from the roll-ups (:mod:`aspirasi_evaluator.rollup`).

A range ``[from, to)`` of local days is read as its whole calendar months
(``grain`` ``m``) plus the days of the partial months at its edges (``d``):
a year is 12 month rows and at most about 60 day rows per group. Each figure is
one ``UNION ALL`` of those segments, summed up by the database; the rest
(medians, overdue, grouping by agency and by classification) is done on the
few rows that come back.

Overdue counts are "as of now" and the SOP clock moves ``due_at`` without a
domain event (re-timing after a change of the calendar), so they are not
rolled up: open messages in the range (roll-up) minus the open ones that are
*not* overdue — deadline still ahead, or none — read live from the partial
index ``ix_evaluator_messages_open_due`` (open messages only, by ``due_at``).
That costs O(open messages whose deadline is still ahead), a set bounded by
the SOP's few working days of new work, however many messages are overdue.
"""

from __future__ import annotations

import bisect
import functools
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Select,
    bindparam,
    column,
    func,
    or_,
    select,
    text,
    union_all,
)

from aspirasi_core.storage import fast
from aspirasi_core.storage.types import UTCDateTime

from .report import (
    OPEN_STATUSES,
    DateRange,
    Figures,
    Median,
    Trend,
    TrendPoint,
    trend_bounds,
)
from .rollup import (
    CLOSE,
    CONFIRM,
    DAY,
    MONTH,
    month_index,
    month_start,
    rollup_timezone,
)
from .tables import (
    OPEN_CONDITION,
    OPEN_DUE_INDEX,
    rollup_counts,
    rollup_duration_bins,
    rollup_duration_fine,
    rollup_ratings,
    rollup_totals,
)

log = structlog.get_logger("aspirasi.evaluator")

Segment = tuple[str, int, int]
TOTAL = "total"


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def segments(start: date, end: date) -> list[Segment]:
    """``[start, end)`` as ``(grain, lo, hi)`` period ranges: whole months, and
    the days of the partial months at both ends."""
    first_full = start if start.day == 1 else _next_month(start)
    last_full_end = end.replace(day=1)
    if first_full >= last_full_end:
        return [(DAY, start.toordinal(), end.toordinal())]
    out: list[Segment] = []
    if start < first_full:
        out.append((DAY, start.toordinal(), first_full.toordinal()))
    out.append((MONTH, month_index(first_full), month_index(last_full_end)))
    if last_full_end < end:
        out.append((DAY, last_full_end.toordinal(), end.toordinal()))
    return out


def _over(table: Any, columns: list[Any], count: int, *where: Any) -> Any:
    """The rows of ``table`` in ``count`` segments (``UNION ALL``), as a subquery;
    segment ``i`` is bound as ``g{i}``, ``lo{i}``, ``hi{i}`` (:func:`_bounds`).

    The statements are built once per shape (``functools.cache`` on the callers)
    and run through :func:`aspirasi_core.storage.fast.rows`: building, hashing and
    compiling them per request was most of the report's time."""
    parts: list[Select[Any]] = [
        select(*columns).where(
            table.c.grain == bindparam(f"g{i}", type_=table.c.grain.type),
            table.c.period >= bindparam(f"lo{i}", type_=table.c.period.type),
            table.c.period < bindparam(f"hi{i}", type_=table.c.period.type),
            *where,
        )
        for i in range(count)
    ]
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("s")


def _bounds(segs: list[Segment]) -> dict[str, Any]:
    """The parameters of :func:`_over`'s segments."""
    out: dict[str, Any] = {}
    for i, (grain, lo, hi) in enumerate(segs):
        out[f"g{i}"], out[f"lo{i}"], out[f"hi{i}"] = grain, lo, hi
    return out


def _id(value: int) -> int | None:
    return None if value == 0 else int(value)


# ----------------------------------------------------------------------------- counts


@functools.cache
def _counts_statement(count: int) -> Any:
    c = rollup_counts
    s = _over(c, [c.c.agency_id, c.c.category_id, c.c.subcategory_id, c.c.status, c.c.n], count)
    keys = (s.c.agency_id, s.c.category_id, s.c.subcategory_id, s.c.status)
    return select(*keys, func.sum(s.c.n)).group_by(*keys).having(func.sum(s.c.n) != 0)


def _counts(conn: Connection, segs: list[Segment]) -> dict[tuple[Any, ...], dict[str, int]]:
    rows = fast.rows(conn, _counts_statement(len(segs)), _bounds(segs))
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    for agency, category, sub, status, n in rows:
        out.setdefault((_id(agency), _id(category), _id(sub)), {})[status] = int(n)
    return out


def _not_overdue_sql(hint: str) -> str:
    # Constants only (the index's name and condition): nothing from a request.
    part = (
        f"SELECT agency_id, category_id, subcategory_id FROM messages{hint}"  # noqa: S608
        f" WHERE {OPEN_CONDITION} AND {{due}} AND created_at >= :start AND created_at < :end"
    )
    return (
        "SELECT agency_id, category_id, subcategory_id, count(*) FROM ("  # noqa: S608
        + part.format(due="due_at > :now")
        + " UNION ALL "
        + part.format(due="due_at IS NULL")
        + ") AS u GROUP BY agency_id, category_id, subcategory_id"
    )


def _not_overdue_statement(sql: str) -> Any:
    # Its columns are named, so fast.rows can run it as compiled.
    return (
        text(sql)
        .bindparams(
            bindparam("now", type_=UTCDateTime),
            bindparam("start", type_=UTCDateTime),
            bindparam("end", type_=UTCDateTime),
        )
        .columns(
            column("agency_id", Integer),
            column("category_id", Integer),
            column("subcategory_id", Integer),
            column("n", BigInteger),
        )
    )


#: SQLite is told to use the partial index (``INDEXED BY``): without statistics
#: it would rather walk every open message by status.
_NOT_OVERDUE = {
    "sqlite": _not_overdue_statement(_not_overdue_sql(f" INDEXED BY {OPEN_DUE_INDEX}")),
    "postgresql": _not_overdue_statement(_not_overdue_sql("")),
}


def _not_overdue(conn: Connection, rng: DateRange, now: datetime) -> dict[tuple[Any, ...], int]:
    """Open messages submitted in the range whose deadline is ahead or unset:
    two ranges of the partial index ``ix_evaluator_messages_open_due``."""
    params = {"now": now, "start": rng.start, "end": rng.end}
    rows = fast.rows(conn, _NOT_OVERDUE[conn.dialect.name], params)
    return {(a, c, s): int(n) for a, c, s, n in rows}


# ----------------------------------------------------------------------------- medians


def _position(hist: list[tuple[int, int]], rank: int) -> tuple[int, int]:
    """The bin (of sorted ``(bin, n)``) holding the ``rank``-th value (1-based),
    and the value's rank inside it."""
    for key, n in hist:
        if rank <= n:
            return key, rank
        rank -= n
    raise AssertionError("rank beyond the histogram")


@functools.cache
def _coarse_statement(count: int) -> Any:
    b = rollup_duration_bins
    s = _over(b, [b.c.kind, b.c.agency_id, b.c.coarse, b.c.n], count)
    return select(s.c.kind, s.c.agency_id, s.c.coarse, func.sum(s.c.n)).group_by(
        s.c.kind, s.c.agency_id, s.c.coarse
    )


@functools.cache
def _fine_statement(count: int, bins: int) -> Any:
    """The fine bins of one kind (``kind``) in ``bins`` coarse bins (``c0``…)."""
    fi = rollup_duration_fine
    fs = _over(
        fi,
        [fi.c.agency_id, fi.c.coarse, fi.c.fine, fi.c.n, fi.c.total_us],
        count,
        fi.c.kind == bindparam("kind", type_=fi.c.kind.type),
        or_(*(fi.c.coarse == bindparam(f"c{j}", type_=fi.c.coarse.type) for j in range(bins))),
    )
    keys = (fs.c.agency_id, fs.c.coarse, fs.c.fine)
    return select(*keys, func.sum(fs.c.n), func.sum(fs.c.total_us)).group_by(*keys)


def _medians(conn: Connection, segs: list[Segment]) -> dict[str, dict[Any, Median]]:
    """Per kind: the median of each agency (0 = none) and of :data:`TOTAL`."""
    bounds = _bounds(segs)
    coarse: dict[str, dict[Any, dict[int, int]]] = {CONFIRM: {}, CLOSE: {}}
    for kind, agency, bin_, n in fast.rows(conn, _coarse_statement(len(segs)), bounds):
        if n:
            for group in (agency, TOTAL):
                into = coarse[kind].setdefault(group, {})
                into[bin_] = into.get(bin_, 0) + int(n)
    out: dict[str, dict[Any, Median]] = {CONFIRM: {}, CLOSE: {}}
    for kind, groups in coarse.items():
        # The coarse bin and in-bin rank of each group's one or two middle values.
        wanted: dict[Any, tuple[int, list[tuple[int, int]]]] = {}
        for group, hist in groups.items():
            ordered = sorted(hist.items())
            total = sum(n for _, n in ordered)
            ranks = sorted({(total + 1) // 2, total // 2 + 1})
            wanted[group] = (total, [_position(ordered, r) for r in ranks])
        needed = sorted({c for _, spots in wanted.values() for c, _ in spots})
        if not needed:
            continue
        # Padded to a power of two (the last bin repeated): a few statement shapes,
        # not one per count of bins (there are ~120 coarse bins).
        padded = needed + needed[-1:] * ((1 << (len(needed) - 1).bit_length()) - len(needed))
        params = {**bounds, "kind": kind, **{f"c{j}": c for j, c in enumerate(padded)}}
        rows = fast.rows(conn, _fine_statement(len(segs), len(padded)), params)
        fine: dict[tuple[Any, int], dict[int, list[int]]] = defaultdict(dict)
        for agency, bin_, fine_bin, n, total_us in rows:
            if not n:
                continue
            for group in (agency, TOTAL):
                slot = fine[(group, bin_)].setdefault(fine_bin, [0, 0])
                slot[0] += int(n)
                slot[1] += int(total_us)
        for group, (total, spots) in wanted.items():
            values = []
            for bin_, rank in spots:
                bins = sorted(fine[(group, bin_)].items())
                at, _ = _position([(k, v[0]) for k, v in bins], rank)
                n, total_us = fine[(group, bin_)][at]
                values.append(total_us / n / 1_000_000)
            out[kind][group] = Median(seconds=sum(values) / len(values), count=total)
    return out


# ----------------------------------------------------------------------------- the rest


@functools.cache
def _ratings_statement(count: int) -> Any:
    r = rollup_ratings
    s = _over(r, [r.c.agency_id, r.c.stars, r.c.n], count)
    return select(s.c.agency_id, func.sum(s.c.stars), func.sum(s.c.n)).group_by(s.c.agency_id)


def _ratings(conn: Connection, segs: list[Segment]) -> dict[int, tuple[int, int]]:
    rows = fast.rows(conn, _ratings_statement(len(segs)), _bounds(segs))
    return {a: (int(stars), int(n)) for a, stars, n in rows if n}


@functools.cache
def _trend_statement(count: int) -> Any:
    t = rollup_totals
    s = _over(t, [t.c.grain, t.c.period, t.c.submitted, t.c.closed], count)
    return select(s.c.grain, s.c.period, s.c.submitted, s.c.closed)


def _trend(conn: Connection, rng: DateRange) -> Trend:
    granularity, periods = trend_bounds(rng)
    segs = (
        [(DAY, rng.start_day.toordinal(), rng.end_day.toordinal())]
        if granularity == "week"
        else segments(rng.start_day, rng.end_day)
    )
    starts = [start.toordinal() for start, _ in periods]
    submitted = [0] * len(periods)
    closed = [0] * len(periods)
    for grain, period, sub, clo in fast.rows(conn, _trend_statement(len(segs)), _bounds(segs)):
        ordinal = period if grain == DAY else month_start(period).toordinal()
        i = bisect.bisect_right(starts, ordinal) - 1
        submitted[i] += int(sub)
        closed[i] += int(clo)
    return Trend(
        granularity,
        tuple(
            TrendPoint(start, end, submitted[i], closed[i])
            for i, (start, end) in enumerate(periods)
        ),
    )


def rollup_figures(conn: Connection, rng: DateRange, now: datetime) -> Figures | None:
    """The figures of the report from the roll-ups; None when they are not
    built or are in another time zone than the range's (then the caller reads
    the core's tables)."""
    if rollup_timezone(conn) != rng.timezone:
        return None
    segs = segments(rng.start_day, rng.end_day)
    counts = _counts(conn, segs)
    not_overdue = _not_overdue(conn, rng, now)
    status_by_agency: dict[tuple[Any, ...], dict[str, int]] = {}
    status_by_sub: dict[tuple[Any, ...], dict[str, int]] = {}
    overdue_by_agency: dict[tuple[Any, ...], int] = {}
    overdue_by_sub: dict[tuple[Any, ...], int] = {}
    for key, by_status in counts.items():
        agency, category, sub = key
        for into in (
            status_by_agency.setdefault((agency,), {}),
            status_by_sub.setdefault((category, sub), {}),
        ):
            for status, n in by_status.items():
                into[status] = into.get(status, 0) + n
        late = sum(by_status.get(s, 0) for s in OPEN_STATUSES) - not_overdue.get(key, 0)
        if late < 0:  # rows written around the use cases: read the core's tables
            log.warning("evaluator_rollups_out_of_step", hint="run rollup.rebuild")
            return None
        if late:
            overdue_by_agency[(agency,)] = overdue_by_agency.get((agency,), 0) + late
            overdue_by_sub[(category, sub)] = overdue_by_sub.get((category, sub), 0) + late
    medians = _medians(conn, segs)
    rated = _ratings(conn, segs)
    all_stars = sum(s for s, _ in rated.values())
    all_n = sum(n for _, n in rated.values())
    return Figures(
        status_by_agency=status_by_agency,
        status_by_sub=status_by_sub,
        overdue_by_agency=overdue_by_agency,
        overdue_by_sub=overdue_by_sub,
        confirm={_id(k): v for k, v in medians[CONFIRM].items() if k != TOTAL},
        close={_id(k): v for k, v in medians[CLOSE].items() if k != TOTAL},
        confirm_total=medians[CONFIRM].get(TOTAL, Median()),
        close_total=medians[CLOSE].get(TOTAL, Median()),
        rating={(_id(a),): (stars / n, n) for a, (stars, n) in rated.items()},
        rating_total=(all_stars / all_n, all_n) if all_n else (None, 0),
        trend=_trend(conn, rng),
    )
