"""The web part of the plugin: the monitor's page ``/land-issues`` and
``GET /api/v1/land-issues``.

Both are read-only and built from one list query (the plugin's visibility
scope, so only messages the reader may see) plus one read of the logs of the
page's messages (``queries.logs``, which hides an anonymous sender) and one of
the agencies: no query per row.

Imported lazily by the web hook implementations of the package, so that the
core's import path never reaches Litestar.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import attrs
from litestar import Request, Response, get
from litestar.params import FromQuery
from msgspec import Meta
from sqlalchemy import select

from aspirasi_core.domain.errors import Invalid, NotAllowed
from aspirasi_core.domain.model import (
    Action,
    Agency,
    CategoryCode,
    LogEntry,
    Message,
    Page,
    Status,
)
from aspirasi_core.plugin_api import Transaction, schema
from aspirasi_core.services import BackofficeQuery
from aspirasi_web.api.common import API, Flag, Limit, log_json, query_flag, query_limit
from aspirasi_web.api.message_shapes import LogEntryOut
from aspirasi_web.api.shapes import Page as ApiPage
from aspirasi_web.api.shapes import Shape, utc
from aspirasi_web.context import context, core, plugin_context
from aspirasi_web.guards import requires
from aspirasi_web.templating import render

from . import MONITOR, SCOPE_NAME, current_config

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = str(HERE / "templates")
LOCALE_DIR = str(HERE / "locale")
#: Statuses the status filter may choose (withdrawn messages are never shown).
FILTER_STATUSES = ("forwarded", "in_progress", "done", "rejected", "submitted")


@attrs.frozen
class LandRow:
    """One land-dispute complaint as the monitor follows it."""

    message: Message
    agency: Agency | None
    #: The status log, oldest first.
    log: tuple[LogEntry, ...]
    #: When the agency replied (the ``reply`` log entry), else None.
    replied_at: datetime | None
    #: The last allowed local day of the current stage (None once final).
    due_date: date | None
    overdue: bool

    @property
    def latest(self) -> LogEntry | None:
        return self.log[-1] if self.log else None

    @property
    def due_last_instant(self) -> datetime | None:
        """The last instant before the deadline (shown as a local date)."""
        due = self.message.due_at
        return due - timedelta(microseconds=1) if due is not None else None


async def _land_subcategory(request: Request[Any, Any, Any]) -> tuple[int, int] | None:
    """Ids of ``aduan`` and of the monitored sub-category (None when missing)."""
    code = current_config().subcategory_code

    def ids(tx: Transaction) -> tuple[int, int] | None:
        category_id = tx.lookup.category_id(CategoryCode.ADUAN)
        sub_id = tx.lookup.subcategory_id(CategoryCode.ADUAN, code)
        return None if category_id is None or sub_id is None else (category_id, sub_id)

    return await plugin_context(request).read(ids)


def _agencies(tx: Transaction, ids: set[int]) -> dict[int, Agency]:
    """The agencies of ``ids``, inactive ones too (a message may still be with one)."""
    a = schema.agencies
    rows = tx.execute(select(a.c.id, a.c.code, a.c.name, a.c.is_active).where(a.c.id.in_(ids)))
    return {r.id: Agency(r.id, r.code, r.name, bool(r.is_active)) for r in rows}


async def land_rows(
    request: Request[Any, Any, Any],
    *,
    status: str | None,
    overdue: bool,
    cursor: str | None,
    limit: int | None = None,
) -> tuple[Page[Message], list[LandRow]]:
    """One page of land-dispute complaints with their agency, log and deadline.

    Monitors read them through the plugin's visibility scope; a super admin
    (who holds every permission but needs no scope) through the back-office
    list filtered by the sub-category. The logs and agencies of the page come
    from one read transaction.
    """
    app = core(request)
    aspirasi = plugin_context(request)
    ctx = context(request)
    query = BackofficeQuery(status=status or None, overdue=overdue)
    try:
        page = await aspirasi.queries.scoped(ctx, SCOPE_NAME, query, cursor=cursor, limit=limit)
    except NotAllowed:
        ids = await _land_subcategory(request)
        if ids is None:
            raise
        query = attrs.evolve(query, category_id=ids[0], subcategory_id=ids[1])
        page = await aspirasi.queries.backoffice(ctx, query, cursor=cursor, limit=limit)
    messages = list(page.items)
    if not messages:
        return page, []
    # The logs as the reader may see them: an anonymous sender's entries carry
    # no actor (the core's privacy rule).
    logs = await aspirasi.queries.logs(ctx, [m.id for m in messages])
    agency_ids = {m.agency_id for m in messages if m.agency_id is not None}
    agencies = await aspirasi.read(lambda tx: _agencies(tx, agency_ids)) if agency_ids else {}
    now = aspirasi.clock.now()
    rows = []
    for m in messages:
        log = tuple(logs.get(m.id, ()))
        replies = [e.at for e in log if e.action == Action.REPLY]
        rows.append(
            LandRow(
                message=m,
                agency=agencies.get(m.agency_id) if m.agency_id is not None else None,
                log=log,
                replied_at=replies[-1] if replies else None,
                due_date=app.sop.due_date(m.due_at) if m.due_at is not None else None,
                overdue=m.is_overdue(now),
            )
        )
    return page, rows


class AgencyOut(Shape):
    id: int
    code: str
    name: str


class LandIssueOut(Shape):
    """A land-dispute complaint as the monitor follows it."""

    id: int
    ticket: str
    subject: str
    status: Status
    created_at: datetime | None
    updated_at: datetime | None
    agency: AgencyOut | None
    due_at: datetime | None
    due_date: Annotated[date | None, Meta(description="The last allowed local day (YYYY-MM-DD).")]
    overdue: bool
    replied: bool
    replied_at: datetime | None
    latest_log: LogEntryOut | None
    log: list[LogEntryOut]


def item_json(row: LandRow) -> LandIssueOut:
    """The API shape of a land-dispute complaint."""
    m = row.message
    agency = row.agency
    return LandIssueOut(
        id=m.id,
        ticket=m.ticket,
        subject=m.subject,
        status=m.status,
        created_at=utc(m.created_at),
        updated_at=utc(m.updated_at),
        agency=AgencyOut(id=agency.id, code=agency.code, name=agency.name) if agency else None,
        due_at=utc(m.due_at),
        due_date=row.due_date,
        overdue=row.overdue,
        replied=row.replied_at is not None,
        replied_at=utc(row.replied_at),
        latest_log=log_json(row.latest, staff=True) if row.latest else None,
        log=[log_json(e, staff=True) for e in row.log],
    )


def _page_flag(value: str | None) -> bool:
    """``overdue`` of the page's form, read as the API reads it
    (:func:`~aspirasi_web.api.common.query_flag`); a bad value is read as "no"."""
    try:
        return query_flag(value, "overdue")
    except Invalid:
        return False


@get("/land-issues", guards=[requires(MONITOR)], include_in_schema=False)
async def land_issues_page(
    request: Request[Any, Any, Any],
    status: FromQuery[str | None] = None,
    overdue: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Response[str]:
    """The monitor's table: every land-dispute complaint, newest first (read only)."""
    if status and status not in FILTER_STATUSES:
        status = None
    only_overdue = _page_flag(overdue)
    page, rows = await land_rows(request, status=status, overdue=only_overdue, cursor=cursor)
    return render(
        request,
        "land_issue/list.html",
        {
            "rows": rows,
            "next_cursor": page.next_cursor,
            "statuses": FILTER_STATUSES,
            "form": {"status": status or "", "overdue": only_overdue},
        },
    )


@get(
    f"{API}/land-issues",
    guards=[requires(MONITOR)],
    tags=["land_issue"],
    summary="Land-dispute complaints",
)
async def land_issues_api(
    request: Request[Any, Any, Any],
    status: FromQuery[str | None] = None,
    overdue: Flag = None,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
) -> ApiPage[LandIssueOut]:
    """Land-issue monitors: every complaint of the land-dispute sub-category, in
    any agency, newest first, with its current agency, status, SOP due date and
    overdue state, reply state and log. ``overdue=true``: only overdue ones."""
    only_overdue = query_flag(overdue, "overdue")
    page, rows = await land_rows(
        request, status=status, overdue=only_overdue, cursor=cursor, limit=query_limit(limit)
    )
    return ApiPage(items=[item_json(r) for r in rows], next_cursor=page.next_cursor)


ROUTE_HANDLERS = [land_issues_page, land_issues_api]
