"""Every request: :class:`Authentication` (who asks, through Litestar's
authentication middleware), :class:`RequestContextMiddleware` (a request id bound to
every log line, the client address and the language; one log line per request) and
the ``before_send`` hook :func:`security_headers` (headers and cookies of every answer).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)
from litestar.types import (
    ASGIApp,
    BeforeMessageSendHookHandler,
    Message,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from aspirasi_core.domain.errors import Unavailable
from aspirasi_core.domain.model import Account, Role
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import Aspirasi
from aspirasi_core.settings import Settings

from .context import SCOPE_KEY, Credentials, RequestInfo
from .csrf import SESSION_COOKIE
from .i18n import LANGUAGES, Translations, asked_language, pick_language
from .invalid import DEPRECATED

#: Paths served without looking up who asks: static files (an error page needs its
#: style sheet while the database is out of reach) and the health probes.
_ANONYMOUS_PATHS = ("^/static/", "^/healthz$", "^/readyz$")
LANG_COOKIE = "lang"
log = structlog.get_logger("aspirasi.web")
#: Scope key set on the GET copy of a HEAD request's scope (see
#: :class:`aspirasi_web.app.AspirasiApp`), so that the request log says HEAD.
HEAD_SERVED_AS_GET = "aspirasi.head"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


#: A route option: the page may ask for the browser's location (the new-message
#: form's "use my location" button); every other page may not.
GEOLOCATION_OPT = "geolocation"


def permissions_policy(scope: Any) -> str:
    """The Permissions-Policy of a response: no camera, microphone or location,
    except the location for this site on the routes with :data:`GEOLOCATION_OPT`."""
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None) or {}
    where = "(self)" if opt.get(GEOLOCATION_OPT) else "()"
    return f"camera=(), microphone=(), geolocation={where}"


class Authentication(AbstractAuthenticationMiddleware):
    """Who asks: the account of the bearer token or of the session cookie on
    ``request.user`` (None for nobody), their :class:`~aspirasi_web.context.Credentials`
    on ``request.auth``. Static files and the health probes are not looked up (an
    error page needs its style sheet while the database is out of reach).

    A bearer token wins over the cookie; an invalid one is remembered (the API
    answers 401 ``invalid_token``), never replaced by the cookie's account. The
    database out of reach is remembered too, and answered by the route (see
    ``aspirasi_web.app.before_request``) with the error pages and headers of any answer.

    Configure with ``DefineMiddleware(Authentication, aspirasi=…)``.
    """

    def __init__(self, app: ASGIApp, aspirasi: Aspirasi) -> None:
        super().__init__(app, exclude=list(_ANONYMOUS_PATHS), scopes={ScopeType.HTTP})
        self.accounts = aspirasi.accounts

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        authorization = connection.headers.get("authorization", "")
        try:
            if authorization[:7].lower() == "bearer ":
                token = authorization[7:].strip()
                account = await self.accounts.authenticate(token, TokenPurpose.API)
                if account is None:
                    return AuthenticationResult(None, Credentials(bad_bearer=True))
                _speak(connection, account)
                return AuthenticationResult(account, Credentials(method="bearer"))
            session = connection.cookies.get(SESSION_COOKIE)
            if session:
                account = await self.accounts.authenticate(session, TokenPurpose.SESSION)
                if account is not None:
                    _speak(connection, account)
                    return AuthenticationResult(
                        account, Credentials(method="session", session_token=session)
                    )
        except Unavailable as exc:
            return AuthenticationResult(None, Credentials(fault=exc))
        return AuthenticationResult(None, Credentials())


def _speak(connection: ASGIConnection[Any, Any, Any, Any], account: Account) -> None:
    """Answer in the account's language (its settings) when the request chose none."""
    req: RequestInfo | None = connection.scope.get(SCOPE_KEY)  # type: ignore[assignment]
    if req is not None and not req.chosen and account.language in LANGUAGES:
        req.language = account.language
        req.translator = connection.app.state["translations"].get(account.language)


def request_info(scope: Scope, translations: Translations, request_id: str) -> RequestInfo:
    """The request's id, client address and language (pages are Indonesian first:
    many citizens' phones are set to English, so the browser's preference counts
    only for API clients; people switch with the language links, kept in a cookie)."""
    settings: Settings = scope["app"].state["aspirasi"].deps.settings
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    api = connection.url.path.startswith("/api/")
    asked = asked_language(
        connection.query_params.get("lang"),
        connection.cookies.get(LANG_COOKIE),
        connection.headers.get("accept-language") if api else None,
    )
    language = asked or pick_language(None, None, None, settings.default_language)
    # The connection's, or behind a trusted proxy the address ``X-Forwarded-For``
    # names (uvicorn's ProxyHeadersMiddleware put it in the scope).
    client = scope.get("client")
    return RequestInfo(
        request_id=request_id,
        client_ip=client[0] if client else None,
        language=language,
        translator=translations.get(language),
        chosen=asked is not None,
    )


class RequestContextMiddleware:
    """A request id (bound to every log line), the :class:`RequestInfo` and one log
    line per request (the answers' headers and cookies: :func:`security_headers`).

    Configure with ``DefineMiddleware(RequestContextMiddleware, translations=…)``.
    """

    def __init__(self, app: ASGIApp, translations: Translations) -> None:
        self.app = app
        self.translations = translations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = secrets.token_hex(16)
        scope[SCOPE_KEY] = request_info(scope, self.translations, request_id)  # type: ignore[literal-required]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        # None until a response starts: a client that leaves before the answer is
        # logged without a status, not as a server error.
        status: int | None = None
        # Set when the client hung up before the answer started (Litestar then
        # "answers" 500 to nobody while reading the body): logged as a client that
        # left, with the status nobody received, not as a server error.
        gone: dict[str, int | None] = {}

        async def receive_wrapper() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.disconnect" and status is None:
                gone.setdefault("unsent_status", None)
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                if gone:  # nobody is listening; the status the app meant is still logged
                    gone["unsent_status"] = message["status"]
                else:
                    status = message["status"]
            if not gone:
                await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except Exception:
            if status is None and not gone:
                status = 500  # the server answers 500
            raise
        finally:
            account: Account | None = scope.get("user")
            log.info(
                "request",
                method=logged_method(scope),
                path=_logged_path(scope, account),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                account_id=account.id if account else None,
                **({"client_disconnected": True, **gone} if gone else {}),
            )
            structlog.contextvars.unbind_contextvars("request_id")


def security_headers(settings: Settings) -> BeforeMessageSendHookHandler:
    """Litestar's ``before_send`` hook for every answer: the security headers (a
    route may set its own Content-Security-Policy and Cache-Control; a signed-in
    answer is not stored), the request id and the cookies handlers asked for."""
    secure = settings.env == "production"
    static = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    if secure:
        static.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in static:
            headers.add(name, value)
        headers.add("Permissions-Policy", permissions_policy(scope))
        headers.setdefault("Content-Security-Policy", CSP)
        if scope.get("user") is not None:
            headers.setdefault("Cache-Control", "no-store")
        if scope.get(DEPRECATED):  # an old spelling of the body, still read
            headers.setdefault("Deprecation", "true")
        req: RequestInfo | None = scope.get(SCOPE_KEY)  # type: ignore[assignment]
        if req is not None:
            headers.add("X-Request-Id", req.request_id)
            for name, value, opts in req.extra_cookies:
                # Not Litestar's Cookie: it spells an empty value ``""``.
                age = "" if opts.get("max_age") is None else f"; Max-Age={opts['max_age']}"
                tail = "; Secure" if secure else ""
                headers.add(
                    "Set-Cookie", f"{name}={value}; Path=/; SameSite=Lax{age}; HttpOnly{tail}"
                )

    return hook


def logged_method(scope: Scope) -> str | None:
    """The request's method as the client sent it: HEAD for a HEAD request that
    :class:`aspirasi_web.app.AspirasiApp` serves through its GET route."""
    method = "HEAD" if scope.get(HEAD_SERVED_AS_GET) else scope.get("method")
    return method if isinstance(method, str) else None


def _logged_path(scope: Scope, account: Account | None) -> str:
    """The path for the request log. A citizen's requests are logged with their
    route (``/messages/{message_id:int}``), not the ids: the log line carries the
    account id, and the path of a sender's own anonymous message (their page after
    sending it, rating or withdrawing it) would tie that account to the message."""
    template = scope.get("path_template")
    if account is None or account.role != Role.USER or not isinstance(template, str):
        return scope["path"]
    return template or scope["path"]
