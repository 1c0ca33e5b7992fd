"""``/api/v1/auth/*``: registration, verification, log-in, log-out, password reset."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from aspirasi_core.domain.model import Account
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import Context, RegisterInput

from .. import csrf
from ..context import Core, Ctx, credentials, device_tokens, info, remember_device
from ..guards import signed_in_any
from ..idempotency import IdempotencyKey, api_call
from ..middleware import SESSION_COOKIE
from .bodies import (
    ForgotBody,
    LoginBody,
    PendingEmailBody,
    RegisterBody,
    ResetBody,
    VerifyBody,
    fields_of,
)
from .common import API, PUBLIC
from .openapi import problems
from .shapes import CsrfOut, LoginOut, StatusOut, account_json, utc

TAGS = ["auth"]
NO_STORE = CacheControlHeader(no_store=True)
#: The one answer to every registration (the outcome goes by mail).
REGISTERED = (
    "Thank you. We sent an e-mail to the address you gave: open it to go on. If nothing"
    " arrives within a few minutes, look in the spam folder."
)


@post(
    f"{API}/auth/register",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Register a citizen",
    security=PUBLIC,
    responses=problems(409, 429),
)
async def register(
    request: Request[Any, Any, Any],
    core: Core,
    data: JSONBody[RegisterBody],
    idempotency_key: IdempotencyKey = None,
) -> Response[StatusOut]:
    """Body ``{email, username, full_name, nik, password, password_confirm}``.

    Answers the same (201, the same body) whether or not the e-mail is registered
    or the NIK belongs to a verified account: what happened goes by mail to the
    address — the verification link, "someone tried to register with your
    address", or what the owner of a NIK registered by someone else can do.
    422 for input that is not valid, and for a username a verified account holds."""
    i = info(request)

    async def call(ctx: Context) -> Account | None:
        return await core.accounts.register(
            ctx,
            RegisterInput(
                email=data.email,
                username=data.username,
                full_name=data.full_name,
                nik=data.nik,
                password=data.password,
                password_confirm=data.password_confirm,
                language=i.language,
            ),
        )

    def shape(_: Account | None) -> StatusOut:
        return StatusOut(status="verification_sent", detail=i.translator(REGISTERED))

    return await api_call(request, idempotency_key, fields_of(data), call, shape, HTTP_201_CREATED)


@post(
    f"{API}/auth/verify-email",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Verify the e-mail",
    security=PUBLIC,
    responses=problems(409),
)
async def verify_email(core: Core, ctx: Ctx, data: JSONBody[VerifyBody]) -> StatusOut:
    """Body ``{token, username?}`` (the ``token`` of the link in the verification
    mail). 422 ``username_taken`` when a verified account took the username
    meanwhile: send the token again with another ``username``. 422 ``nik_taken``
    when a verified account holds the NIK: its owner writes to the administrator,
    who can release it; the link works again afterwards."""
    await core.accounts.verify_email(
        ctx,
        data.token,
        username=data.username if data.username and data.username.strip() else None,
    )
    return StatusOut(status="verified")


@post(
    f"{API}/auth/resend-verification",
    guards=[signed_in_any],
    tags=TAGS,
    status_code=HTTP_202_ACCEPTED,
    summary="Send a new verification link",
    responses=problems(409, 429),
)
async def resend_verification(core: Core, ctx: Ctx) -> StatusOut:
    """For the signed-in, unverified account; no data. 429 with Retry-After when
    asked too often."""
    await core.accounts.resend_verification(ctx)
    return StatusOut(status="verification_sent")


@post(
    f"{API}/auth/verification-email",
    guards=[signed_in_any],
    tags=TAGS,
    status_code=HTTP_202_ACCEPTED,
    summary="Correct the address of an unverified account",
    responses=problems(409, 429),
)
async def change_verification_email(
    core: Core, ctx: Ctx, data: JSONBody[PendingEmailBody]
) -> StatusOut:
    """Body ``{email}``, for the signed-in, unverified account: a new link goes to
    that address (``pending_email`` in ``/api/v1/me``), and the account's address
    becomes it once the link is used. The answer is the same whether or not
    another account has the address (its owner is told by mail). 429 with
    Retry-After when asked too often, like a resend; 409 once verified."""
    await core.accounts.change_pending_email(ctx, data.email)
    return StatusOut(status="verification_sent")


@post(
    f"{API}/auth/login",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Log in",
    security=PUBLIC,
    cache_control=NO_STORE,
    responses=problems(401, 429),
)
async def login(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, data: JSONBody[LoginBody]
) -> LoginOut:
    """Body ``{login (username or e-mail), password}`` → ``{token, user,
    device_token}``: a bearer token, a session cookie for browsers, and a device
    token. Keep the device token and send it back in the ``X-Aspirasi-Device``
    header at the next log-in: attempts with it count against this device's own
    limit, so someone guessing the password elsewhere cannot lock you out
    (browsers get it as the ``aspirasi_device`` cookie). Logging out either
    the bearer token or the session ends both."""
    i = info(request)
    result = await core.accounts.login(
        ctx,
        data.login,
        data.password,
        purpose=TokenPurpose.API,
        with_session=True,
        devices=device_tokens(request),
    )
    session = result.session
    if session is None:  # pragma: no cover - login() issues it when with_session is set
        raise RuntimeError("login(with_session=True) returned no session token")
    old_session = credentials(request).session_token
    if old_session:  # a new session id at every log-in
        await core.accounts.revoke(old_session, TokenPurpose.SESSION)
    i.extra_cookies.append((SESSION_COOKIE, session.token, {"max_age": None}))
    remember_device(request, result.device_token)
    return LoginOut(
        token=result.token,
        expires_at=utc(result.expires_at),
        device_token=result.device_token,
        user=account_json(result.account, own=True),
    )


@post(
    f"{API}/auth/logout",
    guards=[signed_in_any],
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Log out",
)
async def logout(request: Request[Any, Any, Any], core: Core) -> Response[None]:
    """Ends the log-in on the server: the bearer token (when sent) or the session,
    and every other credential the same log-in issued (the session cookie of a
    JSON log-in, or its bearer token)."""
    i = info(request)
    auth = credentials(request)
    if auth.method == "bearer":
        token = request.headers.get("authorization", "")[7:].strip()
        await core.accounts.logout(token, TokenPurpose.API)
    elif auth.session_token:
        await core.accounts.logout(auth.session_token, TokenPurpose.SESSION)
        i.extra_cookies.append((SESSION_COOKIE, "", {"max_age": 0}))
    return Response(content=None, status_code=HTTP_204_NO_CONTENT)


@post(
    f"{API}/auth/forgot-password",
    tags=TAGS,
    status_code=HTTP_202_ACCEPTED,
    summary="Ask for a password reset link",
    security=PUBLIC,
    responses=problems(429),
)
async def forgot_password(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, data: JSONBody[ForgotBody]
) -> StatusOut:
    """Body ``{email}``; answers 202 whether or not the address is registered."""
    i = info(request)
    await core.accounts.forgot_password(ctx, data.email)
    return StatusOut(
        status="accepted",
        detail=i.translator(
            "If the address is registered, a link to reset the password was sent to it."
        ),
    )


@post(
    f"{API}/auth/reset-password",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Set a new password with a reset token",
    security=PUBLIC,
    responses=problems(409, 429),
)
async def reset_password(core: Core, ctx: Ctx, data: JSONBody[ResetBody]) -> StatusOut:
    """Body ``{token, password, password_confirm}``. Ends every session and token."""
    await core.accounts.reset_password(ctx, data.token, data.password, data.password_confirm)
    return StatusOut(status="password_reset")


@get(
    f"{API}/auth/csrf",
    tags=TAGS,
    security=PUBLIC,
    summary="The CSRF token of a cookie session",
    cache_control=CacheControlHeader(no_store=True),
)
async def csrf_token(request: Request[Any, Any, Any]) -> CsrfOut:
    """For clients that keep the session cookie of ``POST /api/v1/auth/login`` (a
    web app on this site): the token to repeat in the ``X-CSRF-Token`` header of
    their unsafe requests. The answer also sets its (HttpOnly) cookie. Bearer
    clients and clients without cookies need none."""
    return CsrfOut(csrf_token=csrf.token(request), header=csrf.HEADER)


ROUTES = [
    csrf_token,
    register,
    verify_email,
    resend_verification,
    change_verification_email,
    login,
    logout,
    forgot_password,
    reset_password,
]
