"""The ASGI middleware of every request: :class:`Authentication` (who asks, through
Litestar's authentication middleware) and :class:`RequestContextMiddleware`: a
request id (bound to every log line), the client address and the language before
routing; security headers and cookies on every response; one log line per request.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from aspirasi_core.domain.errors import Unavailable
from aspirasi_core.domain.model import Account, Role
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import Aspirasi
from aspirasi_core.settings import Settings

from .context import SCOPE_KEY, Credentials, RequestInfo
from .csrf import SESSION_COOKIE
from .i18n import Translations, pick_language

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


def cookie_header(
    name: str, value: str, *, max_age: int | None, secure: bool, http_only: bool = True
) -> bytes:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")


def _client_ip(scope: Scope, headers: dict[bytes, bytes], trusted: frozenset[str]) -> str | None:
    client = scope.get("client")
    peer = client[0] if client else None
    if peer is None or peer not in trusted:
        return peer
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    # Walk from the nearest hop back, skipping our own proxies.
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if hop not in trusted:
            return hop
    return peer


#: A route option: the page may ask for the browser's location (the new-message
#: form's "use my location" button); every other page may not.
GEOLOCATION_OPT = "geolocation"


def permissions_policy(scope: Any) -> bytes:
    """The Permissions-Policy of a response: no camera, microphone or location,
    except the location for this site on the routes with :data:`GEOLOCATION_OPT`."""
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None) or {}
    where = b"(self)" if opt.get(GEOLOCATION_OPT) else b"()"
    return b"camera=(), microphone=(), geolocation=" + where


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
                return AuthenticationResult(account, Credentials(method="bearer"))
            token = connection.cookies.get(SESSION_COOKIE)
            if token:
                account = await self.accounts.authenticate(token, TokenPurpose.SESSION)
                if account is not None:
                    return AuthenticationResult(
                        account, Credentials(method="session", session_token=token)
                    )
        except Unavailable as exc:
            return AuthenticationResult(None, Credentials(fault=exc))
        return AuthenticationResult(None, Credentials())


class RequestContextMiddleware:
    """See the module docstring.

    Configure with ``DefineMiddleware(RequestContextMiddleware, aspirasi=…, translations=…)``.
    """

    def __init__(self, app: ASGIApp, aspirasi: Aspirasi, translations: Translations) -> None:
        self.app = app
        self.settings: Settings = aspirasi.deps.settings
        self.translations = translations
        self.trusted = frozenset(self.settings.trusted_proxies)
        self.secure = self.settings.env == "production"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers", []))
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        cookie = dict(connection.cookies)
        query_lang = connection.query_params.get("lang")
        # Pages are Indonesian first: many citizens' phones are set to English, so
        # the browser's preference counts only for API clients; people switch with
        # the language links (remembered in a cookie).
        path = scope.get("path", "")
        language = pick_language(
            query_lang,
            cookie.get(LANG_COOKIE),
            headers.get(b"accept-language", b"").decode("latin-1")
            if path.startswith("/api/")
            else None,
            self.settings.default_language,
        )
        request_id = secrets.token_hex(16)
        req = RequestInfo(
            request_id=request_id,
            client_ip=_client_ip(scope, headers, self.trusted),
            language=language,
            translator=self.translations.get(language),
            cookies=cookie,
            headers=headers,
        )
        scope[SCOPE_KEY] = req  # type: ignore[literal-required]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        # None until a response starts: a client that leaves before the answer is
        # logged without a status, not as a server error.
        status_holder: dict[str, int | None] = {"status": None}
        # Set when the client hung up before the answer started (Litestar then
        # "answers" 500 to nobody while reading the body): logged as a client that
        # left, with the status nobody received, not as a server error.
        gone: dict[str, int | None] = {}

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and status_holder["status"] is None:
                gone.setdefault("unsent_status", None)
            return message

        async def send_wrapper(message: Message) -> None:
            if gone:  # nobody is listening; the status the app meant is still logged
                if message["type"] == "http.response.start":
                    gone["unsent_status"] = message["status"]
                return
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                out = list(message.get("headers", []))
                names = {k.lower() for k, _ in out}
                security = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", permissions_policy(scope)),
                    (b"x-request-id", request_id.encode()),
                ]
                if b"content-security-policy" not in names:
                    security.append((b"content-security-policy", CSP.encode()))
                if self.secure:
                    security.append(
                        (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
                    )
                if scope.get("user") is not None and b"cache-control" not in names:
                    security.append((b"cache-control", b"no-store"))
                out.extend(security)
                for name, value, opts in req.extra_cookies:
                    out.append(
                        (b"set-cookie", cookie_header(name, value, secure=self.secure, **opts))
                    )
                message["headers"] = out
            await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)  # type: ignore[arg-type]
        except Exception:
            if status_holder["status"] is None and not gone:
                status_holder["status"] = 500  # the server answers 500
            raise
        finally:
            extra = {"client_disconnected": True, **gone} if gone else {}
            account: Account | None = scope.get("user")
            log.info(
                "request",
                method=logged_method(scope),
                path=_logged_path(scope, path, account),
                status=status_holder["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                account_id=account.id if account else None,
                **extra,
            )
            structlog.contextvars.unbind_contextvars("request_id")


def logged_method(scope: Scope) -> str | None:
    """The request's method as the client sent it: HEAD for a HEAD request that
    :class:`aspirasi_web.app.AspirasiApp` serves through its GET route."""
    method = "HEAD" if scope.get(HEAD_SERVED_AS_GET) else scope.get("method")
    return method if isinstance(method, str) else None


def _logged_path(scope: Scope, path: str, account: Account | None) -> str:
    """The path for the request log. A citizen's requests are logged with their
    route (``/messages/{message_id:int}``), not the ids: the log line carries the
    account id, and the path of a sender's own anonymous message (their page after
    sending it, rating or withdrawing it) would tie that account to the message."""
    if account is None or account.role != Role.USER:
        return path
    template = scope.get("path_template")
    return template if isinstance(template, str) and template else path
