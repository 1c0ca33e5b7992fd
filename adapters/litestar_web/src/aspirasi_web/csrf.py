"""CSRF protection where it protects something: requests that carry the session cookie.

Litestar's signed double-submit token (:class:`~litestar.config.csrf.CSRFConfig`):
an HMAC-signed token lives in an HttpOnly cookie (``__Host-aspirasi_csrf`` in
production, ``aspirasi_csrf`` over plain http in development) and is repeated in
every form (``_csrf_token`` field) and every HTMX/JS request (``X-CSRF-Token``
header, read from ``<meta name="csrf-token">``). Unsafe requests that carry the
session cookie and no matching token are refused with 403 ``csrf``.

Requests that no cookie authenticates need no token: a bearer request
(``Authorization: Bearer …``), and any API request without a live session (no session
cookie, or one that signs nobody in): a JSON client with no cookie jar, or a stale
one, registers, logs in, resets a password and tracks with JSON alone, and an
operation that needs credentials answers it 401. The API reads a body as JSON only
when it is sent as JSON (``invalid.check_json_body``), which another site's page
cannot make a browser do without asking. A page's form (or ``text/plain``) always
needs the token, even without a session: otherwise a page elsewhere could sign the
visitor in to the attacker's account (log-in CSRF). The pages' forms carry it, and
every page a browser GETs sets the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import FormMultiDict
from litestar.exceptions import ClientException, HTTPException, PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.template.base import csrf_token as litestar_csrf_token
from litestar.types import Receive, Scope, Send

from aspirasi_core.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The form field Litestar's CSRF middleware reads.
FIELD = "_csrf_token"
HEADER = "x-csrf-token"
#: The cookie's name over plain http (development, tests); production adds ``__Host-``.
COOKIE = "aspirasi_csrf"
#: The session cookie: only requests carrying it are checked.
SESSION_COOKIE = "aspirasi_session"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: Bodies another site's page can make a browser send without asking (an HTML form,
#: or a ``no-cors`` fetch): such a request always needs the token, session or not.
BROWSER_FORM_TYPES = (*FORM_TYPES, "text/plain")
#: ``PermissionDeniedException.detail`` of a refusal (errors.py answers code ``csrf``).
REFUSED = "CSRF token verification failed"
#: A route handler's ``opt`` key: ``async (request, exc) -> Response | None`` that
#: answers a form refused before its handler ran (a CSRF failure, a body too large)
#: with the form again, instead of the error page. None: the error page after all.
FORM_FAILURE_OPT = "form_failure"
#: Request header a form's script sends (``1``) to get ``{"location": …}`` instead
#: of a redirect after a successful POST (static/js/upload.js).
UPLOAD_HEADER = "x-aspirasi-upload"


def cookie_name(settings: Settings) -> str:
    """``__Host-aspirasi_csrf`` in production (Secure, Path=/, no Domain: a sibling
    sub-domain cannot toss its own), ``aspirasi_csrf`` over plain http."""
    return f"__Host-{COOKIE}" if settings.env == "production" else COOKIE


def csrf_config(settings: Settings) -> CSRFConfig:
    """The app's CSRF configuration; the token's key is derived from ``secret_key``."""
    secret = hmac.new(settings.secret_key.encode(), b"aspirasi-csrf", hashlib.sha256).hexdigest()
    return CSRFConfig(
        secret=secret,
        cookie_name=cookie_name(settings),
        cookie_path="/",
        header_name=HEADER,
        cookie_secure=settings.env == "production",
        cookie_httponly=True,
        cookie_samesite="lax",
    )


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
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        await parsed_form(request)


async def form_failure(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any] | None:
    """A page route's own answer (its ``opt[FORM_FAILURE_OPT]``) to its form refused
    before it ran; None for the usual error page (and always for the API)."""
    reshow = request.route_handler.opt.get(FORM_FAILURE_OPT)
    if reshow is None or request.url.path.startswith("/api/"):
        return None
    answer: Response[Any] | None = await reshow(request, exc)
    return answer


def _bearer(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("authorization", "")[:7].lower() == "bearer "


def _api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def _browser_form(request: Request[Any, Any, Any]) -> bool:
    """A body type a page on another site can make a browser send."""
    return request.headers.get("content-type", "").lower().startswith(BROWSER_FORM_TYPES)


class SessionCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF middleware, for the requests a cookie authenticates.

    Skipped for bearer requests, and for unsafe requests without a live session
    (no session cookie, or one that signs nobody in: expired, logged out) to the
    API or with a body no other site can make a browser send (JSON). Safe requests
    from browsers still go through it, so every page gets a token (and the cookie)
    to post its forms with once signed in. A token that is not ASCII text (a file
    field) is refused like any wrong token (Litestar's comparison would raise).

    Configure with ``DefineMiddleware(SessionCSRFMiddleware, config=csrf_config(settings))``.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        unsafe = request.method not in self.config.safe_methods
        # ``user`` is set by the authentication middleware, which runs first.
        sessionless = scope.get("user") is None
        if _bearer(request) or (
            unsafe and sessionless and (_api(request) or not _browser_form(request))
        ):
            await self.app(scope, receive, send)
            return
        try:
            if unsafe:
                sent = request.headers.get(HEADER)
                if not sent and request.headers.get("content-type", "").startswith(FORM_TYPES):
                    sent = (await parsed_form(request)).get(FIELD)
                sent, cookie = sent or "", request.cookies.get(self.config.cookie_name, "")
                if not isinstance(sent, str) or not (sent + cookie).isascii():
                    raise PermissionDeniedException(detail=REFUSED)
            await super().__call__(scope, receive, send)
        except ClientException as exc:
            # Refused (403) or an unreadable form (400) before the route ran (the
            # route's own errors are answered inside it): answered here, so the
            # request middleware adds its headers and logs the status as for any answer.
            from .errors import http_error_handler

            response = await form_failure(request, exc) or http_error_handler(request, exc)
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)


def token(request: Request[Any, Any, Any]) -> str:
    """The token a page repeats in its forms: the one Litestar's middleware made or
    checked for this request, else (a request it skipped) the browser's cookie."""
    made = litestar_csrf_token({"request": request})
    if made:
        return made
    settings = request.app.state["aspirasi"].deps.settings
    return request.cookies.get(cookie_name(settings), "")
