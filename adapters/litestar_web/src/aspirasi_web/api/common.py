"""Helpers shared by the JSON API modules: access checks, query parameters, the
JSON spelling of the form routes (the shapes are in :mod:`.shapes`)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, TypeAlias
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.openapi.spec import OpenAPIType
from litestar.params import Parameter

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.validation import check_day, check_id
from aspirasi_core.services import Upload

from ..context import require_actor as require_actor  # for the API modules and plugins
from ..invalid import JSON_MEDIA, NOT_JSON, NOT_OBJECT, bad_body
from ..invalid import STRICT_INT as STRICT_INT  # for the API modules and plugins
from .message_shapes import log_json as log_json  # for plugins
from .openapi import JSON_VARIANT as JSON_VARIANT  # for the form routes
from .openapi import LINKS_TO as LINKS_TO  # for plugins: opt={LINKS_TO: collection}
from .openapi import problems as problems  # for plugins: responses=problems(409)
from .shapes import API as API  # re-exported: plugins build their paths on it
from .shapes import iso as iso

#: OpenAPI security of routes open to anyone (the app-wide default is the bearer token).
PUBLIC: list[dict[str, list[str]]] = [{}]


async def json_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The request body as a JSON object; anything else is a 422 ``invalid_json``."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        # Not JSON, and already read as a form before the handler (csrf.read_form_first).
        raise bad_body(NOT_JSON)
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        # Not JSON, not UTF-8, or nested deeper than the decoder goes.
        raise bad_body(NOT_JSON) from None
    if not isinstance(value, dict):
        raise bad_body(NOT_OBJECT)
    return value


def is_json(request: Request[Any, Any, Any]) -> bool:
    """Is the body sent as JSON (``application/json`` or ``…+json``, the media types
    :func:`~aspirasi_web.invalid.check_json_body` reads)?"""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return JSON_MEDIA.fullmatch(media) is not None


async def read_uploads(files: list[UploadFile]) -> tuple[Upload, ...]:
    """The files of a form, read; the empty file parts of a form left out."""
    uploads = [Upload(filename=f.filename or "", data=await f.read()) for f in files]
    return tuple(u for u in uploads if u.data or u.filename)


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
#: The one rule of every yes/no query parameter, as its schema states it.
FLAG_RULE = (
    "`true` or `1` for yes, `false` or `0` for no, exactly so (lower case, no spaces);"
    " empty is the same as absent (no), as the HTML filter forms send it;"
    " anything else is refused (422 `flag_invalid`)."
)
#: A yes/no query parameter: read by :func:`query_flag` (:data:`FLAG_RULE`),
#: documented as a boolean.
Flag: TypeAlias = Annotated[
    str | None,
    Parameter(description=FLAG_RULE, schema_extra={"oneOf": None, "type": OpenAPIType.BOOLEAN}),
]


#: An optional id in the query: read by :func:`query_int` (plain digits, else 422
#: ``bad_number``), documented as a positive integer.
QueryId: TypeAlias = Annotated[
    str | None,
    Parameter(schema_extra={"oneOf": None, "type": OpenAPIType.INTEGER, "minimum": 1}),
]


#: A day in the query: read by :func:`query_date` (or the filter of the list,
#: by the same :func:`~aspirasi_core.domain.validation.check_day`).
QueryDay: TypeAlias = Annotated[
    str | None,
    Parameter(
        description="A local day, exactly YYYY-MM-DD (no spaces; empty is the same as"
        " absent); else 422 `date_format`.",
        schema_extra={"oneOf": None, "type": OpenAPIType.STRING, "format": "date"},
    ),
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
    """A yes/no query flag: ``true``/``1`` or ``false``/``0``, spelled exactly so
    (absent or empty: false, as for every other query parameter); anything else
    (``yes``, ``True``, `` true``) is refused with 422 ``flag_invalid``."""
    if value is None or value == "":
        return False
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise Invalid.field(field, "flag_invalid", "Choose yes or no.")


def query_date(value: str | None, field: str, tz: str, *, end: bool = False) -> datetime | None:
    """A day spelled exactly ``YYYY-MM-DD`` (absent or empty: None) in the
    province's time zone → its start (or the next day's start when ``end``) in UTC."""
    if value is None or value == "":
        return None
    day = check_day(value, field)
    if end:
        day = day + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
