"""JSON API of the work that continues (issue 22): returning a message to the
admin, follow-ups, oversight reviews and reopening. The same use cases as the
pages (:mod:`aspirasi_web.pages.followups`); typed bodies and answers, errors
problem+json. Every route needs a signed-in, verified account (401 before the
body is read); the core checks who may act on which message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from aspirasi_core.domain.followups import Followup, OversightReview, ReviewOutcome, Side
from aspirasi_core.domain.model import Message, Status
from aspirasi_core.services import Context

from ..context import context, core
from ..guards import signed_in
from ..idempotency import IdempotencyKey, IfMatch, api_call, parse_version
from .bodies import FollowupBody, ReasonStepBody, fields_of
from .common import API, Flag, query_flag
from .message_shapes import MessageSummary, message_summary
from .openapi import problems
from .shapes import Page, Shape, page_of, utc

TAGS = ["workflow"]
SIGNED_IN = [signed_in]


class FollowupOut(Shape):
    """A follow-up. ``author_id`` is null for the hidden sender of an anonymous message."""

    id: int
    side: Side
    author_id: int | None
    agency_id: int | None
    body: str
    created_at: datetime | None


class ReviewOut(Shape):
    """An oversight review, opened by a rating of 1–2 stars."""

    id: int
    message_id: int
    ticket: str | None
    subject: str | None
    agency_id: int | None
    status: Status | None
    stars: int | None
    opened_at: datetime | None
    closed_at: datetime | None
    outcome: ReviewOutcome | None


def followup_json(f: Followup) -> FollowupOut:
    """The API shape of a follow-up."""
    return FollowupOut(
        id=f.id,
        side=f.side,
        author_id=f.author_id,
        agency_id=f.agency_id,
        body=f.body,
        created_at=utc(f.created_at),
    )


def review_json(r: OversightReview) -> ReviewOut:
    """The API shape of an oversight review."""
    return ReviewOut(
        id=r.id,
        message_id=r.message_id,
        ticket=r.ticket or None,
        subject=r.subject or None,
        agency_id=r.agency_id,
        status=r.status,
        stars=r.stars,
        opened_at=utc(r.opened_at),
        closed_at=utc(r.closed_at),
        outcome=r.outcome,
    )


@get(
    f"{API}/messages/{{message_id:int}}/followups",
    guards=SIGNED_IN,
    tags=TAGS,
    summary="The follow-ups",
)
async def followups(
    request: Request[Any, Any, Any], message_id: FromPath[int]
) -> Page[FollowupOut]:
    """A readable message's follow-ups, oldest first (one page: ``next_cursor`` is null)."""
    items = await core(request).followups.thread(context(request), message_id)
    return Page(items=[followup_json(f) for f in items], next_cursor=None)


@post(
    f"{API}/messages/{{message_id:int}}/followups",
    guards=SIGNED_IN,
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Write a follow-up",
    description="The sender or the staff who handle the message, while it is open"
    ' (409 `followup_closed` once done): `{"body": "…"}`.',
    responses=problems(409),
)
async def post_followup(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    data: JSONBody[FollowupBody],
    idempotency_key: IdempotencyKey = None,
) -> Response[FollowupOut]:
    async def call(ctx: Context) -> Followup:
        return await core(request).followups.post(ctx, message_id, data.body)

    return await api_call(
        request, idempotency_key, fields_of(data), call, followup_json, HTTP_201_CREATED
    )


async def _reason_step(
    request: Request[Any, Any, Any],
    message_id: int,
    data: ReasonStepBody,
    key: str | None,
    if_match: str | None,
    action: str,
) -> Response[MessageSummary]:
    expected = parse_version(if_match)

    async def call(ctx: Context) -> Message:
        return await core(request).messages.act(
            ctx,
            message_id,
            action,
            expected_version=expected,
            reason=data.reason,
            visibility=data.visibility,
        )

    now = core(request).deps.clock.now()
    return await api_call(
        request, key, fields_of(data), call, lambda m: message_summary(m, now), HTTP_200_OK
    )


@post(
    f"{API}/messages/{{message_id:int}}/return",
    guards=SIGNED_IN,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Return to the admin",
    description='Operator: not our authority. `{"reason": "…", "visibility": "internal"}`;'
    " the message goes back to `submitted` and the admins are notified.",
    responses=problems(409),
)
async def return_to_admin(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    data: JSONBody[ReasonStepBody],
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[MessageSummary]:
    return await _reason_step(request, message_id, data, idempotency_key, if_match, "return")


@post(
    f"{API}/messages/{{message_id:int}}/reopen",
    guards=SIGNED_IN,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Reopen for the agency",
    description='Oversight (admin, evaluator), on a `done` message with an open review: `{"reason":'
    ' "…"}`; back to `in_progress` with a new reply deadline (409 `review_not_open`).',
    responses=problems(409),
)
async def reopen(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    data: JSONBody[ReasonStepBody],
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[MessageSummary]:
    return await _reason_step(request, message_id, data, idempotency_key, if_match, "reopen")


@get(f"{API}/reviews", guards=SIGNED_IN, tags=TAGS, summary="Oversight reviews")
async def reviews(
    request: Request[Any, Any, Any],
    cursor: FromQuery[str | None] = None,
    closed: Flag = None,
) -> Page[ReviewOut]:
    """Reviews opened by ratings of 1–2 stars, newest first: the open ones, or all
    with ``closed=true``."""
    show_all = query_flag(closed, "closed")
    page = await core(request).reviews.list(context(request), open_only=not show_all, cursor=cursor)
    return page_of(page, review_json)


@post(
    f"{API}/messages/{{message_id:int}}/review/dismiss",
    guards=SIGNED_IN,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Close the review, the answer stands",
    responses=problems(409),
)
async def dismiss_review(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    idempotency_key: IdempotencyKey = None,
) -> Response[ReviewOut]:
    """Evaluators: close the message's open oversight review without reopening
    the message; 409 when no review is open. Send an ``Idempotency-Key`` so that a
    resend after a time-out is answered the same."""

    async def call(ctx: Context) -> OversightReview:
        return await core(request).reviews.dismiss(ctx, message_id)

    return await api_call(request, idempotency_key, {}, call, review_json, HTTP_200_OK)


ROUTES: list[Any] = [followups, post_followup, return_to_admin, reopen, reviews, dismiss_review]
