"""The evaluator's report: SQL aggregates over the core's tables.

Everything is about the messages *submitted* in a date range ``[from, to)`` of
local days (the province's time zone, ``ASPIRASI_TIMEZONE``); withdrawn
messages are left out everywhere.

- counts by status bucket (``submitted`` "belum diteruskan", ``forwarded``
  "belum dikonfirmasi", ``in_progress`` "diproses", ``done`` "selesai",
  ``rejected`` "ditolak") per agency, per category and per sub-category;
- overdue counts: open messages whose SOP deadline has passed as of now
  (``due_at IS NOT NULL AND due_at <= now``);
- the median time to confirm (from the last forward or re-forward to the agency
  until the agency's ``start``, both from ``message_log``; counted for the
  agency of the ``start`` entry) and the median time to close (from the
  submission to the ``done`` log entry, the reply; counted for the message's
  agency), in seconds;
- the average rating and the number of ratings;
- the number of reprimands issued to each agency in the range;
- the trend: messages submitted and messages closed (replied, ``done``) per
  month, or per week when the range is 92 days or shorter.

The figures (:class:`Figures`) come from the plugin's roll-ups
(:func:`aspirasi_evaluator.rollup_report.rollup_figures`: O(months + edge days)
rows, medians within a minute, see :mod:`aspirasi_evaluator.rollup`), or, when
those are not built for the range's time zone, from the core's tables
(:func:`raw_figures`, O(messages in the range)): there every figure is one
``GROUP BY`` query (no per-message Python work) and medians are exact, computed
the same way on SQLite and PostgreSQL: ``row_number()`` and ``count()`` windows
partitioned by the group, keeping the one or two middle rows (``cnt <= 2 * rn
<= cnt + 2``) and averaging them — exactly ``percentile_cont(0.5)``. Durations
are ``extract(epoch from a - b)`` on PostgreSQL and ``(julianday(a) -
julianday(b)) * 86400`` on SQLite.

Scaling (≤ 50 ms for a year at 1M messages): see "Scaling" in the package
docstring.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
    text,
)

from aspirasi_core.domain.errors import FieldError, Invalid
from aspirasi_core.storage import fast
from aspirasi_core.storage.tables import agencies, categories, message_log, messages, ratings
from aspirasi_core.storage.tables import subcategories as subcategories_table

from .tables import reprimands

#: The status buckets of the report, in the order of its columns.
STATUS_BUCKETS: tuple[str, ...] = ("submitted", "forwarded", "in_progress", "done", "rejected")
#: Statuses with an SOP clock running.
OPEN_STATUSES: tuple[str, ...] = ("submitted", "forwarded", "in_progress")
#: The longest range the report accepts, in years.
MAX_YEARS = 5
#: The years a date of the report may fall in (further out the local-time and
#: calendar arithmetic would overflow, and no message exists there anyway).
MIN_YEAR = 2000
MAX_YEAR = 2100
#: Ranges up to this many days are charted per week, longer ones per month.
WEEKLY_UP_TO_DAYS = 92
#: Drill-down lists exported at most this many rows.
EXPORT_MAX_ROWS = 10_000
#: ``agency=none`` / ``category=none`` in the drill-down: the column IS NULL.
NONE = "none"

_DAY = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


# ----------------------------------------------------------------------------- the range


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def local_midnight(day: date, tz: str) -> datetime:
    """The start of a local day, in UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


@attrs.frozen
class DateRange:
    """Local days ``[start_day, end_day)`` and the UTC instants they span."""

    start_day: date
    end_day: date
    timezone: str

    @property
    def start(self) -> datetime:
        return local_midnight(self.start_day, self.timezone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.end_day, self.timezone)

    @property
    def days(self) -> int:
        return (self.end_day - self.start_day).days

    @classmethod
    def default(cls, now: datetime, tz: str) -> DateRange:
        """The current year (in the province's time zone)."""
        year = now.astimezone(ZoneInfo(tz)).year
        return cls(date(year, 1, 1), date(year + 1, 1, 1), tz)

    @classmethod
    def parse(
        cls, raw_from: str | None, raw_to: str | None, *, now: datetime, tz: str
    ) -> DateRange:
        """Read ``from`` and ``to`` (``YYYY-MM-DD``, years :data:`MIN_YEAR` to
        :data:`MAX_YEAR`); raise :class:`Invalid` with every field's problem.

        Neither given: the current year. Only ``to``: ``from`` is the current
        year's start. Only ``from``: ``to`` is one year later, but at most
        tomorrow (local), unless that is not after ``from``."""
        default = cls.default(now, tz)
        errors: list[FieldError] = []
        days: dict[str, date] = {"from": default.start_day, "to": default.end_day}
        given: set[str] = set()
        for name, raw in (("from", raw_from), ("to", raw_to)):
            if raw is None or raw.strip() == "":
                continue
            value = raw.strip()
            try:
                if not _DAY.match(value):
                    raise ValueError(value)
                day = date.fromisoformat(value)
            except ValueError:
                errors.append(FieldError(name, "date_format", "Use the date format YYYY-MM-DD."))
                continue
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                errors.append(
                    FieldError(
                        name,
                        "date_out_of_range",
                        "Choose a date in the years %(min)s to %(max)s.",
                        {"min": MIN_YEAR, "max": MAX_YEAR},
                    )
                )
                continue
            days[name] = day
            given.add(name)
        if not errors and given == {"from"}:
            start = days["from"]
            tomorrow = now.astimezone(ZoneInfo(tz)).date() + timedelta(days=1)
            end = min(_add_years(start, 1), tomorrow)
            days["to"] = end if end > start else _add_years(start, 1)
        if not errors:
            if days["to"] <= days["from"]:
                errors.append(
                    FieldError("to", "range_order", "The end date must be after the start date.")
                )
            elif days["to"] > _add_years(days["from"], MAX_YEARS):
                errors.append(
                    FieldError(
                        "to",
                        "range_too_long",
                        "The range may span at most %(years)s years.",
                        {"years": MAX_YEARS},
                    )
                )
        if errors:
            raise Invalid(errors=errors, code="invalid_range")
        return cls(days["from"], days["to"], tz)


# ----------------------------------------------------------------------------- results


@attrs.frozen
class Median:
    """A median duration in seconds over ``count`` messages (None when none)."""

    seconds: float | None = None
    count: int = 0

    @property
    def hours(self) -> float | None:
        return None if self.seconds is None else self.seconds / 3600


@attrs.frozen
class Row:
    """One line of a report table (an agency, a category, a sub-category, the total)."""

    key: int | None
    name: str | None
    code: str | None = None
    counts: Mapping[str, int] = attrs.field(factory=dict)
    overdue: int = 0
    #: Only for agencies and the total:
    confirm: Median = Median()
    close: Median = Median()
    rating_average: float | None = None
    rating_count: int = 0
    reprimands: int = 0
    #: Only for sub-categories: their category.
    parent_key: int | None = None
    parent_name: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.get(s, 0) for s in STATUS_BUCKETS)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)


@attrs.frozen
class TrendPoint:
    start_day: date
    end_day: date
    submitted: int
    closed: int


@attrs.frozen
class Trend:
    granularity: str  # "week" | "month"
    points: tuple[TrendPoint, ...]

    @property
    def peak(self) -> int:
        return max([0, *(max(p.submitted, p.closed) for p in self.points)])


@attrs.frozen
class Report:
    range: DateRange
    now: datetime
    total: Row
    agencies: tuple[Row, ...]
    categories: tuple[Row, ...]
    subcategories: tuple[Row, ...]
    trend: Trend


@attrs.frozen
class Figures:
    """The figures a report is assembled from, by group (keys of None: no
    agency / no classification), from the roll-ups or from the core's tables."""

    status_by_agency: Mapping[tuple[Any, ...], Mapping[str, int]]
    status_by_sub: Mapping[tuple[Any, ...], Mapping[str, int]]
    overdue_by_agency: Mapping[tuple[Any, ...], int]
    overdue_by_sub: Mapping[tuple[Any, ...], int]
    confirm: Mapping[Any, Median]
    close: Mapping[Any, Median]
    confirm_total: Median
    close_total: Median
    rating: Mapping[tuple[Any, ...], tuple[float, int]]
    rating_total: tuple[float | None, int]
    trend: Trend


# ----------------------------------------------------------------------------- SQL pieces

m = messages


def in_range(rng: DateRange) -> ColumnElement[bool]:
    """Messages submitted in the range, withdrawn ones left out."""
    return and_(m.c.created_at >= rng.start, m.c.created_at < rng.end, m.c.status != "withdrawn")


def is_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(m.c.due_at.is_not(None), m.c.due_at <= now, m.c.status.in_(OPEN_STATUSES))


def seconds_between(conn: Connection, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in seconds, on the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def medians(conn: Connection, durations: Select[Any]) -> dict[Any, Median]:
    """Median of ``secs`` per ``key`` of ``durations`` (a select of ``key``, ``secs``)."""
    d = durations.subquery("d")
    ranked = (
        select(
            d.c.key,
            d.c.secs,
            func.row_number().over(partition_by=d.c.key, order_by=d.c.secs).label("rn"),
            func.count().over(partition_by=d.c.key).label("cnt"),
        )
        .where(d.c.secs.is_not(None))
        .subquery("r")
    )
    middle = (
        select(ranked.c.key, func.avg(ranked.c.secs), func.max(ranked.c.cnt))
        .where(ranked.c.rn * 2 >= ranked.c.cnt, ranked.c.rn * 2 <= ranked.c.cnt + 2)
        .group_by(ranked.c.key)
    )
    return {
        key: Median(seconds=float(value), count=int(count))
        for key, value, count in conn.execute(middle)
    }


def confirm_durations(conn: Connection, rng: DateRange, *, overall: bool) -> Select[Any]:
    """Per ``start`` entry: seconds since the last forward before it; key = its agency."""
    s = message_log.alias("s")
    f = message_log.alias("f")
    last_forward = (
        select(func.max(f.c.at))
        .where(
            f.c.message_id == s.c.message_id,
            f.c.action.in_(("forward", "reforward")),
            f.c.id < s.c.id,
        )
        .scalar_subquery()
    )
    key = literal_column("0") if overall else s.c.agency_id
    return (
        select(key.label("key"), seconds_between(conn, s.c.at, last_forward).label("secs"))
        .select_from(s.join(m, m.c.id == s.c.message_id))
        .where(s.c.action == "start", in_range(rng))
    )


def close_durations(conn: Connection, rng: DateRange, *, overall: bool) -> Select[Any]:
    """Per ``done`` entry: seconds since the submission; key = the message's agency."""
    lg = message_log.alias("l")
    key = literal_column("0") if overall else m.c.agency_id
    return (
        select(key.label("key"), seconds_between(conn, lg.c.at, m.c.created_at).label("secs"))
        .select_from(lg.join(m, m.c.id == lg.c.message_id))
        .where(lg.c.to_status == "done", in_range(rng))
    )


def _status_counts(
    conn: Connection, rng: DateRange, *keys: Any
) -> dict[tuple[Any, ...], dict[str, int]]:
    stmt = select(*keys, m.c.status, func.count()).where(in_range(rng)).group_by(*keys, m.c.status)
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in conn.execute(stmt):
        *group, status, count = row
        out.setdefault(tuple(group), {})[status] = int(count)
    return out


def _overdue_counts(
    conn: Connection, rng: DateRange, now: datetime, *keys: Any
) -> dict[tuple[Any, ...], int]:
    stmt = (
        select(*keys, func.count()).where(in_range(rng), is_overdue(now)).group_by(*keys)
        if keys
        else select(func.count()).where(in_range(rng), is_overdue(now))
    )
    out: dict[tuple[Any, ...], int] = {}
    for row in conn.execute(stmt):
        *group, count = row
        out[tuple(group)] = int(count)
    return out


def _ratings(
    conn: Connection, rng: DateRange, *keys: Any
) -> dict[tuple[Any, ...], tuple[float, int]]:
    stmt = (
        select(*keys, func.avg(ratings.c.stars), func.count())
        .select_from(ratings.join(m, m.c.id == ratings.c.message_id))
        .where(in_range(rng))
    )
    if keys:
        stmt = stmt.group_by(*keys)
    out: dict[tuple[Any, ...], tuple[float, int]] = {}
    for row in conn.execute(stmt):
        *group, avg, count = row
        if count:
            out[tuple(group)] = (float(avg), int(count))
    return out


_REPRIMAND_COUNTS = (
    select(reprimands.c.agency_id, func.count())
    .where(
        reprimands.c.created_at >= bindparam("start", type_=reprimands.c.created_at.type),
        reprimands.c.created_at < bindparam("end", type_=reprimands.c.created_at.type),
    )
    .group_by(reprimands.c.agency_id)
)
_AGENCIES = select(agencies).order_by(agencies.c.name, agencies.c.id)


def _reprimand_counts(conn: Connection, rng: DateRange) -> dict[int, int]:
    rows = fast.rows(conn, _REPRIMAND_COUNTS, {"start": rng.start, "end": rng.end})
    return {int(a): int(c) for a, c in rows}


# ----------------------------------------------------------------------------- the trend


def trend_bounds(rng: DateRange) -> tuple[str, list[tuple[date, date]]]:
    """The periods of the chart: weeks from the first day (the last one maybe
    shorter) for short ranges, calendar months (cut to the range) otherwise."""
    periods: list[tuple[date, date]] = []
    if rng.days <= WEEKLY_UP_TO_DAYS:
        day = rng.start_day
        while day < rng.end_day:
            nxt = min(day + timedelta(days=7), rng.end_day)
            periods.append((day, nxt))
            day = nxt
        return "week", periods
    day = rng.start_day
    while day < rng.end_day:
        first_next = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        nxt = min(first_next, rng.end_day)
        periods.append((day, nxt))
        day = nxt
    return "month", periods


def _bucketed(
    conn: Connection, column: Any, where: Any, uppers: Sequence[datetime]
) -> dict[int, int]:
    bucket = case(*[(column < upper, i) for i, upper in enumerate(uppers)], else_=None)
    inner = select(bucket.label("bucket")).where(where).subquery("b")
    stmt = select(inner.c.bucket, func.count()).group_by(inner.c.bucket)
    return {int(b): int(c) for b, c in conn.execute(stmt) if b is not None}


def trend(conn: Connection, rng: DateRange) -> Trend:
    granularity, periods = trend_bounds(rng)
    uppers = [local_midnight(end, rng.timezone) for _, end in periods]
    submitted = _bucketed(conn, m.c.created_at, in_range(rng), uppers)
    lg = message_log
    closed = _bucketed(
        conn,
        lg.c.at,
        and_(lg.c.to_status == "done", lg.c.at >= rng.start, lg.c.at < rng.end),
        uppers,
    )
    points = tuple(
        TrendPoint(start, end, submitted.get(i, 0), closed.get(i, 0))
        for i, (start, end) in enumerate(periods)
    )
    return Trend(granularity, points)


# ----------------------------------------------------------------------------- the report


def raw_figures(conn: Connection, rng: DateRange, now: datetime) -> Figures:
    """The figures straight from the core's tables (exact medians; O(messages
    in the range)): when the roll-ups are not built or in another time zone."""
    overall_rating = _ratings(conn, rng)
    return Figures(
        status_by_agency=_status_counts(conn, rng, m.c.agency_id),
        status_by_sub=_status_counts(conn, rng, m.c.category_id, m.c.subcategory_id),
        overdue_by_agency=_overdue_counts(conn, rng, now, m.c.agency_id),
        overdue_by_sub=_overdue_counts(conn, rng, now, m.c.category_id, m.c.subcategory_id),
        confirm=medians(conn, confirm_durations(conn, rng, overall=False)),
        close=medians(conn, close_durations(conn, rng, overall=False)),
        confirm_total=medians(conn, confirm_durations(conn, rng, overall=True)).get(0, Median()),
        close_total=medians(conn, close_durations(conn, rng, overall=True)).get(0, Median()),
        rating=_ratings(conn, rng, m.c.agency_id),
        rating_total=overall_rating.get((), (None, 0)),
        trend=trend(conn, rng),
    )


def build_report(conn: Connection, rng: DateRange, now: datetime) -> Report:
    """The whole report, in one read transaction (``conn``): from the roll-ups
    (:mod:`aspirasi_evaluator.rollup_report`), or from the core's tables
    (:func:`raw_figures`) when those are not built for the range's time zone."""
    from .rollup_report import rollup_figures

    if conn.dialect.name == "postgresql":
        # The report's statements are prepared (aspirasi_core.storage.fast);
        # after five runs PostgreSQL may plan one once for any range ("generic
        # plan"), which reads the partial index of the overdue count whole
        # (~100 ms at 1M messages).
        conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    figures = rollup_figures(conn, rng, now) or raw_figures(conn, rng, now)
    # Agencies: the status counts, overdue, medians, ratings, reprimands.
    status_by_agency = figures.status_by_agency
    overdue_by_agency = figures.overdue_by_agency
    confirm = figures.confirm
    close = figures.close
    rating = figures.rating
    reprimanded = _reprimand_counts(conn, rng)
    known = {r.id: r for r in fast.rows(conn, _AGENCIES, {})}
    agency_rows: list[Row] = []
    for agency in known.values():
        k = (agency.id,)
        has_data = (
            k in status_by_agency
            or k in overdue_by_agency
            or agency.id in reprimanded
            or k in rating
        )
        if not agency.is_active and not has_data:
            continue
        avg, n = rating.get(k, (None, 0))
        agency_rows.append(
            Row(
                key=agency.id,
                name=agency.name,
                code=agency.code,
                counts=status_by_agency.get(k, {}),
                overdue=overdue_by_agency.get(k, 0),
                confirm=confirm.get(agency.id, Median()),
                close=close.get(agency.id, Median()),
                rating_average=avg,
                rating_count=n,
                reprimands=reprimanded.get(agency.id, 0),
            )
        )
    if (None,) in status_by_agency or (None,) in overdue_by_agency:
        avg, n = rating.get((None,), (None, 0))
        agency_rows.append(
            Row(
                key=None,
                name=None,
                counts=status_by_agency.get((None,), {}),
                overdue=overdue_by_agency.get((None,), 0),
                rating_average=avg,
                rating_count=n,
            )
        )

    # The total line.
    total_counts: dict[str, int] = {}
    for counts in status_by_agency.values():
        for status, count in counts.items():
            total_counts[status] = total_counts.get(status, 0) + count
    avg_all, n_all = figures.rating_total
    total = Row(
        key=None,
        name=None,
        counts=total_counts,
        overdue=sum(overdue_by_agency.values()),
        confirm=figures.confirm_total,
        close=figures.close_total,
        rating_average=avg_all,
        rating_count=n_all,
        reprimands=sum(reprimanded.values()),
    )

    # Categories and sub-categories: one query each, summed up for categories.
    by_sub = figures.status_by_sub
    overdue_by_sub = figures.overdue_by_sub
    cats = {r.id: r for r in conn.execute(select(categories).order_by(categories.c.name))}
    subs = {
        r.id: r
        for r in conn.execute(
            select(subcategories_table).order_by(
                subcategories_table.c.category_id, subcategories_table.c.name
            )
        )
    }
    cat_counts: dict[int | None, dict[str, int]] = {}
    cat_overdue: dict[int | None, int] = {}
    for (cat, _sub), counts in by_sub.items():
        into = cat_counts.setdefault(cat, {})
        for status, count in counts.items():
            into[status] = into.get(status, 0) + count
    for (cat, _sub), count in overdue_by_sub.items():
        cat_overdue[cat] = cat_overdue.get(cat, 0) + count
    category_rows = [
        Row(
            key=c.id,
            name=c.name,
            code=c.code,
            counts=cat_counts.get(c.id, {}),
            overdue=cat_overdue.get(c.id, 0),
        )
        for c in cats.values()
    ]
    if None in cat_counts or None in cat_overdue:
        category_rows.append(
            Row(
                key=None,
                name=None,
                counts=cat_counts.get(None, {}),
                overdue=cat_overdue.get(None, 0),
            )
        )
    sub_rows: list[Row] = []
    seen_keys = set(by_sub) | set(overdue_by_sub)
    for sub in subs.values():
        pair = (sub.category_id, sub.id)
        if not sub.is_active and pair not in seen_keys:
            continue
        parent = cats.get(sub.category_id)
        sub_rows.append(
            Row(
                key=sub.id,
                name=sub.name,
                code=sub.code,
                counts=by_sub.get(pair, {}),
                overdue=overdue_by_sub.get(pair, 0),
                parent_key=sub.category_id,
                parent_name=parent.name if parent else None,
            )
        )
    # Classified without a sub-category (or not classified at all).
    for cat_id, sub_id in sorted(seen_keys, key=lambda k: (k[0] is None, k[0] or 0)):
        if sub_id is None:
            parent = cats.get(cat_id) if cat_id is not None else None
            sub_rows.append(
                Row(
                    key=None,
                    name=None,
                    counts=by_sub.get((cat_id, None), {}),
                    overdue=overdue_by_sub.get((cat_id, None), 0),
                    parent_key=cat_id,
                    parent_name=parent.name if parent else None,
                )
            )
    sub_rows.sort(
        key=lambda r: (r.parent_name is None, r.parent_name or "", r.name is None, r.name or "")
    )

    return Report(
        range=rng,
        now=now,
        total=total,
        agencies=tuple(agency_rows),
        categories=tuple(category_rows),
        subcategories=tuple(sub_rows),
        trend=figures.trend,
    )


# ----------------------------------------------------------------------------- drill-down


@attrs.frozen
class DrillFilter:
    """Which messages a count of the report stands for.

    ``agency_id``/``category_id``/``subcategory_id``: None = any, :data:`NONE` =
    the column is NULL, else the id. ``status`` one of :data:`STATUS_BUCKETS` or
    None (every bucket); ``overdue`` only the overdue ones.
    """

    range: DateRange
    agency_id: int | str | None = None
    category_id: int | str | None = None
    subcategory_id: int | str | None = None
    status: str | None = None
    overdue: bool = False

    def query(self) -> dict[str, str]:
        """The query string of the drill-down page (and its exports)."""
        out = {"from": self.range.start_day.isoformat(), "to": self.range.end_day.isoformat()}
        for name, value in (
            ("agency", self.agency_id),
            ("category", self.category_id),
            ("subcategory", self.subcategory_id),
            ("status", self.status),
        ):
            if value is not None:
                out[name] = str(value)
        if self.overdue:
            out["overdue"] = "1"
        return out


def parse_drill(params: Mapping[str, str | None], rng: DateRange) -> DrillFilter:
    """Read the drill-down filter from query parameters; raise :class:`Invalid`."""
    errors: list[FieldError] = []
    values: dict[str, int | str | None] = {}
    for name in ("agency", "category", "subcategory"):
        raw = (params.get(name) or "").strip()
        if raw == "":
            values[name] = None
        elif raw == NONE:
            values[name] = NONE
        elif raw.isascii() and raw.isdigit() and len(raw) < 19 and int(raw) > 0:
            values[name] = int(raw)
        else:
            errors.append(FieldError(name, "bad_id", "Choose a valid value."))
    status = (params.get("status") or "").strip() or None
    if status is not None and status not in STATUS_BUCKETS:
        errors.append(FieldError("status", "bad_status", "Choose a valid value."))
    overdue_raw = (params.get("overdue") or "").strip()
    if overdue_raw not in ("", "0", "1", "true", "false"):
        errors.append(FieldError("overdue", "flag_invalid", "Choose yes or no."))
    if errors:
        raise Invalid(errors=errors, code="invalid_filter")
    return DrillFilter(
        range=rng,
        agency_id=values["agency"],
        category_id=values["category"],
        subcategory_id=values["subcategory"],
        status=status,
        overdue=overdue_raw in ("1", "true"),
    )


@attrs.frozen
class DrillRow:
    id: int
    ticket: str
    subject: str
    status: str
    created_at: datetime
    agency_id: int | None
    agency_name: str | None
    category_name: str | None
    subcategory_name: str | None
    due_at: datetime | None
    overdue: bool


def _match(column: Any, value: int | str | None) -> ColumnElement[bool] | None:
    if value is None:
        return None
    if value == NONE:
        return column.is_(None)
    return column == value


def drill_rows(
    conn: Connection,
    flt: DrillFilter,
    now: datetime,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> list[DrillRow]:
    """The messages behind one count, newest first (keyset on ``id``)."""
    sub = subcategories_table
    conditions: list[Any] = [in_range(flt.range)]
    for column, value in (
        (m.c.agency_id, flt.agency_id),
        (m.c.category_id, flt.category_id),
        (m.c.subcategory_id, flt.subcategory_id),
    ):
        cond = _match(column, value)
        if cond is not None:
            conditions.append(cond)
    if flt.status is not None:
        conditions.append(m.c.status == flt.status)
    if flt.overdue:
        conditions.append(is_overdue(now))
    if before_id is not None:
        conditions.append(m.c.id < before_id)
    stmt = (
        select(
            m.c.id,
            m.c.ticket,
            m.c.subject,
            m.c.status,
            m.c.created_at,
            m.c.agency_id,
            m.c.due_at,
            agencies.c.name.label("agency_name"),
            categories.c.name.label("category_name"),
            sub.c.name.label("subcategory_name"),
        )
        .select_from(
            m.outerjoin(agencies, agencies.c.id == m.c.agency_id)
            .outerjoin(categories, categories.c.id == m.c.category_id)
            .outerjoin(sub, sub.c.id == m.c.subcategory_id)
        )
        .where(*conditions)
        .order_by(m.c.id.desc())
        .limit(limit)
    )
    return [
        DrillRow(
            id=r.id,
            ticket=r.ticket,
            subject=r.subject,
            status=r.status,
            created_at=_aware(r.created_at),
            agency_id=r.agency_id,
            agency_name=r.agency_name,
            category_name=r.category_name,
            subcategory_name=r.subcategory_name,
            due_at=_aware(r.due_at) if r.due_at is not None else None,
            overdue=(
                r.due_at is not None and _aware(r.due_at) <= now and r.status in OPEN_STATUSES
            ),
        )
        for r in conn.execute(stmt)
    ]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def overdue_messages_of(conn: Connection, agency_id: int, now: datetime) -> list[DrillRow]:
    """Every message of ``agency_id`` that is overdue now (any submission date)."""
    rng = DateRange(date(1970, 1, 1), date(9999, 1, 1), "UTC")
    flt = DrillFilter(range=rng, agency_id=agency_id, overdue=True)
    return drill_rows(conn, flt, now, limit=1000)
