"""The web part of the evaluator plugin: report pages, drill-down, exports,
reprimand forms and the JSON API (see the package docstring for the routes).

Imported lazily by the web hook implementations, so the core never reaches
Litestar. Every handler checks access itself, on the server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.params import FromPath

from aspirasi_core.domain.errors import Conflict, Invalid, NotAllowed
from aspirasi_core.services import Context
from aspirasi_web.api.common import API, iso, json_body, query_int, query_limit
from aspirasi_web.api.common import require_actor as api_require_actor
from aspirasi_web.context import context, core, require_actor, require_permission, translator
from aspirasi_web.i18n import Translator
from aspirasi_web.templating import form_errors, redirect, render

from . import EVALUATE
from .chart import layout
from .export import FORMATS, Sheet, content_disposition
from .report import (
    EXPORT_MAX_ROWS,
    NONE,
    STATUS_BUCKETS,
    DateRange,
    DrillFilter,
    DrillRow,
    Median,
    Report,
    Row,
    parse_drill,
)
from .service import TEXT_MAX, EvaluatorService, Reprimand

#: The report's status buckets and their (English msgid) labels.
BUCKET_LABELS: Mapping[str, str] = {
    "submitted": "Not yet forwarded",
    "forwarded": "Not yet confirmed",
    "in_progress": "Being processed",
    "done": "Completed",
    "rejected": "Rejected",
}

Req = Request[Any, Any, Any]


def service(request: Req) -> EvaluatorService:
    return EvaluatorService(core(request).deps)


def _tz(request: Req) -> str:
    return core(request).deps.settings.timezone


def buckets(t: Translator) -> dict[str, str]:
    return {code: t(label) for code, label in BUCKET_LABELS.items()}


def duration_text(t: Translator, median: Median) -> str:
    """A median as hours (under two days) or days, or a dash."""
    if median.seconds is None:
        return "—"
    hours = median.seconds / 3600
    if hours < 48:
        return t("%(value)s hours", value=f"{hours:.1f}")
    return t("%(value)s days", value=f"{hours / 24:.1f}")


def _local(value: datetime | None, tz: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _hours(median: Median) -> float | None:
    return None if median.seconds is None else round(median.seconds / 3600, 2)


def _query(request: Req) -> dict[str, str | None]:
    q = request.query_params
    return {
        name: q.get(name)
        for name in ("from", "to", "agency", "category", "subcategory", "status", "overdue")
    }


# ----------------------------------------------------------------------------- names


def agency_name(t: Translator, row: Row) -> str:
    return row.name if row.name is not None else t("No agency (not forwarded yet)")


def category_name(t: Translator, row: Row) -> str:
    return row.name if row.name is not None else t("Not classified")


def subcategory_name(t: Translator, row: Row) -> str:
    return row.name if row.name is not None else t("No sub-category")


def drill_link(rng: DateRange) -> Callable[..., str]:
    """``link(agency=…, status=…, overdue=True, …)`` → the drill-down URL."""

    def link(**params: Any) -> str:
        query = {"from": rng.start_day.isoformat(), "to": rng.end_day.isoformat()}
        for name in ("agency", "category", "subcategory", "status"):
            if name in params:
                value = params[name]
                query[name] = NONE if value is None else str(value)
        if params.get("overdue"):
            query["overdue"] = "1"
        return "/evaluator/messages?" + urlencode(query)

    return link


# ----------------------------------------------------------------------------- sheets


def report_sheets(t: Translator, report: Report) -> list[Sheet]:
    labels = buckets(t)
    status_header = [labels[s] for s in STATUS_BUCKETS]
    agency_rows = [
        [
            agency_name(t, r),
            *(r.count(s) for s in STATUS_BUCKETS),
            r.total,
            r.overdue,
            _hours(r.confirm),
            r.confirm.count,
            _hours(r.close),
            r.close.count,
            round(r.rating_average, 2) if r.rating_average is not None else None,
            r.rating_count,
            r.reprimands,
        ]
        for r in (*report.agencies, report.total)
    ]
    agency_rows[-1][0] = t("Total")
    agencies: Sheet = (
        t("Agencies"),
        [
            t("Agency"),
            *status_header,
            t("Total"),
            t("Overdue"),
            t("Median time to confirm (hours)"),
            t("Confirmed"),
            t("Median time to close (hours)"),
            t("Closed"),
            t("Average rating"),
            t("Ratings"),
            t("Reprimands"),
        ],
        agency_rows,
    )
    cats: Sheet = (
        t("Categories"),
        [t("Category"), *status_header, t("Total"), t("Overdue")],
        [
            [category_name(t, r), *(r.count(s) for s in STATUS_BUCKETS), r.total, r.overdue]
            for r in report.categories
        ],
    )
    subs: Sheet = (
        t("Sub-categories"),
        [t("Category"), t("Sub-category"), *status_header, t("Total"), t("Overdue")],
        [
            [
                r.parent_name if r.parent_name is not None else t("Not classified"),
                subcategory_name(t, r),
                *(r.count(s) for s in STATUS_BUCKETS),
                r.total,
                r.overdue,
            ]
            for r in report.subcategories
        ],
    )
    trend: Sheet = (
        t("Trend"),
        [t("From"), t("Until (exclusive)"), t("Submitted"), t("Closed")],
        [
            [p.start_day.isoformat(), p.end_day.isoformat(), p.submitted, p.closed]
            for p in report.trend.points
        ],
    )
    return [agencies, cats, subs, trend]


def drill_sheet(t: Translator, rows: list[DrillRow], tz: str) -> Sheet:
    labels = buckets(t)
    return (
        t("Messages"),
        [
            t("Ticket"),
            t("Received"),
            t("Subject"),
            t("Status"),
            t("Agency"),
            t("Category"),
            t("Sub-category"),
            t("SOP deadline"),
            t("Overdue"),
        ],
        [
            [
                r.ticket,
                _local(r.created_at, tz),
                r.subject,
                labels.get(r.status, r.status),
                r.agency_name or "",
                r.category_name or "",
                r.subcategory_name or "",
                _local(r.due_at, tz),
                t("Yes") if r.overdue else t("No"),
            ]
            for r in rows
        ],
    )


def _download(kind: str, sheets: list[Sheet], filename: str) -> Response[bytes]:
    media_type, build = FORMATS[kind]
    return Response(
        content=build(sheets),
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _range_name(rng: DateRange) -> str:
    return f"{rng.start_day.isoformat()}_{rng.end_day.isoformat()}"


# ----------------------------------------------------------------------------- JSON


def median_json(median: Median) -> dict[str, Any]:
    return {
        "hours": _hours(median),
        "seconds": None if median.seconds is None else round(median.seconds, 3),
        "count": median.count,
    }


def row_json(row: Row, *, agency: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.key,
        "code": row.code,
        "name": row.name,
        "counts": {s: row.count(s) for s in STATUS_BUCKETS},
        "total": row.total,
        "overdue": row.overdue,
    }
    if agency:
        out.update(
            median_time_to_confirm=median_json(row.confirm),
            median_time_to_close=median_json(row.close),
            rating_average=(
                round(row.rating_average, 3) if row.rating_average is not None else None
            ),
            rating_count=row.rating_count,
            reprimands=row.reprimands,
        )
    if row.parent_key is not None or row.parent_name is not None:
        out["category_id"] = row.parent_key
    return out


def report_json(report: Report) -> dict[str, Any]:
    rng = report.range
    return {
        "from": rng.start_day.isoformat(),
        "to": rng.end_day.isoformat(),
        "timezone": rng.timezone,
        "generated_at": iso(report.now),
        "statuses": list(STATUS_BUCKETS),
        "total": row_json(report.total, agency=True),
        "agencies": [row_json(r, agency=True) for r in report.agencies],
        "categories": [row_json(r, agency=False) for r in report.categories],
        "subcategories": [row_json(r, agency=False) for r in report.subcategories],
        "trend": {
            "granularity": report.trend.granularity,
            "points": [
                {
                    "from": p.start_day.isoformat(),
                    "to": p.end_day.isoformat(),
                    "submitted": p.submitted,
                    "closed": p.closed,
                }
                for p in report.trend.points
            ],
        },
    }


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


def reprimand_json(r: Reprimand) -> dict[str, Any]:
    return {
        "id": r.id,
        "agency": {"id": r.agency_id, "name": r.agency_name},
        "issued_by": {"id": r.issued_by, "name": r.issued_by_name},
        "text": r.text,
        "created_at": iso(r.created_at),
        "acknowledged": r.acknowledged,
        "acknowledged_by": (
            {"id": r.acknowledged_by, "name": r.acknowledged_by_name}
            if r.acknowledged_by is not None
            else None
        ),
        "acknowledged_at": iso(r.acknowledged_at),
        "response": r.response,
        "messages": [
            {
                "id": m.id,
                "ticket": m.ticket,
                "subject": m.subject,
                "status": m.status,
                "hidden": m.hidden,
            }
            for m in r.messages
        ],
    }


# ----------------------------------------------------------------------------- pages


def _report_page(
    request: Req,
    *,
    report: Report | None,
    form: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response[str]:
    t = translator(request)
    values: dict[str, Any] = {
        "report": report,
        "form": form,
        "errors": errors or {},
        "buckets": buckets(t),
        "statuses": STATUS_BUCKETS,
        "agency_name": lambda r: agency_name(t, r),
        "category_name": lambda r: category_name(t, r),
        "subcategory_name": lambda r: subcategory_name(t, r),
        "duration": lambda m: duration_text(t, m),
        "chart": None,
        "link": None,
        "export_query": "",
        "reprimands_link": None,
    }
    if report is not None:
        rng = report.range
        labels = [
            p.start_day.strftime("%Y-%m")
            if report.trend.granularity == "month"
            else p.start_day.strftime("%d/%m")
            for p in report.trend.points
        ]
        values.update(
            chart=layout(report.trend, labels),
            link=drill_link(rng),
            export_query=urlencode(
                {"from": rng.start_day.isoformat(), "to": rng.end_day.isoformat()}
            ),
            reprimands_link=lambda agency: (
                "/reprimands?"
                + urlencode(
                    {
                        "agency": str(agency),
                        "from": rng.start_day.isoformat(),
                        "to": rng.end_day.isoformat(),
                    }
                )
            ),
        )
    return render(request, "evaluator/report.html", values, status_code=status_code)


@get("/evaluator", include_in_schema=False)
async def report_page(request: Req) -> Response[str]:
    """The report for a date range (default: the current year)."""
    require_permission(request, EVALUATE)
    svc = service(request)
    q = _query(request)
    form = {"from": q["from"] or "", "to": q["to"] or ""}
    try:
        rng = svc.parse_range(q["from"], q["to"])
    except Invalid as exc:
        return _report_page(
            request, report=None, form=form, errors=form_errors(request, exc), status_code=422
        )
    report = await svc.report(context(request), rng)
    form = {"from": rng.start_day.isoformat(), "to": rng.end_day.isoformat()}
    return _report_page(request, report=report, form=form)


async def _drill_filter(request: Req) -> DrillFilter:
    svc = service(request)
    q = _query(request)
    rng = svc.parse_range(q["from"], q["to"])
    return parse_drill(q, rng)


@get("/evaluator/messages", include_in_schema=False)
async def messages_page(request: Req) -> Response[str]:
    """The messages behind one count of the report."""
    require_permission(request, EVALUATE)
    t = translator(request)
    q = _query(request)
    try:
        flt = await _drill_filter(request)
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
            "local": lambda v: _local(v, _tz(request)),
        },
    )


@get("/evaluator/report.csv", include_in_schema=False)
async def report_csv(request: Req) -> Response[bytes]:
    return await _report_export(request, "csv")


@get("/evaluator/report.xlsx", include_in_schema=False)
async def report_xlsx(request: Req) -> Response[bytes]:
    return await _report_export(request, "xlsx")


async def _report_export(request: Req, kind: str) -> Response[bytes]:
    require_permission(request, EVALUATE)
    svc = service(request)
    q = _query(request)
    rng = svc.parse_range(q["from"], q["to"])
    report = await svc.report(context(request), rng)
    sheets = report_sheets(translator(request), report)
    return _download(kind, sheets, f"evaluasi-{_range_name(rng)}.{kind}")


@get("/evaluator/messages.csv", include_in_schema=False)
async def messages_csv(request: Req) -> Response[bytes]:
    return await _messages_export(request, "csv")


@get("/evaluator/messages.xlsx", include_in_schema=False)
async def messages_xlsx(request: Req) -> Response[bytes]:
    return await _messages_export(request, "xlsx")


async def _messages_export(request: Req, kind: str) -> Response[bytes]:
    require_permission(request, EVALUATE)
    flt = await _drill_filter(request)
    rows = await service(request).drill_all(context(request), flt, EXPORT_MAX_ROWS)
    sheet = drill_sheet(translator(request), rows, _tz(request))
    return _download(kind, [sheet], f"evaluasi-pesan-{_range_name(flt.range)}.{kind}")


def _agency_param(request: Req, value: str | None) -> int:
    agency_id = query_int(value, "agency")
    if agency_id is None:
        raise Invalid.field("agency", "agency_required", "Choose an agency.")
    return agency_id


async def _reprimand_form(
    request: Req,
    agency_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> Response[str]:
    svc = service(request)
    ctx = context(request)
    agency = await svc.agency(ctx, agency_id)
    overdue = await svc.overdue_messages(ctx, agency_id)
    return render(
        request,
        "evaluator/reprimand_form.html",
        {
            "agency": agency,
            "overdue": overdue,
            "form": form or {"message_ids": [], "text": ""},
            "errors": errors or {},
            "form_error": form_error,
            "text_max": TEXT_MAX,
            "buckets": buckets(translator(request)),
            "local": lambda v: _local(v, _tz(request)),
        },
        status_code=status_code,
    )


@get("/evaluator/reprimands/new", include_in_schema=False)
async def reprimand_new(request: Req) -> Response[str]:
    """The form: the agency's overdue messages with check boxes, and the text."""
    require_permission(request, EVALUATE)
    agency_id = _agency_param(request, request.query_params.get("agency"))
    return await _reprimand_form(request, agency_id)


@post("/evaluator/reprimands", include_in_schema=False)
async def reprimand_create(request: Req) -> Response[Any]:
    """Issue a reprimand from the form; re-show it with the errors."""
    require_permission(request, EVALUATE)
    form = await request.form()
    agency_raw = form.get("agency_id")
    agency_id = _agency_param(request, agency_raw if isinstance(agency_raw, str) else None)
    ids = [v for v in form.getall("message_ids") if isinstance(v, str)]
    text = form.get("text")
    text = text if isinstance(text, str) else ""
    try:
        await service(request).issue(context(request), agency_id, ids, text)
    except Invalid as exc:
        return await _reprimand_form(
            request,
            agency_id,
            form={"message_ids": ids, "text": text},
            errors=form_errors(request, exc),
            form_error=translator(request)("Please correct the marked fields."),
            status_code=422,
        )
    return redirect(request, f"/reprimands?agency={agency_id}", flash="saved")


async def _reprimands_page(
    request: Req,
    *,
    errors: dict[int, dict[str, list[str]]] | None = None,
    form_error: tuple[int, str] | None = None,
    form: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response[str]:
    actor = require_actor(request)
    svc = service(request)
    if not svc.may_see_reprimands(actor):
        raise NotAllowed("You are not allowed to do this.", code="forbidden")
    evaluator = svc.is_evaluator(actor)
    agency_filter = query_int(request.query_params.get("agency"), "agency") if evaluator else None
    issued_in = _issued_in(request, svc)
    page = await svc.list(
        context(request),
        agency_id=agency_filter,
        issued_in=issued_in,
        cursor=request.query_params.get("cursor"),
    )
    filter_query: dict[str, str] = {}
    if agency_filter:
        filter_query["agency"] = str(agency_filter)
    if issued_in is not None:
        filter_query["from"] = issued_in.start_day.isoformat()
        filter_query["to"] = issued_in.end_day.isoformat()
    return render(
        request,
        "evaluator/reprimands.html",
        {
            "reprimands": page.items,
            "next_cursor": page.next_cursor,
            "agency_filter": agency_filter,
            "issued_in": issued_in,
            "filter_query": urlencode(filter_query),
            "evaluator": evaluator,
            "can_acknowledge": lambda r: svc.may_acknowledge(actor, r),
            "ack_errors": errors or {},
            "ack_error": form_error,
            "ack_form": form or {},
            "text_max": TEXT_MAX,
            "local": lambda v: _local(v, _tz(request)),
            "buckets": buckets(translator(request)),
        },
        status_code=status_code,
    )


def _issued_in(request: Req, svc: EvaluatorService) -> DateRange | None:
    """``?from=&to=``: only the reprimands issued in that range (the report's
    count links here with its range); neither given: every reprimand."""
    raw_from = request.query_params.get("from")
    raw_to = request.query_params.get("to")
    if not (raw_from or "").strip() and not (raw_to or "").strip():
        return None
    return svc.parse_range(raw_from, raw_to)


@get("/reprimands", include_in_schema=False)
async def reprimands_page(request: Req) -> Response[str]:
    """Operators: their agency's reprimands (to acknowledge); evaluators: all."""
    return await _reprimands_page(request)


@post("/reprimands/{reprimand_id:int}/acknowledge", include_in_schema=False)
async def acknowledge_page(request: Req, reprimand_id: FromPath[int]) -> Response[Any]:
    """An operator of the agency acknowledges a reprimand with a response (once)."""
    require_actor(request)
    form = await request.form()
    response = form.get("response")
    response = response if isinstance(response, str) else ""
    svc = service(request)
    try:
        await svc.acknowledge(context(request), reprimand_id, response)
    except Invalid as exc:
        return await _reprimands_page(
            request,
            errors={reprimand_id: form_errors(request, exc)},
            form={reprimand_id: response},
            status_code=422,
        )
    except Conflict as exc:
        return await _reprimands_page(
            request, form_error=(reprimand_id, translator(request).error(exc)), status_code=409
        )
    return redirect(request, "/reprimands", flash="saved")


# ----------------------------------------------------------------------------- API


def _api_evaluator(request: Req) -> Context:
    actor = api_require_actor(request)
    core(request).deps.policy.require(actor, EVALUATE)
    return context(request)


@get(f"{API}/evaluator/report", tags=["evaluator"], summary="Evaluation report")
async def report_api(request: Req) -> dict[str, Any]:
    """Evaluators: counts by status bucket per agency, category and sub-category,
    overdue counts, median times, ratings, reprimands and the trend, for messages
    submitted in ``[from, to)`` (``YYYY-MM-DD``, local days; default the current year)."""
    ctx = _api_evaluator(request)
    svc = service(request)
    q = _query(request)
    rng = svc.parse_range(q["from"], q["to"])
    return report_json(await svc.report(ctx, rng))


@get(f"{API}/evaluator/messages", tags=["evaluator"], summary="Messages behind a count")
async def messages_api(request: Req) -> dict[str, Any]:
    """Evaluators: the messages behind one count of the report (``from``, ``to``,
    ``agency``, ``category``, ``subcategory`` — an id or ``none`` —, ``status``,
    ``overdue``), newest first, cursor-paginated."""
    ctx = _api_evaluator(request)
    flt = await _drill_filter(request)
    page = await service(request).drill(
        ctx,
        flt,
        cursor=request.query_params.get("cursor"),
        limit=query_limit(request.query_params.get("limit")),
    )
    return {"items": [drill_json(r) for r in page.items], "next_cursor": page.next_cursor}


@post(f"{API}/evaluator/reprimands", tags=["evaluator"], summary="Issue a reprimand")
async def reprimand_api(request: Req) -> dict[str, Any]:
    """Evaluators: ``{"agency_id", "message_ids": [...], "text"}`` → 201; every
    message must be one of the agency's currently overdue messages."""
    ctx = _api_evaluator(request)
    body = await json_body(request)
    reprimand = await service(request).issue(
        ctx, body.get("agency_id"), body.get("message_ids"), body.get("text")
    )
    return reprimand_json(reprimand)


@get(f"{API}/reprimands", tags=["evaluator"], summary="Reprimands")
async def reprimands_api(request: Req) -> dict[str, Any]:
    """Operators: their agency's reprimands; evaluators: all (``?agency=``). Newest first."""
    actor = api_require_actor(request)
    svc = service(request)
    if not svc.may_see_reprimands(actor):
        raise NotAllowed("You are not allowed to do this.", code="forbidden")
    agency = query_int(request.query_params.get("agency"), "agency")
    page = await svc.list(
        context(request),
        agency_id=agency,
        issued_in=_issued_in(request, svc),
        cursor=request.query_params.get("cursor"),
        limit=query_limit(request.query_params.get("limit")),
    )
    return {"items": [reprimand_json(r) for r in page.items], "next_cursor": page.next_cursor}


@post(
    f"{API}/reprimands/{{reprimand_id:int}}/acknowledge",
    tags=["evaluator"],
    summary="Acknowledge a reprimand",
    status_code=200,
)
async def acknowledge_api(request: Req, reprimand_id: FromPath[int]) -> dict[str, Any]:
    """An operator of the agency: ``{"response"}``; 409 when already acknowledged."""
    api_require_actor(request)
    body = await json_body(request)
    reprimand = await service(request).acknowledge(
        context(request), reprimand_id, body.get("response")
    )
    return reprimand_json(reprimand)


ROUTE_HANDLERS = [
    report_page,
    messages_page,
    report_csv,
    report_xlsx,
    messages_csv,
    messages_xlsx,
    reprimand_new,
    reprimand_create,
    reprimands_page,
    acknowledge_page,
    report_api,
    messages_api,
    reprimand_api,
    reprimands_api,
    acknowledge_api,
]
