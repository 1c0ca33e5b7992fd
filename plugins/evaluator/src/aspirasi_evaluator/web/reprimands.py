"""Reprimands (teguran): the form that issues one, the list operators answer
from, and their JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED

from aspirasi_core.domain.errors import Conflict, Invalid, NotAllowed
from aspirasi_core.domain.model import Status
from aspirasi_core.domain.validation import MAX_ID
from aspirasi_web.api.bodies import Body, number, one_of
from aspirasi_web.api.bodies import text as bounded_text
from aspirasi_web.api.common import (
    API,
    LINKS_TO,
    Limit,
    QueryId,
    problems,
    query_int,
    query_limit,
    strict_int,
)
from aspirasi_web.api.shapes import Page, utc
from aspirasi_web.context import context, require_actor, translator
from aspirasi_web.guards import requires, signed_in
from aspirasi_web.templating import form_errors, redirect, render

from .. import EVALUATE
from ..escalation import escalations
from ..period import DateRange
from ..reprimand_service import ReprimandService
from ..reprimands import ESCALATION_DAYS, MESSAGES_MAX, REASONS, TEXT_MAX, Reprimand
from ..service import EvaluatorService
from .common import DayFrom, DayTo, Ref, Req, Shape, buckets, service


def reprimand_service(request: Req) -> ReprimandService:
    return ReprimandService(service(request))


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


@get("/evaluator/reprimands/new", guards=[requires(EVALUATE)], include_in_schema=False)
async def reprimand_new(request: Req) -> Response[str]:
    """The form: the agency's open messages (overdue ones first and marked) with
    check boxes, the reason and the text."""
    agency_id = _agency_param(request, request.query_params.get("agency"))
    return await _reprimand_form(request, agency_id)


@post("/evaluator/reprimands", guards=[requires(EVALUATE)], include_in_schema=False)
async def reprimand_create(request: Req) -> Response[Any]:
    """Issue a reprimand from the form; re-show it with the errors."""
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
    if not raw_from and not raw_to:
        return None
    return svc.parse_range(raw_from, raw_to)


@get("/reprimands", guards=[signed_in], include_in_schema=False)
async def reprimands_page(request: Req) -> Response[str]:
    """Operators: their agency's reprimands (to acknowledge); evaluators: all."""
    return await _reprimands_page(request)


@post("/reprimands/{reprimand_id:int}/acknowledge", guards=[signed_in], include_in_schema=False)
async def acknowledge_page(request: Req, reprimand_id: FromPath[int]) -> Response[Any]:
    """An operator of the agency acknowledges a reprimand with a response (once)."""
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


class ReprimandBody(Body):
    """A reprimand: the agency, some of its open messages, the reason and the text."""

    agency_id: Annotated[
        int | str | None,
        number(
            1,
            MAX_ID,
            "The agency's id (a digit string is deprecated: send a number).",
            required=True,
        ),
    ] = None
    message_ids: Annotated[
        list[int | str] | int | str,
        Parameter(
            description="Open messages of the agency: a list of ids (digit strings, or"
            " one id not in a list, are deprecated).",
            min_items=1,
            max_items=MESSAGES_MAX,
            required=True,
        ),
    ] = msgspec.field(default_factory=list)
    text: Annotated[str, bounded_text(TEXT_MAX, required=True)] = ""
    reason: Annotated[str, one_of(tuple(REASONS), "Why (default ``overdue``).", nullable=False)] = (
        "overdue"
    )

    def check_digit_strings(self) -> None:
        """The old spelling is an id's plain digits (:func:`strict_int`): `` 5``,
        ``05`` or ``５`` are refused (422 ``bad_number``), as in a path or a query;
        ``""`` stays the missing value it was."""
        ids = self.message_ids if isinstance(self.message_ids, list) else [self.message_ids]
        for field, values in (("agency_id", [self.agency_id]), ("message_ids", ids)):
            for value in values:
                if isinstance(value, str) and value != "":
                    strict_int(value, field)

    def deprecated(self) -> bool:
        """Are ids sent as digit strings (the old spelling, still read)?"""
        ids = self.message_ids
        return (
            isinstance(self.agency_id, str)
            or not isinstance(ids, list)
            or any(isinstance(i, str) for i in ids)
        )


class AcknowledgeBody(Body):
    """An operator's response to a reprimand."""

    response: Annotated[str, bounded_text(TEXT_MAX, required=True)] = ""


class MessageRefOut(Shape):
    """A message a reprimand names; ``hidden`` (only the ticket) for an operator
    of another agency than the message's current one."""

    id: int | None
    ticket: str
    subject: str | None
    status: Status | None
    hidden: bool
    overdue: bool


class ReprimandOut(Shape):
    """A reprimand."""

    id: int
    agency: Ref
    issued_by: Ref
    text: str
    reason: str
    level: int
    created_at: datetime | None
    acknowledged: bool
    acknowledged_by: Ref | None
    acknowledged_at: datetime | None
    response: str | None
    messages: list[MessageRefOut]


def reprimand_json(r: Reprimand) -> ReprimandOut:
    """The API shape of a reprimand."""
    return ReprimandOut(
        id=r.id,
        agency=Ref(id=r.agency_id, name=r.agency_name),
        issued_by=Ref(id=r.issued_by, name=r.issued_by_name),
        text=r.text,
        reason=r.reason,
        level=r.level,
        created_at=utc(r.created_at),
        acknowledged=r.acknowledged,
        acknowledged_by=(
            Ref(id=r.acknowledged_by, name=r.acknowledged_by_name)
            if r.acknowledged_by is not None
            else None
        ),
        acknowledged_at=utc(r.acknowledged_at),
        response=r.response,
        messages=[
            MessageRefOut(
                id=m.id,
                ticket=m.ticket,
                subject=m.subject,
                status=Status(m.status) if m.status else None,
                hidden=m.hidden,
                overdue=m.overdue,
            )
            for m in r.messages
        ],
    )


@post(
    f"{API}/evaluator/reprimands",
    guards=[requires(EVALUATE)],
    tags=["evaluator"],
    summary="Issue a reprimand",
    status_code=HTTP_201_CREATED,
    opt={LINKS_TO: f"{API}/reprimands"},
    response_headers=[
        ResponseHeader(
            name="Deprecation",
            description="`true` when ids were sent as digit strings (still read, for now).",
            documentation_only=True,
        )
    ],
)
async def reprimand_api(request: Req, data: JSONBody[ReprimandBody]) -> Response[ReprimandOut]:
    """Evaluators: ``{"agency_id", "message_ids": [...], "text", "reason"}`` → 201;
    every message must be one of the agency's open messages; ``reason`` one of
    ``overdue`` (the default), ``not_followed_up``, ``poor_answer``, ``other``.
    Ids sent as digit strings (plain digits only) are still read, with a
    ``Deprecation`` header."""
    data.check_digit_strings()
    reprimand = await reprimand_service(request).issue(
        context(request), data.agency_id, data.message_ids, data.text, data.reason
    )
    headers = {"Deprecation": "true"} if data.deprecated() else None
    return Response(reprimand_json(reprimand), status_code=HTTP_201_CREATED, headers=headers)


@get(f"{API}/reprimands", guards=[signed_in], tags=["evaluator"], summary="Reprimands")
async def reprimands_api(
    request: Req,
    agency: QueryId = None,
    date_from: DayFrom = None,
    date_to: DayTo = None,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
) -> Page[ReprimandOut]:
    """Operators: their agency's reprimands; evaluators: all (``?agency=``), or those
    issued from ``from`` to ``to``. Newest first. Others: 403."""
    actor = require_actor(request)
    svc = service(request)
    if not svc.may_see_reprimands(actor):
        raise NotAllowed("You are not allowed to do this.", code="forbidden")
    agency_id = query_int(agency, "agency")
    issued_in = None if not date_from and not date_to else svc.parse_range(date_from, date_to)
    page = await ReprimandService(svc).list(
        context(request),
        agency_id=agency_id,
        issued_in=issued_in,
        cursor=cursor,
        limit=query_limit(limit),
    )
    return Page(items=[reprimand_json(r) for r in page.items], next_cursor=page.next_cursor)


@post(
    f"{API}/reprimands/{{reprimand_id:int}}/acknowledge",
    guards=[signed_in],
    tags=["evaluator"],
    summary="Acknowledge a reprimand",
    status_code=200,
    responses=problems(409),
)
async def acknowledge_api(
    request: Req, reprimand_id: FromPath[int], data: JSONBody[AcknowledgeBody]
) -> ReprimandOut:
    """An operator of the agency: ``{"response"}``; 409 when already acknowledged."""
    reprimand = await reprimand_service(request).acknowledge(
        context(request), reprimand_id, data.response
    )
    return reprimand_json(reprimand)
