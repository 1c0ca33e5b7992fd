"""The drill-down: the messages behind one count of the report, as a page
(``/evaluator/messages``) and as JSON (``GET /api/v1/evaluator/messages``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, get

from aspirasi_core.domain.errors import Invalid
from aspirasi_web.api.common import API, iso, query_limit
from aspirasi_web.context import context, require_permission, translator
from aspirasi_web.templating import form_errors, render

from .. import EVALUATE
from ..drill import DrillFilter, DrillRow, parse_drill
from .common import Req, api_evaluator, buckets, query_values, service


def drill_json(row: DrillRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "ticket": row.ticket,
        "subject": row.subject,
        "status": row.status,
        "created_at": iso(row.created_at),
        "agency": {"id": row.agency_id, "name": row.agency_name} if row.agency_id else None,
        "category": row.category_name,
        "subcategory": row.subcategory_name,
        "due_at": iso(row.due_at),
        "overdue": row.overdue,
    }


async def drill_filter(request: Req) -> DrillFilter:
    svc = service(request)
    q = query_values(request)
    rng = svc.parse_range(q["from"], q["to"])
    return parse_drill(q, rng)


@get("/evaluator/messages", include_in_schema=False)
async def messages_page(request: Req) -> Response[str]:
    """The messages behind one count of the report."""
    require_permission(request, EVALUATE)
    t = translator(request)
    q = query_values(request)
    try:
        flt = await drill_filter(request)
        page = await service(request).drill(
            context(request), flt, cursor=request.query_params.get("cursor")
        )
    except Invalid as exc:
        return render(
            request,
            "evaluator/messages.html",
            {
                "rows": [],
                "next_cursor": None,
                "filter": None,
                "query": "",
                "buckets": buckets(t),
                "errors": form_errors(request, exc),
                "form": {k: v or "" for k, v in q.items()},
            },
            status_code=422,
        )
    return render(
        request,
        "evaluator/messages.html",
        {
            "rows": page.items,
            "next_cursor": page.next_cursor,
            "filter": flt,
            "query": urlencode(flt.query()),
            "buckets": buckets(t),
        },
    )


@get(f"{API}/evaluator/messages", tags=["evaluator"], summary="Messages behind a count")
async def messages_api(request: Req) -> dict[str, Any]:
    """Evaluators: the messages behind one count of the report (``from``, ``to``,
    ``agency``, ``category``, ``subcategory`` — an id or ``none`` —, ``status``,
    ``overdue``), newest first, cursor-paginated."""
    ctx = api_evaluator(request)
    flt = await drill_filter(request)
    page = await service(request).drill(
        ctx,
        flt,
        cursor=request.query_params.get("cursor"),
        limit=query_limit(request.query_params.get("limit")),
    )
    return {"items": [drill_json(r) for r in page.items], "next_cursor": page.next_cursor}
