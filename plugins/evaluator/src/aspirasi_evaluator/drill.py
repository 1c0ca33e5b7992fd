"""The drill-down: the messages behind one count of the report, and the overdue
messages of an agency (what a reprimand may name)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import attrs
from sqlalchemy import ColumnElement, select

from aspirasi_core.domain.errors import FieldError, Invalid
from aspirasi_core.plugin_types import Transaction
from aspirasi_web.api.common import STRICT_INT, query_flag

from .core_tables import agencies, categories, messages
from .core_tables import subcategories as subcategories_table
from .figures import OPEN_STATUSES, STATUS_BUCKETS, in_range, is_overdue
from .period import DateRange

#: Drill-down lists exported at most this many rows.
EXPORT_MAX_ROWS = 10_000
#: ``agency=none`` / ``category=none`` in the drill-down: the column IS NULL.
NONE = "none"

m = messages


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
    #: Only the open messages (what a reprimand may name).
    open_only: bool = False
    overdue: bool = False

    def query(self) -> dict[str, str]:
        """The query string of the drill-down page (and its exports)."""
        out = self.range.query()
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
    """Read the drill-down filter from query parameters; raise :class:`Invalid`.

    Spelled as the whole API spells them (absent or empty: no filter): an id in
    plain digits without a leading zero (``02``, `` 2`` or ``２`` are ``bad_id``)
    or ``none``; a status bucket as written; ``overdue`` as every flag
    (:func:`aspirasi_web.api.common.query_flag`: ``true``/``1``/``false``/``0``)."""
    errors: list[FieldError] = []
    values: dict[str, int | str | None] = {}
    for name in ("agency", "category", "subcategory"):
        raw = params.get(name) or ""
        if raw == "":
            values[name] = None
        elif raw == NONE:
            values[name] = NONE
        elif STRICT_INT.fullmatch(raw) and len(raw) < 19 and int(raw) > 0:
            values[name] = int(raw)
        else:
            errors.append(FieldError(name, "bad_id", "Choose a valid value."))
    status = params.get("status") or None
    if status is not None and status not in STATUS_BUCKETS:
        errors.append(FieldError("status", "bad_status", "Choose a valid value."))
    overdue = False
    try:
        overdue = query_flag(params.get("overdue"), "overdue")
    except Invalid as exc:
        errors.extend(exc.errors)
    if errors:
        raise Invalid(errors=errors, code="invalid_filter")
    return DrillFilter(
        range=rng,
        agency_id=values["agency"],
        category_id=values["category"],
        subcategory_id=values["subcategory"],
        status=status,
        overdue=overdue,
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
    conn: Transaction,
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
    if flt.open_only:
        conditions.append(m.c.status.in_(OPEN_STATUSES))
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


def open_messages_of(conn: Transaction, agency_id: int, now: datetime) -> list[DrillRow]:
    """Every open message of ``agency_id`` (any submission date), the overdue
    ones first, then the oldest: what a reprimand may name."""
    rng = DateRange(date(1970, 1, 1), date(9999, 1, 1), "UTC")
    flt = DrillFilter(range=rng, agency_id=agency_id, open_only=True)
    rows = drill_rows(conn, flt, now, limit=1000)
    return sorted(rows, key=lambda r: (not r.overdue, r.created_at, r.id))


def overdue_messages_of(conn: Transaction, agency_id: int, now: datetime) -> list[DrillRow]:
    """Every message of ``agency_id`` that is overdue now (any submission date)."""
    rng = DateRange(date(1970, 1, 1), date(9999, 1, 1), "UTC")
    flt = DrillFilter(range=rng, agency_id=agency_id, overdue=True)
    return drill_rows(conn, flt, now, limit=1000)
