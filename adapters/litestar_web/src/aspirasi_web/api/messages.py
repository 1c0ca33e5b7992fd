"""``/api/v1/messages``: submit, read, withdraw, log, attachments, rating;
``/api/v1/me/messages`` and the public lists."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from aspirasi_core.domain.model import Message, Rating
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import Context, SubmitInput

from ..context import Core, Ctx, CurrentActor, context, core
from ..guards import requires
from ..idempotency import IdempotencyKey, IfMatch, api_call, parse_version
from ..invalid import typed
from ..pages.files import file_response
from .bodies import MessageForm, RatingBody, TrackingBody, fields_of
from .common import (
    API,
    JSON_VARIANT,
    PUBLIC,
    Limit,
    json_body,
    query_limit,
    read_uploads,
)
from .message_shapes import (
    LogEntryOut,
    MessageDetailOut,
    MessageSummary,
    RatingOut,
    log_json,
    message_detail,
    message_summary,
)
from .openapi import problems
from .shapes import (
    Page,
    PublicMessageOut,
    Sent,
    TrackedOut,
    page_of,
    public_json,
    tracked_json,
    utc,
)

TAGS = ["messages"]

#: OpenAPI descriptions of the public routes (docs/core.md, "Privacy").
PUBLIC_DOC = (
    "Messages that are not confidential, with no data about their senders. NIKs, phone "
    "numbers and e-mail addresses in subject and body are masked (``6472********0001``, "
    "``0812*****890``, ``b***@***.com``); ``q`` searches the masked text, so a masked "
    "value cannot be probed for."
)
TRACKING_DOC = (
    "Body ``{nik}`` → that NIK's messages, the minimum: ``ticket``, ``created_at`` (sent), "
    "``status``, ``due_at`` (by when the next step is expected, null once final) and "
    "``log``, the dated status steps (``at``, ``from_status``, ``to_status``). ``subject`` "
    "only for a message on the public list (masked as the list shows it), else null. Never "
    "a text the staff wrote, the reply, or a confidential or anonymous message: the owner "
    "reads those after logging in. Rate-limited per address and per NIK prefix (429 with "
    "``Retry-After``)."
)


def _sent(message: Message) -> Sent:
    return Sent(id=message.id, ticket=message.ticket, status=message.status)


@post(
    f"{API}/messages",
    guards=[requires(Perm.MESSAGE_SUBMIT)],
    opt={JSON_VARIANT: lambda request: submit_json(request)},
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Send a message",
    responses=problems(409, 429),
)
async def submit(
    request: Request[Any, Any, Any],
    data: MultipartBody[MessageForm],
    idempotency_key: IdempotencyKey = None,
) -> Response[Sent]:
    """multipart/form-data ``subject``, ``body``, ``attachment`` (JPG or PDF,
    optional; repeat the part for several files, up to ``ASPIRASI_MAX_ATTACHMENTS``
    of ``ASPIRASI_MAX_UPLOAD_MB`` each: 422 ``too_many_files`` or the refused file's
    error, 413 ``too_large`` for a body past them all), ``confidential`` and
    ``anonymous`` (optional: ``true``/``1`` or ``false``/``0``, in a form in any
    case, as generated clients write ``True``/``False``; JSON booleans in a JSON
    body), and where it happened, all optional: ``regency`` and ``district``
    (Kemendagri codes of ``GET /api/v1/regions``; 422
    ``district_not_in_regency`` for a district of another regency), ``latitude``
    and ``longitude`` (WGS84 decimal degrees, both or neither; only the staff read
    them back). A JSON object ``{subject, body, confidential?, anonymous?,
    regency?, district?, latitude?, longitude?}`` without the attachment is
    accepted too. Send an
    ``Idempotency-Key`` so that a resend after a time-out cannot create a second
    message."""
    uploads = await read_uploads(data.attachment)
    fields = {**fields_of(data), "attachment": list(uploads)}

    async def call(ctx: Context) -> Message:
        return await core(request).messages.submit(
            ctx,
            SubmitInput(
                subject=data.subject,
                body=data.body,
                confidential=data.confidential,
                anonymous=data.anonymous,
                attachments=uploads,
                regency=data.regency,
                district=data.district,
                latitude=data.latitude,
                longitude=data.longitude,
            ),
        )

    return await api_call(request, idempotency_key, fields, call, _sent, HTTP_201_CREATED)


async def submit_json(request: Request[Any, Any, Any]) -> Response[Sent]:
    """:func:`submit` for a JSON body (no files)."""
    data = typed(request, await json_body(request), MessageForm)
    return await submit.fn(request, data, request.headers.get("idempotency-key"))


@get(f"{API}/me/messages", tags=TAGS, summary="Own messages, newest first")
async def my_messages(
    core: Core,
    ctx: Ctx,
    actor: CurrentActor,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
) -> Page[MessageSummary]:
    """The caller's own messages, anonymous and confidential ones included,
    newest first, cursor-paginated (``next_cursor``: null on the last page)."""
    result = await core.queries.my_messages(ctx, cursor=cursor, limit=query_limit(limit))
    now = core.deps.clock.now()
    return page_of(result, lambda m: message_summary(m, now))


@get(f"{API}/messages/{{message_id:int}}", tags=TAGS, summary="One message")
async def message(
    core: Core, ctx: Ctx, actor: CurrentActor, message_id: FromPath[int]
) -> MessageDetailOut:
    """Everything the reader may see of the message: the author only where the
    reader may see them; attachments with download URLs."""
    detail = await core.queries.message(ctx, message_id)
    return message_detail(detail, actor, core.deps.clock.now())


@delete(
    f"{API}/messages/{{message_id:int}}",
    guards=[requires(Perm.MESSAGE_WITHDRAW)],
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Withdraw a message",
    responses=problems(409),
)
async def withdraw(
    core: Core, ctx: Ctx, message_id: FromPath[int], if_match: IfMatch = None
) -> None:
    """The owner withdraws a message while it is ``submitted``; else 409."""
    await core.messages.act(ctx, message_id, "withdraw", expected_version=parse_version(if_match))


@get(f"{API}/messages/{{message_id:int}}/log", tags=TAGS, summary="The status log")
async def message_log(
    core: Core, ctx: Ctx, actor: CurrentActor, message_id: FromPath[int]
) -> Page[LogEntryOut]:
    """The message's dated steps, for whoever may read the message; the staff's
    internal notes only for the staff."""
    entries = await core.queries.message_log(ctx, message_id)
    return Page(items=[log_json(e, staff=actor.is_staff) for e in entries], next_cursor=None)


@get(
    f"{API}/messages/{{message_id:int}}/attachments/{{attachment_id:int}}",
    tags=TAGS,
    summary="Download an attachment",
)
async def attachment(
    core: Core,
    ctx: Ctx,
    actor: CurrentActor,
    message_id: FromPath[int],
    attachment_id: FromPath[int],
) -> Response[Any]:
    """The file, as a download (``Content-Disposition: attachment``), only to readers:
    streamed, or a redirect to an object store's short-lived URL."""
    found = await core.queries.attachment_download(ctx, message_id, attachment_id)
    return await file_response(found, cache_control="private, no-store")


@post(
    f"{API}/messages/{{message_id:int}}/rating",
    guards=[requires(Perm.MESSAGE_RATE)],
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Rate a done message",
    responses=problems(409),
)
async def rate(
    request: Request[Any, Any, Any],
    core: Core,
    message_id: FromPath[int],
    data: JSONBody[RatingBody],
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[RatingOut]:
    """Body ``{stars: 1..5, comment}``; 409 unless ``done`` and not yet rated."""
    expected = parse_version(if_match)

    async def call(ctx: Context) -> Rating:
        return await core.messages.rate(
            ctx, message_id, data.stars, data.comment, expected_version=expected
        )

    def shape(rating: Rating) -> RatingOut:
        return RatingOut(
            id=rating.message_id,
            message_id=rating.message_id,
            stars=rating.stars,
            comment=rating.comment,
            created_at=utc(rating.created_at),
        )

    return await api_call(request, idempotency_key, fields_of(data), call, shape, HTTP_201_CREATED)


@get(
    f"{API}/public/messages",
    tags=["public"],
    summary="Public messages",
    description=PUBLIC_DOC,
    security=PUBLIC,
)
async def public_messages(
    core: Core,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
    q: FromQuery[str | None] = None,
) -> Page[PublicMessageOut]:
    """The public list (``PUBLIC_DOC`` is its OpenAPI description)."""
    result = await core.queries.public(cursor=cursor, limit=query_limit(limit), text=q)
    return page_of(result, public_json)


@post(
    f"{API}/public/tracking",
    tags=["public"],
    status_code=HTTP_200_OK,
    summary="Track by NIK",
    description=TRACKING_DOC,
    security=PUBLIC,
    responses=problems(429),
)
async def tracking(
    request: Request[Any, Any, Any], data: JSONBody[TrackingBody]
) -> Page[TrackedOut]:
    """Public tracking by NIK (``TRACKING_DOC`` is its OpenAPI description)."""
    # A benchmarked hot path: the request's helpers, no dependencies to resolve.
    found = await core(request).queries.track(context(request), data.nik)
    return Page(items=[tracked_json(m) for m in found], next_cursor=None)


ROUTES = [
    submit,
    my_messages,
    message,
    withdraw,
    message_log,
    attachment,
    rate,
    public_messages,
    tracking,
]
