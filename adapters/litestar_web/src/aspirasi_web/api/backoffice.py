"""Back office: ``/api/v1/backoffice/messages``, the directory its filters and
forwards choose from (``/api/v1/backoffice/directory``), the workflow commands
(forward, reject, start, progress, reply: each a path onto the one transition
use case, ``MessageService.act``) and ``/api/v1/notifications``."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

from litestar import Request, Response, get, post
from litestar.openapi.spec import OpenAPIType
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from aspirasi_core.domain.model import Message
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import Context

from ..context import Core, Ctx, CurrentTranslator, context, core
from ..filters import SORTS, STATUSES, MessageFilter
from ..guards import BACKOFFICE, requires
from ..idempotency import IdempotencyKey, IfMatch, api_call, parse_version
from ..invalid import typed
from .bodies import NO_NOTE, ForwardBody, NoteBody, RejectBody, ReplyForm, fields_of
from .common import (
    API,
    JSON_VARIANT,
    Flag,
    Limit,
    QueryDay,
    QueryId,
    json_body,
    query_flag,
    query_limit,
    read_uploads,
)
from .message_shapes import MessageSummary, message_summary
from .openapi import problems
from .shapes import (
    DirectoryOut,
    NotificationOut,
    Page,
    directory_json,
    notification_json,
    page_of,
)

TAGS = ["backoffice"]
#: Who may ever use a route (the core checks the message's scope again):
#: others get 401/403 before the body is read.
CLASSIFY = [requires(Perm.MESSAGE_CLASSIFY)]
HANDLE = [requires(Perm.MESSAGE_HANDLE)]
NOTIFIED = [requires(Perm.NOTIFICATIONS)]

#: The OpenAPI descriptions of the workflow commands (who may read each text, and
#: its default: docs/core.md, "Texts for the sender").
FORWARD_DOC = (
    "Admin. Body ``{category_id, subcategory_id, agency_id, note?, visibility?}`` → "
    "``forwarded`` (on a ``forwarded`` message: re-forward to another agency). ``visibility`` "
    'says who may read the note: ``"internal"`` (default: the staff with access to the '
    'message) or ``"sender"`` (the citizen too, on their page, in the log and the e-mail). '
    "Public tracking never shows it."
)

REJECT_DOC = (
    "Admin. Body ``{reason, visibility?}`` → ``rejected``. ``visibility``: who may read the "
    'reason, ``"sender"`` (default: the citizen sees why) or ``"internal"`` (the staff only).'
)

START_DOC = (
    "Operator of the agency. Body ``{note?, visibility?}`` (may be empty) → ``in_progress``. "
    '``visibility``: who may read the note, ``"sender"`` (default) or ``"internal"`` (the '
    "staff only)."
)

PROGRESS_DOC = (
    "Operator of the agency. Body ``{note, visibility?}``: a log entry. ``visibility``: who "
    'may read the note, ``"sender"`` (default: the citizen sees the progress) or '
    '``"internal"`` (the staff only).'
)

REPLY_DOC = (
    "Operator of the agency. multipart ``answer`` + ``attachment`` (PDF, optional) + "
    "``visibility`` (optional) → ``done``. A JSON ``{answer, visibility?}`` is accepted too. "
    '``visibility``: who may read the answer and its file, ``"sender"`` (default) or '
    '``"internal"`` (the staff only; the citizen then sees the message done without an '
    "answer)."
)


#: The list's ``status`` and ``sort``, documented with their values (read by
#: :class:`MessageFilter`, which answers 422 ``status_unknown``/``sort_unknown``).
FilterStatus: TypeAlias = Annotated[
    str | None,
    Parameter(schema_extra={"oneOf": None, "type": OpenAPIType.STRING, "enum": list(STATUSES)}),
]
FilterSort: TypeAlias = Annotated[
    str | None,
    Parameter(schema_extra={"oneOf": None, "type": OpenAPIType.STRING, "enum": list(SORTS)}),
]


@get(
    f"{API}/backoffice/messages",
    guards=BACKOFFICE,
    tags=TAGS,
    summary="Back-office list",
)
async def backoffice_messages(
    request: Request[Any, Any, Any],
    status: FilterStatus = None,
    agency_id: QueryId = None,
    category_id: QueryId = None,
    subcategory_id: QueryId = None,
    q: FromQuery[str | None] = None,
    date_from: QueryDay = None,
    date_to: QueryDay = None,
    overdue: Flag = None,
    sort: FilterSort = None,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
    regency: FromQuery[str | None] = None,
) -> Page[MessageSummary]:
    """Every message for admins, the agency's for operators. ``date_from`` and
    ``date_to`` are days (YYYY-MM-DD, both included) in the province's time zone.
    ``overdue=true``: only the messages past their SOP deadline; ``sort=due``: the
    open messages, earliest deadline first (default ``newest``). ``regency``: only
    the messages located in that regency or city (its code in ``GET
    /api/v1/regions``; another code: 422 ``regency_unknown``). Each item has
    ``due_at`` (null once final) and ``overdue``. The filter is read as the list
    page reads it: 422 names every bad field."""
    # A benchmarked hot path: the request's helpers, no dependencies to resolve.
    app = core(request)
    flt = MessageFilter.from_query(
        {
            "status": status,
            "agency_id": agency_id,
            "category_id": category_id,
            "subcategory_id": subcategory_id,
            "q": q,
            "date_from": date_from,
            "date_to": date_to,
            "overdue": overdue,
            "sort": sort,
            "regency": regency,
        }
    )
    result = await app.queries.backoffice(
        context(request),
        flt.query(app.deps.settings.timezone),
        cursor=cursor,
        limit=query_limit(limit),
    )
    now = app.deps.clock.now()
    return page_of(result, lambda m: message_summary(m, now))


@get(
    f"{API}/backoffice/directory",
    guards=BACKOFFICE,
    tags=TAGS,
    summary="Back-office directory",
)
async def backoffice_directory(core: Core, ctx: Ctx, include_inactive: Flag = None) -> DirectoryOut:
    """Whoever may read ``GET /api/v1/backoffice/messages`` (admins, operators):
    the ``category_id``, ``subcategory_id`` and ``agency_id`` a forward takes
    and the list filters by. ``categories``: every category (categories are
    never deactivated), each with its ``subcategories`` by name; ``agencies`` by
    name. By default only the active sub-categories and agencies, what a forward
    accepts (it refuses a deactivated one with 422). ``include_inactive=true``
    adds the deactivated ones, marked ``"is_active": false``, to name or filter
    older messages."""
    found = await core.admin.staff_directory(
        ctx, include_inactive=query_flag(include_inactive, "include_inactive")
    )
    return directory_json(found)


def _moved(request: Request[Any, Any, Any], message: Message) -> MessageSummary:
    return message_summary(message, core(request).deps.clock.now())


async def _change(
    request: Request[Any, Any, Any],
    key: str | None,
    data: dict[str, Any],
    call: Any,
) -> Response[MessageSummary]:
    """A workflow step: the moved message's summary, once per ``Idempotency-Key``."""
    return await api_call(request, key, data, call, lambda m: _moved(request, m), HTTP_200_OK)


async def _act(
    request: Request[Any, Any, Any],
    message_id: int,
    key: str | None,
    if_match: str | None,
    action: str,
    data: dict[str, Any],
    fields: Any,
) -> Response[MessageSummary]:
    """``messages.act(ctx, id, action, **fields(), expected_version=…)``, the
    version from ``If-Match``; ``fields`` runs in the call."""
    expected = parse_version(if_match)

    async def call(ctx: Context) -> Message:
        return await core(request).messages.act(
            ctx, message_id, action, expected_version=expected, **fields()
        )

    return await _change(request, key, data, call)


@post(
    f"{API}/messages/{{message_id:int}}/forward",
    guards=CLASSIFY,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Forward",
    description=FORWARD_DOC,
    responses=problems(409),
)
async def forward(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    data: JSONBody[ForwardBody],
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[MessageSummary]:
    """Admin: classify and forward, or re-forward (``FORWARD_DOC`` is its OpenAPI description)."""
    fields = fields_of(data)
    return await _act(
        request, message_id, idempotency_key, if_match, "forward", fields, lambda: fields
    )


@post(
    f"{API}/messages/{{message_id:int}}/reject",
    guards=CLASSIFY,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Reject",
    description=REJECT_DOC,
    responses=problems(409),
)
async def reject(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    data: JSONBody[RejectBody],
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[MessageSummary]:
    """Admin: reject (``REJECT_DOC`` is its OpenAPI description)."""
    fields = fields_of(data)
    return await _act(
        request, message_id, idempotency_key, if_match, "reject", fields, lambda: fields
    )


@post(
    f"{API}/messages/{{message_id:int}}/start",
    guards=HANDLE,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Confirm",
    description=START_DOC,
    responses=problems(409),
)
async def start(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    data: JSONBody[NoteBody] = NO_NOTE,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[MessageSummary]:
    """Operator: confirm (``START_DOC`` is its OpenAPI description)."""
    fields = fields_of(data)
    return await _act(
        request, message_id, idempotency_key, if_match, "start", fields, lambda: fields
    )


@post(
    f"{API}/messages/{{message_id:int}}/progress",
    guards=HANDLE,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Progress update",
    description=PROGRESS_DOC,
    responses=problems(409),
)
async def progress(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    data: JSONBody[NoteBody],
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[MessageSummary]:
    """Operator: a progress update (``PROGRESS_DOC`` is its OpenAPI description)."""
    fields = fields_of(data)
    return await _act(
        request, message_id, idempotency_key, if_match, "progress", fields, lambda: fields
    )


@post(
    f"{API}/messages/{{message_id:int}}/reply",
    guards=HANDLE,
    opt={JSON_VARIANT: lambda request: reply_json(request)},
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Reply",
    description=REPLY_DOC,
    responses=problems(409),
)
async def reply(
    request: Request[Any, Any, Any],
    message_id: FromPath[int],
    data: MultipartBody[ReplyForm],
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[MessageSummary]:
    """Operator: reply and close (``REPLY_DOC`` is its OpenAPI description)."""
    files = await read_uploads([data.attachment] if data.attachment else [])
    fields = {**fields_of(data), "attachment": files[0] if files else None}
    return await _act(
        request, message_id, idempotency_key, if_match, "reply", fields, lambda: fields
    )


async def reply_json(request: Request[Any, Any, Any]) -> Response[MessageSummary]:
    """:func:`reply` for a JSON body (no file)."""
    data = typed(request, await json_body(request), ReplyForm)
    headers = request.headers
    return await reply.fn(
        request,
        request.path_params["message_id"],
        data,
        headers.get("idempotency-key"),
        headers.get("if-match"),
    )


@get(
    f"{API}/notifications", guards=NOTIFIED, tags=["notifications"], summary="In-app notifications"
)
async def notifications(
    core: Core,
    ctx: Ctx,
    translator: CurrentTranslator,
    unread: Flag = None,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
) -> Page[NotificationOut]:
    """Staff only; newest first. ``?unread=true`` for the unread ones."""
    result = await core.notifications.list(
        ctx,
        unread_only=query_flag(unread, "unread"),
        cursor=cursor,
        limit=query_limit(limit),
    )
    t = translator
    return page_of(result, lambda n: notification_json(t, n))


@post(
    f"{API}/notifications/{{notification_id:int}}/read",
    guards=NOTIFIED,
    tags=["notifications"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Mark a notification read",
)
async def read_notification(core: Core, ctx: Ctx, notification_id: FromPath[int]) -> Response[None]:
    """Mark one of the caller's notifications read (404 for another's)."""
    await core.notifications.mark_read(ctx, notification_id)
    return Response(content=None, status_code=HTTP_204_NO_CONTENT)


ROUTES = [
    backoffice_messages,
    backoffice_directory,
    forward,
    reject,
    start,
    progress,
    reply,
    notifications,
    read_notification,
]
