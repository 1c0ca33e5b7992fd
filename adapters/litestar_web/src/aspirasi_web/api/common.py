"""Helpers shared by the JSON API modules: body parsing, access checks,
query parameters and the JSON shapes of SPEC.md ("Shapes the contract fixes")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, TypeAlias
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.openapi.spec import OpenAPIType
from litestar.params import Parameter

from aspirasi_core.domain.errors import FieldError, Invalid, NotAllowed, Unauthenticated
from aspirasi_core.domain.model import (
    Account,
    Actor,
    Agency,
    Attachment,
    Category,
    DayOff,
    LogEntry,
    Message,
    Notification,
    Page,
    Subcategory,
)
from aspirasi_core.domain.validation import check_day, check_id
from aspirasi_core.services import MessageDetail, PublicMessage, TrackedMessage, Upload

from ..context import core, credentials, info
from ..context import require_actor as _require_actor

API = "/api/v1"
#: OpenAPI security of routes open to anyone (the app-wide default is the bearer token).
PUBLIC: list[dict[str, list[str]]] = [{}]


def bad_body(message: str) -> Invalid:
    """The body is not a JSON object (malformed JSON or another type): 422 ``invalid_json``."""
    return Invalid(
        message, code="invalid_json", errors=[FieldError("body", "invalid_json", message)]
    )


def iso(value: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC (``2026-11-02T01:00:00Z``)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"  # "+00:00" → "Z"


def require_actor(request: Request[Any, Any, Any], *, verified: bool = True) -> Actor:
    """The signed-in actor; an invalid bearer token answers 401 ``invalid_token``."""
    if credentials(request).bad_bearer:
        raise Unauthenticated("The access token is not valid.", code="invalid_token")
    return _require_actor(request, verified=verified)


def require_staff(request: Request[Any, Any, Any]) -> Actor:
    a = require_actor(request)
    if not a.is_staff:
        raise NotAllowed("You are not allowed to do this.", code="forbidden")
    return a


def require_admin_manage(request: Request[Any, Any, Any]) -> Actor:
    a = require_actor(request)
    core(request).deps.policy.require(a, "admin.manage")
    return a


async def json_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The request body as a JSON object; anything else is a 422 ``invalid_json``."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        # Not JSON, and already read as a form before the handler (csrf.read_form_first).
        raise bad_body("The request body is not valid JSON.")
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        # Not JSON, not UTF-8, or nested deeper than the decoder goes.
        raise bad_body("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise bad_body("The request body must be a JSON object.")
    return value


async def form_or_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """A multipart/urlencoded form (files become :class:`Upload`) or a JSON object."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        out: dict[str, Any] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                out.setdefault(key, value)
                continue
            # An UploadFile; a field sent several times holds a list of files.
            upload = Upload(filename=value.filename or "", data=await value.read())
            if key not in out:
                out[key] = upload
            elif isinstance(out[key], Upload):
                out[key] = [out[key], upload]
            elif isinstance(out[key], list):
                out[key].append(upload)
        return out
    return await json_body(request)


#: A form route's ``opt`` key: ``async (request) -> Response`` answering the route's
#: JSON spelling (no files), run instead of the route for a JSON body.
JSON_VARIANT = "json_variant"


def is_json(request: Request[Any, Any, Any]) -> bool:
    """Is the body sent as JSON?"""
    return request.headers.get("content-type", "").startswith("application/json")


async def read_uploads(files: list[UploadFile]) -> tuple[Upload, ...]:
    """The files of a form, read; the empty file parts of a form left out."""
    uploads = [Upload(filename=f.filename or "", data=await f.read()) for f in files]
    return tuple(u for u in uploads if u.data or u.filename)


def text_field(data: dict[str, Any], name: str) -> Any:
    """A field meant as text; absent → ''. Other types are left for the core to refuse."""
    value = data.get(name)
    return "" if value is None else value


def upload_field(data: dict[str, Any], name: str) -> Upload | None:
    """The one file sent as ``name``; None when none was."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, list):
        raise Invalid.field(name, "one_file_only", "Send one file only.")
    if not isinstance(value, Upload):
        raise Invalid.field(name, "file_required", "Send the attachment as a file.")
    if not value.data and not value.filename:
        return None
    return value


def upload_fields(data: dict[str, Any], name: str) -> tuple[Upload, ...]:
    """Every file sent as ``name`` (the part repeated for several), in order."""
    value = data.get(name)
    if value is None or value == "":
        return ()
    files = value if isinstance(value, list) else [value]
    if not all(isinstance(f, Upload) for f in files):
        raise Invalid.field(name, "file_required", "Send the attachment as a file.")
    return tuple(f for f in files if f.data or f.filename)


#: The one spelling of a number in a path or a query: ASCII digits, no sign, no
#: space, no leading zero (``" 1"``, ``01`` and ``１`` are refused, not read as 1).
STRICT_INT = re.compile(r"0|[1-9][0-9]*")


def strict_int(value: str, field: str) -> None:
    """Refuse ``value`` unless spelled as :data:`STRICT_INT` (422 ``bad_number``).
    Its size is the reader's business (an id past 64 bits is simply not found)."""
    if not STRICT_INT.fullmatch(value):
        raise Invalid.field(field, "bad_number", "Send a whole number in plain digits.")


def query_int(value: str | None, field: str) -> int | None:
    """An optional id in the query (absent or empty: None)."""
    if value is None or value == "":
        return None
    strict_int(value, field)
    # int() of thousands of digits raises ValueError: a long one is out of range anyway.
    return check_id(int(value) if len(value) < 20 else 2**63, field)


#: The largest page a list answers; more is refused (422 ``bad_limit``), not capped.
MAX_LIMIT = 100

#: The ``limit`` query parameter of every list: read by :func:`query_limit` (plain
#: digits, 1 to :data:`MAX_LIMIT`, else 422), documented as such an integer.
Limit: TypeAlias = Annotated[
    str | None,
    Parameter(
        description=f"Page size, 1 to {MAX_LIMIT}; more is refused (422 `bad_limit`).",
        schema_extra={
            "oneOf": None,
            "type": OpenAPIType.INTEGER,
            "minimum": 1,
            "maximum": MAX_LIMIT,
        },
    ),
]
#: A yes/no query parameter: read by :func:`query_flag` (``true``/``1`` or
#: ``false``/``0``, else 422), documented as a boolean.
Flag: TypeAlias = Annotated[
    str | None, Parameter(schema_extra={"oneOf": None, "type": OpenAPIType.BOOLEAN})
]


def form_int(value: str) -> Any:
    """A form field meant as an id or a number of stars: ASCII digits become an int
    (the core checks the range); anything else goes on as typed, for the core to
    refuse with a field error. ("²" is a digit to ``str.isdigit`` but not to ``int``.)"""
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else value


def query_limit(value: str | None) -> int | None:
    """The page size: 1 to :data:`MAX_LIMIT` in plain digits (absent: the default);
    anything else is refused with 422 ``bad_limit``, never capped silently."""
    if value is None or value == "":
        return None
    if not STRICT_INT.fullmatch(value) or len(value) > 3 or not 1 <= int(value) <= MAX_LIMIT:
        raise Invalid.field(
            "limit", "bad_limit", "The page size must be between 1 and %(max)s.", max=MAX_LIMIT
        )
    return int(value)


def query_flag(value: str | None, field: str) -> bool:
    """A yes/no query flag: ``true``/``1`` or ``false``/``0`` (absent: false);
    anything else is refused with 422 ``flag_invalid``."""
    if value is None:
        return False
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise Invalid.field(field, "flag_invalid", "Choose yes or no.")


def query_date(value: str | None, field: str, tz: str, *, end: bool = False) -> datetime | None:
    """A ``YYYY-MM-DD`` day in the province's time zone → its start (or the next
    day's start when ``end``) in UTC."""
    if value is None or value == "":
        return None
    day = check_day(value, field)
    if end:
        day = day + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def bool_field(data: dict[str, Any], name: str) -> bool | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise Invalid.field(name, "flag_invalid", "Choose yes or no.")
    return value


def page(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


# ---------------------------------------------------------------------- shapes
def account_json(a: Account, *, own: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "email": a.email,
        "username": a.username,
        "full_name": a.full_name,
        "role": a.role,
        "agency_id": a.agency_id,
        "permissions": sorted(a.permissions),
        "is_active": a.is_active,
        "email_verified": a.verified,
        "language": a.language,
        "created_at": iso(a.created_at),
        # Set when the owner deleted the account (its personal data is gone).
        "deleted_at": iso(a.deleted_at),
    }
    if own or a.nik_masked:
        out["nik_masked"] = a.nik_masked
    return out


def agency_json(a: Agency) -> dict[str, Any]:
    return {"id": a.id, "code": a.code, "name": a.name, "is_active": a.is_active}


def category_json(c: Category) -> dict[str, Any]:
    return {"id": c.id, "code": c.code, "name": c.name}


def subcategory_json(s: Subcategory) -> dict[str, Any]:
    return {
        "id": s.id,
        "category_id": s.category_id,
        "code": s.code,
        "name": s.name,
        "is_active": s.is_active,
        # working days of the SOP stages; null = the default of the settings
        "sop_confirm_days": s.sop_confirm_days,
        "sop_reply_days": s.sop_reply_days,
    }


def day_off_json(d: DayOff) -> dict[str, Any]:
    return {
        "id": d.id,
        "day": d.day.isoformat(),
        "name": d.name,
        "created_at": iso(d.created_at),
    }


def attachment_json(a: Attachment) -> dict[str, Any]:
    """``url`` is null once the file was removed; ``removed_reason`` then says why:
    ``retention`` (kept so long after the message was closed), ``account_deleted``
    (the sender of a signed message deleted their account) or ``removed`` (no
    reason given; ``removed_at`` is then the time the file was stored)."""
    out: dict[str, Any] = {
        "id": a.id,
        "kind": a.kind,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "url": None if a.removed else f"{API}/messages/{a.message_id}/attachments/{a.id}",
    }
    if a.removed:
        out["removed_at"] = iso(a.removed_at)
        out["removed_reason"] = a.removed_reason
    return out


def message_summary(m: Message, now: datetime | None = None) -> dict[str, Any]:
    """The list shape; ``due_at`` is the current stage's SOP deadline (null once
    final) and, given the time ``now``, ``overdue`` whether it has passed."""
    out: dict[str, Any] = {
        "id": m.id,
        "ticket": m.ticket,
        "subject": m.subject,
        "status": str(m.status),
        "created_at": iso(m.created_at),
        "updated_at": iso(m.updated_at),
        "confidential": m.confidential,
        "anonymous": m.anonymous,
        "category_id": m.category_id,
        "subcategory_id": m.subcategory_id,
        "agency_id": m.agency_id,
        "due_at": iso(m.due_at),
        # send it back as If-Match with a change: a stale one answers 409
        "version": m.version,
    }
    if now is not None:
        out["overdue"] = m.is_overdue(now)
    return out


def log_json(e: LogEntry, *, staff: bool) -> dict[str, Any]:
    """A log entry. For staff also who acted and ``visibility``: whether its note is
    ``internal`` or for the ``sender`` (the sender is given only the notes meant for
    them, by the core)."""
    out: dict[str, Any] = {
        "id": e.id,
        "action": e.action,
        "from_status": str(e.from_status) if e.from_status else None,
        "to_status": str(e.to_status),
        "note": e.note,
        "at": iso(e.at),
        "agency_id": e.agency_id,
    }
    if staff:
        out["actor_id"] = e.actor_id
        out["visibility"] = str(e.note_visibility)
    return out


def message_detail(d: MessageDetail, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    m = d.message
    out = message_summary(m, now)
    out["body"] = m.body
    out["category"] = category_json(d.category) if d.category else None
    out["subcategory"] = subcategory_json(d.subcategory) if d.subcategory else None
    out["agency"] = agency_json(d.agency) if d.agency else None
    out["attachments"] = [attachment_json(a) for a in m.attachments]
    if d.author is not None:
        author: dict[str, Any] = {
            "id": d.author.id,
            "full_name": d.author.full_name,
            "username": d.author.username,
        }
        if d.author.email is not None:
            author["email"] = d.author.email
        out["author"] = author
    # The sender deleted their account: no author, and no "anonymous" either.
    out["author_deleted"] = d.author_deleted
    out["reply"] = None
    if d.reply:
        out["reply"] = {
            "id": d.reply.id,
            "answer": d.reply.answer,
            "created_at": iso(d.reply.created_at),
            "attachment": attachment_json(d.reply.attachment) if d.reply.attachment else None,
        }
        if actor.is_staff:
            out["reply"]["visibility"] = str(d.reply.visibility)
    out["rating"] = (
        {
            "id": d.rating.message_id,
            "stars": d.rating.stars,
            "comment": d.rating.comment,
            "created_at": iso(d.rating.created_at),
        }
        if d.rating
        else None
    )
    out["log"] = [log_json(e, staff=actor.is_staff) for e in d.log]
    out["actions"] = sorted(d.actions)
    return out


def public_json(m: PublicMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "ticket": m.ticket,
        "subject": m.subject,
        "body": m.body,
        "status": str(m.status),
        "created_at": iso(m.created_at),
        "category_id": m.category_id,
        "agency_id": m.agency_id,
    }


def tracked_json(m: TrackedMessage) -> dict[str, Any]:
    """A tracked message: the minimum (no text the staff wrote; a subject only
    for a message on the public list)."""
    return {
        "id": m.ticket,
        "ticket": m.ticket,
        "subject": m.subject,
        "status": str(m.status),
        "created_at": iso(m.created_at),
        # by when the next step is expected (the current stage's SOP deadline)
        "due_at": iso(m.due_at),
        "log": [
            {
                "at": iso(e.at),
                "from_status": str(e.from_status) if e.from_status else None,
                "to_status": str(e.to_status),
            }
            for e in m.log
        ],
    }


def notification_json(request: Request[Any, Any, Any], n: Notification) -> dict[str, Any]:
    t = info(request).translator
    return {
        "id": n.id,
        "kind": n.kind,
        "message_id": n.message_id,
        "text": t(n.text, **dict(n.params)),
        "created_at": iso(n.created_at),
        "read_at": iso(n.read_at),
    }


def page_json(p: Page[Any], fn: Any) -> dict[str, Any]:
    return page([fn(x) for x in p.items], p.next_cursor)
