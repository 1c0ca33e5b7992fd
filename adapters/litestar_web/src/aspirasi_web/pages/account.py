"""Account pages: log in and out, register, verify the e-mail, reset the password."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from aspirasi_core.domain.errors import Conflict, DomainError, Invalid, Throttled
from aspirasi_core.domain.model import Account
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import Context, RegisterInput

from ..context import (
    Core,
    Ctx,
    account,
    credentials,
    device_tokens,
    info,
    remember_device,
)
from ..guards import CHANGE_PASSWORD_PATH, PASSWORD_CHANGE_OPT
from ..idempotency import form_call, form_key
from ..middleware import SESSION_COOKIE
from ..templating import redirect, render, safe_next
from .public import failure, form_data, form_failure, text

#: Set when an e-mail address is verified in this browser: the next log-in is a
#: first welcome rather than "welcome back".
WELCOME_COOKIE = "aspirasi_welcome"

LOGIN_FIELDS = ("login", "password")
REGISTER_FIELDS = ("email", "username", "full_name", "nik", "password", "password_confirm")


def dead_link(exc: DomainError) -> bool:
    """Whether ``exc`` says the one-time link itself no longer works."""
    return isinstance(exc, Invalid) and any(e.field == "token" for e in exc.errors)


def home_of(acc: Account) -> str:
    """Where an account lands after logging in."""
    if not acc.verified:
        return "/verify-pending"
    if acc.actor().is_staff:
        return "/backoffice"
    return "/dashboard"


def set_session(request: Request[Any, Any, Any], token: str) -> None:
    info(request).extra_cookies.append((SESSION_COOKIE, token, {"max_age": None}))


def clear_session(request: Request[Any, Any, Any]) -> None:
    info(request).extra_cookies.append((SESSION_COOKIE, "", {"max_age": 0}))


# ---------------------------------------------------------------------- log in / out
@get("/login", include_in_schema=False)
async def login_form(
    request: Request[Any, Any, Any], next: FromQuery[str | None] = None
) -> Response[Any]:
    return render(request, "account/login.html", {"next": safe_next(next, "")})


@post("/login", include_in_schema=False)
async def login_submit(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    form = await form_data(request)
    login = text(form, "login")
    target = safe_next(text(form, "next"), "")
    values = {"form": {"login": login}, "next": target}
    app = core
    try:
        result = await app.accounts.login(
            ctx,
            login,
            text(form, "password"),
            purpose=TokenPurpose.SESSION,
            devices=device_tokens(request),
        )
    except DomainError as exc:
        return form_failure(request, "account/login.html", values, exc, LOGIN_FIELDS)
    old = credentials(request).session_token
    if old:  # a new session id at every log-in; the old one dies
        await app.accounts.revoke(old, TokenPurpose.SESSION)
    set_session(request, result.token)
    remember_device(request, result.device_token)
    acc = result.account
    if acc.must_change_password:  # a password a super admin typed: their own first
        return redirect(request, CHANGE_PASSWORD_PATH)
    landing = home_of(acc)
    if acc.verified and target:
        landing = target
    # The first log-in after the e-mail was verified in this browser is a welcome,
    # not a "welcome back".
    first = acc.verified and request.cookies.get(WELCOME_COOKIE) == "1"
    if first:
        info(request).extra_cookies.append((WELCOME_COOKIE, "", {"max_age": 0}))
    return redirect(request, landing, flash="welcome" if first else "logged_in")


@post("/logout", include_in_schema=False, opt={PASSWORD_CHANGE_OPT: True})
async def logout(request: Request[Any, Any, Any], core: Core) -> Redirect:
    """Ends the log-in on the server: the session, and the bearer token the same
    JSON log-in issued (the device cookie stays: it is no credential)."""
    token = credentials(request).session_token
    if token:
        await core.accounts.logout(token, TokenPurpose.SESSION)
    clear_session(request)
    return redirect(request, "/", flash="logged_out")


# ---------------------------------------------------------------------- registration
@get("/register", include_in_schema=False)
async def register_form(request: Request[Any, Any, Any]) -> Response[Any]:
    return render(request, "account/register.html")


@post("/register", include_in_schema=False)
async def register_submit(request: Request[Any, Any, Any], core: Core) -> Response[Any]:
    form = await form_data(request)
    data = {name: text(form, name) for name in REGISTER_FIELDS}
    kept = {k: v for k, v in data.items() if not k.startswith("password")}

    async def call(ctx: Context) -> None:
        # None for an e-mail already registered: answered exactly like a new one.
        await core.accounts.register(ctx, RegisterInput(**data, language=info(request).language))

    try:
        return await form_call(
            request,
            {**data, "idempotency_key": form_key(form)},
            call,
            lambda _: "/login",
            "registered",
        )
    except DomainError as exc:
        return form_failure(request, "account/register.html", {"form": kept}, exc, REGISTER_FIELDS)


# ---------------------------------------------------------------------- e-mail verification
@get("/verify-email", include_in_schema=False)
async def verify_email_form(
    request: Request[Any, Any, Any], core: Core, token: FromQuery[str | None] = None
) -> Response[str]:
    """Shows a button only: mail scanners prefetch links, so GET consumes nothing.
    A link that no longer works (used, expired, replaced) says so, with the way
    on instead of the button."""
    value = token or ""
    if not await core.accounts.link_valid(TokenPurpose.VERIFY_EMAIL, value):
        value = ""
    return render(request, "account/verify_email.html", {"token": value})


@post("/verify-email", include_in_schema=False)
async def verify_email_submit(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx
) -> Response[Any]:
    """Consumes the link. When a verified account took the username meanwhile, the
    page asks for another one (the link still works); when one holds the NIK, it
    says how its owner gets it released."""
    form = await form_data(request)
    token = text(form, "token")
    username = text(form, "username").strip()
    try:
        await core.accounts.verify_email(ctx, token, username=username or None)
    except DomainError as exc:
        if dead_link(exc):  # no button for a link that cannot work any more
            token = ""
        values = {"token": token, "form": {"username": username}}
        return form_failure(request, "account/verify_email.html", values, exc, ("username",))
    acc = account(request)
    target = "/login" if acc is None else ("/backoffice" if acc.actor().is_staff else "/dashboard")
    if acc is None:  # the log-in that follows is the account's first one here
        info(request).extra_cookies.append((WELCOME_COOKIE, "1", {"max_age": 7 * 86400}))
    return redirect(request, target, flash="verified")


#: Above this, a pause is shown as a message only (the daily mail cap: until tomorrow).
COUNTDOWN_MAX_SECONDS = 3600


async def pending_page(
    request: Request[Any, Any, Any],
    core: Core,
    ctx: Ctx,
    values: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    wait: int = 0,
) -> Response[Any]:
    """The waiting page: the address, the resend button (paused with the seconds
    left after a link was sent) and the form that corrects the address."""
    wait = max(wait, await core.accounts.resend_wait(ctx))
    page = dict(values or {})
    page["wait"] = wait if wait <= COUNTDOWN_MAX_SECONDS else 0
    return render(
        request, "account/verify_pending.html", page, status_code=status_code, headers=headers
    )


def _failed_pending(
    request: Request[Any, Any, Any],
    core: Core,
    ctx: Ctx,
    exc: DomainError,
    values: dict[str, Any],
) -> Awaitable[Response[Any]]:
    """Re-show the waiting page after a refused resend or change of address."""
    errors, message, status, headers = failure(request, exc, ("email",))
    wait = exc.retry_after if isinstance(exc, Throttled) else 0
    return pending_page(
        request,
        core,
        ctx,
        {**values, "errors": errors, "form_error": message},
        status_code=status,
        headers=headers,
        wait=wait,
    )


@get("/verify-pending", include_in_schema=False)
async def verify_pending(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    acc = account(request)
    if acc is None:
        return Redirect(path="/login?next=/verify-pending", status_code=303)
    if acc.verified:
        return Redirect(path=home_of(acc), status_code=303)
    return await pending_page(request, core, ctx)


@post("/verify-pending", include_in_schema=False)
async def resend_verification(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx
) -> Response[Any]:
    acc = account(request)
    if acc is None:
        return Redirect(path="/login?next=/verify-pending", status_code=303)
    try:
        await core.accounts.resend_verification(ctx)
    except Conflict:  # already verified
        return Redirect(path=home_of(acc), status_code=303)
    except DomainError as exc:  # Throttled: 429 + Retry-After, and the seconds left
        return await _failed_pending(request, core, ctx, exc, {})
    return redirect(request, "/verify-pending", flash="verification_sent")


@post("/verify-pending/email", include_in_schema=False)
async def change_pending_email(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx
) -> Response[Any]:
    """Correct a mistyped address before it is verified: a new link goes to the
    address typed. The answer is the same whether or not another account has it."""
    acc = account(request)
    if acc is None:
        return Redirect(path="/login?next=/verify-pending", status_code=303)
    form = await form_data(request)
    email = text(form, "email")
    try:
        await core.accounts.change_pending_email(ctx, email)
    except Conflict:  # already verified
        return Redirect(path=home_of(acc), status_code=303)
    except DomainError as exc:
        return await _failed_pending(request, core, ctx, exc, {"form": {"email": email}})
    return redirect(request, "/verify-pending", flash="email_changed")


# ---------------------------------------------------------------------- passwords
@get("/forgot-password", include_in_schema=False)
async def forgot_form(request: Request[Any, Any, Any]) -> Response[str]:
    return render(request, "account/forgot_password.html")


@post("/forgot-password", include_in_schema=False)
async def forgot_submit(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    form = await form_data(request)
    email = text(form, "email")
    try:
        await core.accounts.forgot_password(ctx, email)
    except DomainError as exc:
        return form_failure(
            request, "account/forgot_password.html", {"form": {"email": email}}, exc, ("email",)
        )
    return redirect(request, "/login", flash="reset_sent")


@get("/reset-password", include_in_schema=False)
async def reset_form(
    request: Request[Any, Any, Any], core: Core, token: FromQuery[str | None] = None
) -> Response[str]:
    """The reset link's form; a link that no longer works says so, without it."""
    value = token or ""
    if not await core.accounts.link_valid(TokenPurpose.RESET_PASSWORD, value):
        value = ""
    return render(request, "account/reset_password.html", {"token": value})


@post("/reset-password", include_in_schema=False)
async def reset_submit(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    form = await form_data(request)
    token = text(form, "token")
    try:
        await core.accounts.reset_password(
            ctx, token, text(form, "password"), text(form, "password_confirm")
        )
    except DomainError as exc:
        return form_failure(
            request,
            "account/reset_password.html",
            {"token": "" if dead_link(exc) else token},
            exc,
            ("password", "password_confirm"),
        )
    clear_session(request)  # every session of the account is dead now
    return redirect(request, "/login", flash="password_reset")


ROUTES: list[Any] = [
    login_form,
    login_submit,
    logout,
    register_form,
    register_submit,
    verify_email_form,
    verify_email_submit,
    verify_pending,
    resend_verification,
    change_pending_email,
    forgot_form,
    forgot_submit,
    reset_form,
    reset_submit,
]
