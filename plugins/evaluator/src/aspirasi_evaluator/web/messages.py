"""The drill-down: the messages behind one count of the report, as a page
(``/evaluator/messages``) and as JSON (``GET /api/v1/evaluator/messages``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias
from urllib.parse import urlencode

from litestar import Response, get
from litestar.openapi.spec import OpenAPIType
from litestar.params import FromQuery, Parameter

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.model import Status
from aspirasi_web.api.common import API, Flag, Limit, query_limit
from aspirasi_web.api.shapes import Page, utc
from aspirasi_web.context import context, translator
from aspirasi_web.guards import requires
from aspirasi_web.templating import form_errors, render

from .. import EVALUATE
from ..drill import NONE, DrillFilter, DrillRow, parse_drill
from ..figures import STATUS_BUCKETS
from .common import DayFrom, DayTo, Ref, Req, Shape, buckets, query_values, service

#: ``?agency=``, ``?category=``, ``?subcategory=``: an id, or ``none`` for the
#: messages without one (read by :func:`parse_drill`, like the page's).
IdOrNone: TypeAlias = Annotated[
    str | None,
    Parameter(
        description=f"An id, or `{NONE}` for the messages without one.",
        schema_extra={
            "oneOf": None,
            "type": OpenAPIType.STRING,
            "pattern": f"^([1-9][0-9]*|{NONE})$",
        },
    ),
]
StatusBucket: TypeAlias = Annotated[
    str | None,
    Parameter(
        description="A status bucket of the report.",
        schema_extra={"oneOf": None, "type": OpenAPIType.STRING, "enum": list(STATUS_BUCKETS)},
    ),
]


class DrillRowOut(Shape):
    """A message behind a count."""

    id: int
    ticket: str
    subject: str
    status: Status
    created_at: datetime | None
    agency: Ref | None
    category: str | None
    subcategory: str | None
    due_at: datetime | None
    overdue: bool


def drill_json(row: DrillRow) -> DrillRowOut:
    """The API shape of a message behind a count."""
    return DrillRowOut(
        id=row.id,
        ticket=row.ticket,
        subject=row.subject,
        status=Status(row.status),
        created_at=utc(row.created_at),
        agency=Ref(id=row.agency_id, name=row.agency_name) if row.agency_id else None,
        category=row.category_name,
        subcategory=row.subcategory_name,
        due_at=utc(row.due_at),
        overdue=row.overdue,
    )


async def drill_filter(request: Req) -> DrillFilter:
    svc = service(request)
    q = query_values(request)
    rng = svc.parse_range(q["from"], q["to"])
    return parse_drill(q, rng)


@get("/evaluator/messages", guards=[requires(EVALUATE)], include_in_schema=False)
async def messages_page(request: Req) -> Response[str]:
    """The messages behind one count of the report."""
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


@get(
    f"{API}/evaluator/messages",
    guards=[requires(EVALUATE)],
    tags=["evaluator"],
    summary="Messages behind a count",
)
async def messages_api(
    request: Req,
    date_from: DayFrom = None,
    date_to: DayTo = None,
    agency: IdOrNone = None,
    category: IdOrNone = None,
    subcategory: IdOrNone = None,
    status: StatusBucket = None,
    overdue: Flag = None,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
) -> Page[DrillRowOut]:
    """Evaluators: the messages behind one count of the report (``from``, ``to``,
    ``agency``, ``category``, ``subcategory`` — an id or ``none`` —, ``status``,
    ``overdue``), newest first, cursor-paginated, read as the page reads them:
    422 ``invalid_filter`` names each bad field."""
    svc = service(request)
    rng = svc.parse_range(date_from, date_to)
    flt = parse_drill(
        {
            "agency": agency,
            "category": category,
            "subcategory": subcategory,
            "status": status,
            "overdue": overdue,
        },
        rng,
    )
    page = await svc.drill(context(request), flt, cursor=cursor, limit=query_limit(limit))
    return Page(items=[drill_json(r) for r in page.items], next_cursor=page.next_cursor)
