"""The web part of the plugin: the monitor's page ``/land-issues`` and
``GET /api/v1/land-issues``.

Imported lazily by the web hook implementations of the package, so that the
core's import path never reaches Litestar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromQuery

from aspirasi_core.domain.errors import NotAllowed
from aspirasi_core.domain.model import CategoryCode, Message, Page
from aspirasi_core.services import BackofficeQuery, MessageDetail
from aspirasi_web.api.common import API, iso, log_json, query_limit
from aspirasi_web.api.common import require_actor as api_require_actor
from aspirasi_web.context import context, core, require_permission
from aspirasi_web.templating import render

from . import MONITOR, SCOPE_NAME, current_config

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = str(HERE / "templates")
LOCALE_DIR = str(HERE / "locale")
#: Statuses the status filter may choose (withdrawn messages are never shown).
FILTER_STATUSES = ("forwarded", "in_progress", "done", "rejected", "submitted")


async def _land_subcategory(request: Request[Any, Any, Any]) -> tuple[int, int] | None:
    """Ids of ``aduan`` and of the monitored sub-category (None when missing)."""
    app = core(request)
    categories = {c.code: c.id for c in await app.admin.categories()}
    category_id = categories.get(CategoryCode.ADUAN)
    if category_id is None:
        return None
    code = current_config().subcategory_code
    for sub in await app.admin.subcategories(category_id, include_inactive=True):
        if sub.code == code:
            return category_id, sub.id
    return None


async def land_messages(
    request: Request[Any, Any, Any],
    *,
    status: str | None,
    cursor: str | None,
    limit: int | None = None,
) -> tuple[Page[Message], list[MessageDetail]]:
    """One page of land-dispute complaints, with each one's detail (agency, log).

    Monitors read them through the plugin's visibility scope; a super admin
    (who holds every permission but needs no scope) through the back-office
    list filtered by the sub-category.
    """
    app = core(request)
    ctx = context(request)
    query = BackofficeQuery(status=status or None)
    try:
        page = await app.queries.scoped(ctx, SCOPE_NAME, query, cursor=cursor, limit=limit)
    except NotAllowed:
        ids = await _land_subcategory(request)
        if ids is None:
            raise
        query = BackofficeQuery(status=status or None, category_id=ids[0], subcategory_id=ids[1])
        page = await app.queries.backoffice(ctx, query, cursor=cursor, limit=limit)
    details = [await app.queries.message(ctx, m.id) for m in page.items]
    return page, details


def item_json(detail: MessageDetail) -> dict[str, Any]:
    m = detail.message
    agency = detail.agency
    return {
        "id": m.id,
        "ticket": m.ticket,
        "subject": m.subject,
        "status": str(m.status),
        "created_at": iso(m.created_at),
        "updated_at": iso(m.updated_at),
        "agency": {"id": agency.id, "code": agency.code, "name": agency.name} if agency else None,
        "replied": detail.reply is not None,
        "log": [log_json(e, staff=True) for e in detail.log],
    }


@get("/land-issues", include_in_schema=False)
async def land_issues_page(
    request: Request[Any, Any, Any],
    status: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Response[str]:
    """The monitor's table: every land-dispute complaint, newest first."""
    require_permission(request, MONITOR)
    if status and status not in FILTER_STATUSES:
        status = None
    page, details = await land_messages(request, status=status, cursor=cursor)
    return render(
        request,
        "land_issue/list.html",
        {
            "rows": details,
            "next_cursor": page.next_cursor,
            "statuses": FILTER_STATUSES,
            "form": {"status": status or ""},
        },
    )


@get(f"{API}/land-issues", tags=["land_issue"], summary="Land-dispute complaints")
async def land_issues_api(
    request: Request[Any, Any, Any],
    status: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """Land-issue monitors: every complaint of the land-dispute sub-category, in
    any agency, newest first, with its current agency, status, reply state and log."""
    actor = api_require_actor(request)
    core(request).deps.policy.require(actor, MONITOR)
    page, details = await land_messages(
        request, status=status, cursor=cursor, limit=query_limit(limit)
    )
    return {"items": [item_json(d) for d in details], "next_cursor": page.next_cursor}


ROUTE_HANDLERS = [land_issues_page, land_issues_api]
