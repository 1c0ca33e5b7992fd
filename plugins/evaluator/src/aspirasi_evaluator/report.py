"""The evaluator's report: what it shows, assembled from the figures.

Everything is about the messages *submitted* in a date range of local days,
from ``from`` to ``to`` with both days included (the province's time zone,
``ASPIRASI_TIMEZONE``); withdrawn messages are left out everywhere.

- counts by status (``submitted``, ``forwarded``, ``in_progress``, ``done``,
  ``rejected``; named on the pages as everywhere else, by the web adapter's
  ``status_labels``) per agency, per category and per sub-category;
- overdue counts: open messages whose SOP deadline has passed as of now
  (``due_at IS NOT NULL AND due_at <= now``);
- the median time to confirm (from the last forward or re-forward to the agency
  until the agency's ``start``) and the median time to close (from the
  submission to the reply that closed it), both from the message's milestones
  (``forwarded_at``, ``started_at``, ``closed_at``) and counted for the
  message's agency, in seconds (exact: ``percentile_cont(0.5)``);
- the average rating and the number of ratings;
- the number of reprimands issued to each agency in the range;
- the completed messages whose agency kept both its SOP deadlines (confirm and
  reply): the ``done`` ones less those the core marked ``sop_missed`` when a
  stage ended after its deadline (:func:`aspirasi_core.domain.sop.sop_missed_after`),
  counted in the figures' statement per agency;
- the trend: messages submitted and messages closed (replied, ``done``) per
  month, or per week when the range is 92 days or shorter.

The figures are plain SQL aggregates over the core's tables, read live in one
read transaction (:mod:`aspirasi_evaluator.figures`); this module adds the
directory's names and the reprimands, and builds the tables' rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs
from sqlalchemy import bindparam, func, select

from aspirasi_core.plugin_types import Transaction

from .core_tables import agencies, categories
from .core_tables import subcategories as subcategories_table
from .drill import EXPORT_MAX_ROWS, NONE, DrillFilter, DrillRow, drill_rows, parse_drill
from .figures import OPEN_STATUSES, STATUS_BUCKETS, Figures, Trend, TrendPoint, figures
from .period import DateRange, local_midnight, trend_bounds
from .tables import reprimands
from .timings import Median

__all__ = [
    "EXPORT_MAX_ROWS",
    "NONE",
    "OPEN_STATUSES",
    "STATUS_BUCKETS",
    "DateRange",
    "DrillFilter",
    "DrillRow",
    "Median",
    "Report",
    "Row",
    "Trend",
    "TrendPoint",
    "build_report",
    "by_attention",
    "drill_rows",
    "local_midnight",
    "parse_drill",
    "trend_bounds",
]


@attrs.frozen
class Row:
    """One line of a report table (an agency, a category, a sub-category, the total)."""

    key: int | None
    name: str | None
    code: str | None = None
    counts: Mapping[str, int] = attrs.field(factory=dict)
    overdue: int = 0
    #: Only for agencies and the total:
    confirm: Median = attrs.field(factory=Median)
    close: Median = attrs.field(factory=Median)
    rating_average: float | None = None
    rating_count: int = 0
    reprimands: int = 0
    #: Completed within the SOP (agencies and the total); None: not counted (the
    #: categories and sub-categories).
    within_sop: int | None = None
    #: Only for sub-categories: their category.
    parent_key: int | None = None
    parent_name: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.get(s, 0) for s in STATUS_BUCKETS)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def open(self) -> int:
        """Still waiting for the admin or the agency."""
        return sum(self.counts.get(s, 0) for s in OPEN_STATUSES)

    @property
    def within_sop_share(self) -> float | None:
        """The share of the completed messages that were completed within the SOP."""
        done = self.count("done")
        if self.within_sop is None or not done:
            return None
        return self.within_sop / done

    @property
    def is_empty(self) -> bool:
        """Nothing to show: no message, no rating, no reprimand."""
        return not (self.total or self.overdue or self.rating_count or self.reprimands)


def by_attention(rows: Iterable[Row]) -> list[Row]:
    """Agencies in the order an evaluator acts on them: the most overdue first,
    then the most still open, then the most received; then by name."""
    return sorted(rows, key=lambda r: (-r.overdue, -r.open, -r.total, r.name is None, r.name or ""))


@attrs.frozen
class Report:
    range: DateRange
    now: datetime
    total: Row
    agencies: tuple[Row, ...]
    categories: tuple[Row, ...]
    subcategories: tuple[Row, ...]
    trend: Trend


_REPRIMAND_COUNTS = (
    select(reprimands.c.agency_id, func.count())
    .where(
        reprimands.c.created_at >= bindparam("start", type_=reprimands.c.created_at.type),
        reprimands.c.created_at < bindparam("end", type_=reprimands.c.created_at.type),
    )
    .group_by(reprimands.c.agency_id)
)
_AGENCIES = select(agencies).order_by(agencies.c.name, agencies.c.id)


def _reprimand_counts(conn: Transaction, rng: DateRange) -> dict[int, int]:
    rows = conn.execute(_REPRIMAND_COUNTS, {"start": rng.start, "end": rng.end})
    return {int(a): int(c) for a, c in rows}


def build_report(conn: Transaction, rng: DateRange, now: datetime) -> Report:
    """The whole report, in one read transaction (``conn``)."""
    figures_: Figures = figures(conn, rng, now)
    missed = figures_.missed_by_agency
    # Agencies: the status counts, overdue, medians, ratings, reprimands.
    status_by_agency = figures_.status_by_agency
    overdue_by_agency = figures_.overdue_by_agency
    confirm = figures_.confirm
    close = figures_.close
    rating = figures_.rating
    reprimanded = _reprimand_counts(conn, rng)
    known = {r.id: r for r in conn.execute(_AGENCIES)}
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
                within_sop=status_by_agency.get(k, {}).get("done", 0) - missed.get(k, 0),
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
                within_sop=status_by_agency.get((None,), {}).get("done", 0)
                - missed.get((None,), 0),
            )
        )

    # The total line.
    total_counts: dict[str, int] = {}
    for counts in status_by_agency.values():
        for status, count in counts.items():
            total_counts[status] = total_counts.get(status, 0) + count
    avg_all, n_all = figures_.rating_total
    total = Row(
        key=None,
        name=None,
        counts=total_counts,
        overdue=sum(overdue_by_agency.values()),
        confirm=figures_.confirm_total,
        close=figures_.close_total,
        rating_average=avg_all,
        rating_count=n_all,
        reprimands=sum(reprimanded.values()),
        within_sop=total_counts.get("done", 0) - sum(missed.values()),
    )

    # Categories and sub-categories: one query each, summed up for categories.
    by_sub = figures_.status_by_sub
    overdue_by_sub = figures_.overdue_by_sub
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
        trend=figures_.trend,
    )
