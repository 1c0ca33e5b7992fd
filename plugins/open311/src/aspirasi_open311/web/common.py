"""What the Open311 endpoints share: the format of a request, answers and errors
in the specification's shapes, the client of an ``api_key``, times with the
province's offset."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException

from aspirasi_core.domain.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotAllowed,
    NotFound,
    StorageFull,
    Throttled,
    Unauthenticated,
    Unavailable,
)
from aspirasi_core.plugin_api import PluginContext
from aspirasi_web.context import core, plugin_context, translator

from .. import Open311Plugin
from ..formats import errors_document, render, split_format
from ..keys import Client, KeyService

log = structlog.get_logger("aspirasi.open311")

Req = Request[Any, Any, Any]

#: Domain error → HTTP status; Open311 clients expect 400 for bad input.
STATUS: list[tuple[type[DomainError], int]] = [
    (Invalid, 400),
    (NotFound, 404),
    (NotAllowed, 403),
    (Unauthenticated, 403),
    (Throttled, 429),
    (Conflict, 409),
    (StorageFull, 507),
    (Unavailable, 503),
    (DomainError, 400),
]
#: What an HTTP error raised by Litestar says (English msgids).
HTTP_TEXTS = {
    400: "The request is not valid.",
    404: "The page was not found.",
    405: "This method is not allowed here.",
    408: "The request arrived too slowly. Please try again.",
    413: "The request is too large.",
}


def request_format(request: Req) -> str:
    """``json`` or ``xml``, from the suffix of the path's last segment (JSON when
    it has none, for the errors of a path without one)."""
    _, fmt = split_format(request.url.path.rsplit("/", 1)[-1])
    return fmt or "json"


def answer(
    request: Req,
    root: str,
    item: str,
    document: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    body, media_type = render(request_format(request), root, item, document)
    return Response(body, status_code=status, media_type=media_type, headers=headers or {})


def error_answer(
    request: Req, status: int, descriptions: list[str], headers: dict[str, str] | None = None
) -> Response[bytes]:
    return answer(
        request,
        "errors",
        "error",
        errors_document(status, descriptions),
        status=status,
        headers=headers,
    )


def domain_error(request: Req, exc: DomainError) -> Response[bytes]:
    status = next(code for cls, code in STATUS if isinstance(exc, cls))
    t = translator(request)
    if isinstance(exc, Invalid) and exc.errors:
        descriptions = [f"{e.field}: {t.field_error(e)}" for e in exc.errors]
    else:
        descriptions = [t.error(exc)]
    headers = {}
    if isinstance(exc, Throttled | Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 403:
        log.info("open311_refused", code=exc.code, path=request.url.path)
    return error_answer(request, status, descriptions, headers)


def http_error(request: Req, exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    text = HTTP_TEXTS.get(status, "The request could not be handled.")
    return error_answer(request, status, [translator(request)(text)], dict(exc.headers or {}))


def internal_error(request: Req, exc: Exception) -> Response[bytes]:
    log.exception("open311_unhandled_error", path=request.url.path)
    text = "Something went wrong on our side. Please try again later."
    return error_answer(request, 500, [translator(request)(text)])


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: internal_error,
}


def plugin(request: Req) -> Open311Plugin:
    """This app's plugin instance (its rate-limit counters)."""
    pm: Any = core(request).plugin_manager
    for candidate in pm.get_plugins():
        if isinstance(candidate, Open311Plugin):
            return candidate
    raise RuntimeError("the open311 plugin is not registered")


def aspirasi(request: Req) -> PluginContext:
    return plugin_context(request)


async def client_of(request: Req, raw: str | None, *, required: bool) -> Client | None:
    """The client of ``api_key`` ``raw``, counted against its limit. No key: None
    (or 400 when ``required``); a key that is not valid: 403."""
    if not raw:
        if required:
            raise Invalid.field("api_key", "required", "This field is required.")
        return None
    client = await KeyService(aspirasi(request)).client(raw)
    if client is None:
        raise NotAllowed("The api_key is not valid.", code="invalid_api_key")
    limiter = plugin(request).limiter
    if limiter is None:
        raise RuntimeError("the open311 plugin was not configured")
    limiter.hit(client.key_id, client.limits)
    return client


def local_iso(request: Req, value: datetime | None) -> str | None:
    """ISO 8601 with the province's offset (``2026-11-02T09:00:00+08:00``)."""
    if value is None:
        return None
    zone = ZoneInfo(aspirasi(request).settings.timezone)
    return value.astimezone(zone).isoformat(timespec="seconds")


def zone(request: Req) -> ZoneInfo:
    return ZoneInfo(aspirasi(request).settings.timezone)
