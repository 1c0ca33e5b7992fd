"""CSRF protection for cookie-authenticated requests.

A random token lives in an HttpOnly cookie (``aspirasi_csrf``) and is repeated
in every form (``csrf_token`` field) and every HTMX/JS request (``X-CSRF-Token``
header, read from ``<meta name="csrf-token">``). State-changing requests whose
token does not match are refused with 403. Requests authenticated by
``Authorization: Bearer`` carry no cookie credentials and need no token.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.exceptions import ClientException, PermissionDeniedException

from .context import info

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"
HEADER = "x-csrf-token"
COOKIE = "aspirasi_csrf"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: A route handler's ``opt`` key: ``async (request, exc) -> Response | None`` that
#: answers a form refused before its handler ran (a CSRF failure, a body too large)
#: with the form again, instead of the error page. None: the error page after all.
FORM_FAILURE_OPT = "form_failure"
#: Request header a form's script sends (``1``) to get ``{"location": …}`` instead
#: of a redirect after a successful POST (static/js/upload.js).
UPLOAD_HEADER = "x-aspirasi-upload"


async def parsed_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    """The request's form, parsed once (Litestar keeps it for the handler). A form
    that cannot be read — a field that is not valid in its charset, a charset
    nobody knows — answers 400, not 500."""
    try:
        return await request.form()
    except (UnicodeDecodeError, LookupError):
        raise ClientException(detail="The form could not be read.") from None


async def read_form_first(request: Request[Any, Any, Any]) -> None:
    """``before_request``: parse a form body before anything reads it, so every
    handler (the app's and the plugins') gets it parsed or a 400."""
    if request.method in SAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(FORM_TYPES):
        await parsed_form(request)


async def check_csrf(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: refuse unsafe requests without the right token."""
    if request.method in SAFE_METHODS:
        return
    i = info(request)
    # The headers and cookies the middleware already parsed.
    headers = i.headers
    if i.auth_method == "bearer" or headers.get(b"authorization", b"")[:7].lower() == b"bearer ":
        return
    expected = i.cookies.get(COOKIE)
    sent = headers.get(HEADER.encode(), b"").decode("latin-1")
    if not sent:
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if content_type.startswith(FORM_TYPES):
            form = await parsed_form(request)
            value = form.get(FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise PermissionDeniedException(detail="csrf")
