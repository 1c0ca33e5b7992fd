"""Errors → answers, in one table: problem+json (RFC 9457) for the API, an error
page (or the login page) for the browser, always in the reader's language."""

from __future__ import annotations

import secrets
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.exceptions import NotFoundException as LitestarNotFound
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

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

from .context import SCOPE_KEY, info
from .csrf import REFUSED as CSRF_REFUSED
from .invalid import as_invalid
from .middleware import logged_method, request_info

log = structlog.get_logger("aspirasi.web.errors")

#: Domain error class → HTTP status (the nearest class in the error's MRO).
STATUS: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    NotAllowed: 403,
    Unauthenticated: 401,
    Throttled: 429,
    Conflict: 409,
    StorageFull: 507,
    Unavailable: 503,
    DomainError: 400,
}

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    408: "Too slow",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
    507: "No room to store this",
}


def status_of(exc: DomainError) -> int:
    return next(STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS)


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """An ``application/problem+json`` answer (RFC 9457), built by Litestar's
    :class:`~litestar.plugins.problem_details.ProblemDetailsException`: ``type``
    ``urn:aspirasi:problem:<code>``, the status's ``title`` in the reader's
    language, ``detail``, and the members ``code`` and (for invalid input)
    ``errors`` that clients act on."""
    t = info(request).translator if SCOPE_KEY in request.scope else None
    title = TITLES.get(status, "Error")
    extra: dict[str, Any] = {"code": code}
    if errors:
        extra["errors"] = errors
    if status == 401:  # RFC 9110: a 401 names the scheme to authenticate with (RFC 6750)
        error = ', error="invalid_token"' if code == "invalid_token" else ""
        headers = {"WWW-Authenticate": f'Bearer realm="api"{error}', **(headers or {})}
    return ProblemDetailsException(
        status_code=status,
        detail=detail,
        type_=f"urn:aspirasi:problem:{code}",
        title=t(title) if t else title,
        extra=extra,
        headers=headers or {},
    ).to_response(request)


def _html_error(
    request: Request[Any, Any, Any],
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    from .templating import render

    return render(
        request,
        "error.html",
        {"status": status, "title": TITLES.get(status, "Error"), "message": message},
        status_code=status,
        headers=headers,
    )


def retry_headers(exc: DomainError) -> dict[str, str]:
    """``Retry-After`` for the errors that say when to try again (429; 503 and 507)."""
    if isinstance(exc, Throttled | Unavailable):
        return {"Retry-After": str(exc.retry_after)}
    return {}


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = status_of(exc)
    if not ensure_info(request):  # raised before the middleware made a context
        return problem(request, status, exc.code, exc.render())
    t = info(request).translator
    headers = retry_headers(exc)
    if status in (401, 403):
        log.info("access_refused", code=exc.code, status=status, path=request.url.path)
    if is_api(request):
        errors = (
            [{"field": e.field, "code": e.code, "message": t.field_error(e)} for e in exc.errors]
            if isinstance(exc, Invalid)
            else None
        )
        detail = t.error(exc)
        if isinstance(exc, Invalid) and exc.errors and detail == t("The input is not valid."):
            detail = "; ".join(e["message"] for e in errors or [])
        return problem(request, status, exc.code, detail, errors=errors, headers=headers)
    if exc.code == "password_change_required":  # see aspirasi_web.guards
        if request.headers.get("hx-request"):
            # A fragment a page fetches by itself (the bell's count): nothing to put
            # in it, and htmx swaps nothing on 204; a redirect would put a whole page
            # inside the bell.
            return Response(content=b"", status_code=204, headers={"Cache-Control": "no-store"})
        return Redirect(path="/account/password")
    if isinstance(exc, Unauthenticated):
        from .templating import safe_next

        return Redirect(
            path=f"/login?next={safe_next(request.url.path + ('?' + request.url.query if request.url.query else ''))}"
        )
    message = t.error(exc)
    if isinstance(exc, Invalid):
        message = " ".join([message] + [t.field_error(e) for e in exc.errors])
    return _html_error(request, status, message, headers)


#: Scope key of an answer given before any route matched (see :func:`ensure_info`).
UNROUTED = "aspirasi.unrouted"


def ensure_info(request: Request[Any, Any, Any]) -> bool:
    """Errors raised before any route matched (an unknown path, a method the path
    does not take) never passed the middleware: give them an anonymous request
    context with a request id of their own, so they are shown as a page in the
    reader's language, answered with ``X-Request-Id`` and logged (:func:`log_unrouted`).
    False when the app has no translations."""
    if SCOPE_KEY in request.scope:
        return True
    translations = request.app.state.get("translations")
    if translations is None:
        return False
    request_id = secrets.token_hex(16)
    request.scope[SCOPE_KEY] = request_info(request.scope, translations, request_id)  # type: ignore[literal-required]
    request.scope[UNROUTED] = True  # type: ignore[literal-required]
    return True


def log_unrouted(request: Request[Any, Any, Any], response: Response[Any]) -> Response[Any]:
    """The request log line of an answer given before any route matched (the
    middleware that writes the others never ran for it); ``response`` unchanged."""
    if request.scope.get(UNROUTED):
        log.info(
            "request",
            request_id=info(request).request_id,
            method=logged_method(request.scope),
            path=request.scope["path"],
            status=response.status_code,
            account_id=None,
        )
    return response


#: Litestar's errors: status → (code, text); a CSRF refusal is code ``csrf``.
HTTP_ERRORS = {
    400: ("bad_request", "The request is not valid."),
    401: ("unauthenticated", "Please log in."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "The page was not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    408: ("body_timeout", "The request arrived too slowly. Please try again."),
    413: ("too_large", "The request is too large."),
    500: ("internal_error", "Something went wrong on our side. Please try again later."),
}
CSRF_TEXT = "The form has expired. Reload the page and try again."


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if is_api(request) and isinstance(exc, ClientException) and (bad := as_invalid(exc)):
        return domain_error_handler(request, bad)
    status = exc.status_code
    has_ctx = ensure_info(request)
    code, text = HTTP_ERRORS.get(status, ("http_error", "The request could not be handled."))
    if isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_REFUSED:
        code, text = "csrf", CSRF_TEXT
    detail = info(request).translator(text) if has_ctx else text
    # Litestar's own headers (``Allow`` on 405) go with the answer.
    headers = dict(exc.headers or {})
    if is_api(request) or not has_ctx:
        return log_unrouted(request, problem(request, status, code, detail, headers=headers))
    if isinstance(exc, NotAuthorizedException):
        return Redirect(path="/login")
    return log_unrouted(request, _html_error(request, status, detail, headers))


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled_error", path=request.url.path)
    return http_error_handler(request, HTTPException(status_code=HTTP_500_INTERNAL_SERVER_ERROR))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    LitestarNotFound: http_error_handler,
    Exception: internal_error_handler,
}
