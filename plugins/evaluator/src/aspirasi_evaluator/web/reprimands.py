"""Reprimands (teguran): the form that issues one, the list operators answer
from, and their JSON API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.params import FromPath

from aspirasi_core.domain.errors import Conflict, Invalid, NotAllowed
from aspirasi_web.api.common import API, iso, json_body, query_int, query_limit
from aspirasi_web.api.common import require_actor as api_require_actor
from aspirasi_web.context import context, require_actor, require_permission, translator
from aspirasi_web.templating import form_errors, redirect, render

from .. import EVALUATE
from ..escalation import escalations
from ..period import DateRange
from ..reprimand_service import ReprimandService
from ..reprimands import ESCALATION_DAYS, REASONS, TEXT_MAX, Reprimand
from ..service import EvaluatorService
from .common import Req, api_evaluator, buckets, service


def reprimand_service(request: Req) -> ReprimandService:
    return ReprimandService(service(request))


def reprimand_json(r: Reprimand) -> dict[str, Any]:
    return {
        "id": r.id,
        "agency": {"id": r.agency_id, "name": r.agency_name},
        "issued_by": {"id": r.issued_by, "name": r.issued_by_name},
        "text": r.text,
        "reason": r.reason,
        "level": r.level,
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
                "overdue": m.overdue,
            }
            for m in r.messages
        ],
    }


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
    open_messages = await svc.open_messages(ctx, agency_id)
    return render(
        request,
        "evaluator/reprimand_form.html",
        {
            "agency": agency,
            "open_messages": open_messages,
            "reasons": REASONS,
            "form": form or {"message_ids": [], "text": "", "reason": ""},
            "errors": errors or {},
            "form_error": form_error,
            "text_max": TEXT_MAX,
            "buckets": buckets(translator(request)),
        },
        status_code=status_code,
    )


@get("/evaluator/reprimands/new", include_in_schema=False)
async def reprimand_new(request: Req) -> Response[str]:
    """The form: the agency's open messages (overdue ones first and marked) with
    check boxes, the reason and the text."""
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
    reason = form.get("reason")
    reason = reason if isinstance(reason, str) else ""
    try:
        issued = await reprimand_service(request).issue(
            context(request), agency_id, ids, text, reason
        )
    except Invalid as exc:
        return await _reprimand_form(
            request,
            agency_id,
            form={"message_ids": ids, "text": text, "reason": reason},
            errors=form_errors(request, exc),
            form_error=translator(request)("Please correct the marked fields."),
            status_code=422,
        )
    return redirect(
        request,
        f"/reprimands?agency={agency_id}",
        flash="reprimand_sent",
        name=issued.agency_name,
    )


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
    cases = ReprimandService(svc)
    page = await cases.list(
        context(request),
        agency_id=agency_filter,
        issued_in=issued_in,
        cursor=request.query_params.get("cursor"),
    )
    # Where the agencies stand: the reprimands of the period and their level.
    standing = await svc.aspirasi.read(
        lambda tx: escalations(
            tx, svc.aspirasi.clock.now(), agency_filter if evaluator else actor.agency_id
        )
    )
    filter_query: dict[str, str] = {}
    if agency_filter:
        filter_query["agency"] = str(agency_filter)
    if issued_in is not None:
        filter_query.update(issued_in.query())
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
            "can_acknowledge": lambda r: cases.may_acknowledge(actor, r),
            "ack_errors": errors or {},
            "ack_error": form_error,
            "ack_form": form or {},
            "escalation_days": ESCALATION_DAYS,
            "escalations": standing,
            "text_max": TEXT_MAX,
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
        await ReprimandService(svc).acknowledge(context(request), reprimand_id, response)
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


@post(f"{API}/evaluator/reprimands", tags=["evaluator"], summary="Issue a reprimand")
async def reprimand_api(request: Req) -> dict[str, Any]:
    """Evaluators: ``{"agency_id", "message_ids": [...], "text", "reason"}`` → 201;
    every message must be one of the agency's open messages; ``reason`` one of
    ``overdue`` (the default), ``not_followed_up``, ``poor_answer``, ``other``."""
    ctx = api_evaluator(request)
    body = await json_body(request)
    reprimand = await reprimand_service(request).issue(
        ctx,
        body.get("agency_id"),
        body.get("message_ids"),
        body.get("text"),
        body.get("reason", "overdue"),
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
    page = await ReprimandService(svc).list(
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
    reprimand = await reprimand_service(request).acknowledge(
        context(request), reprimand_id, body.get("response")
    )
    return reprimand_json(reprimand)
