"""Choosing one's own password: the page an account whose password a super admin
typed is sent to (and the only one it may use until done, see
:mod:`aspirasi_web.guards`), and the page of a staff invitation's link, where the
invited person sets their first password."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery

from aspirasi_core.domain.errors import DomainError
from aspirasi_core.security.tokens import TokenPurpose

from ..context import Core, Ctx
from ..guards import CHANGE_PASSWORD_PATH, PASSWORD_CHANGE_OPT, signed_in_any
from ..templating import redirect, render
from .account import clear_session, dead_link, home_of, set_session
from .public import form_data, form_failure, text

PASSWORD_FIELDS = ("current_password", "password", "password_confirm")
ALLOWED = {PASSWORD_CHANGE_OPT: True}


@get(CHANGE_PASSWORD_PATH, guards=[signed_in_any], include_in_schema=False, opt=ALLOWED)
async def change_form(request: Request[Any, Any, Any]) -> Response[str]:
    """Change one's password; a first log-in with a typed password is told why."""
    return render(request, "account/change_password.html")


@post(CHANGE_PASSWORD_PATH, guards=[signed_in_any], include_in_schema=False, opt=ALLOWED)
async def change_submit(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    """Every other session ends; this browser gets a new one and goes on to its
    home page."""
    form = await form_data(request)
    try:
        result = await core.accounts.change_password(
            ctx,
            text(form, "current_password"),
            text(form, "password"),
            text(form, "password_confirm"),
            purpose=TokenPurpose.SESSION,
        )
    except DomainError as exc:
        return form_failure(request, "account/change_password.html", {}, exc, PASSWORD_FIELDS)
    set_session(request, result.token)
    return redirect(request, home_of(result.account), flash="password_chosen")


@get("/invitation", include_in_schema=False, opt=ALLOWED)
async def invitation_form(
    request: Request[Any, Any, Any], core: Core, token: FromQuery[str | None] = None
) -> Response[str]:
    """The invitation link: choose a password (a link that no longer works says
    so, without the form)."""
    value = (token or "")[:200]
    if not await core.accounts.link_valid(TokenPurpose.INVITATION, value):
        value = ""
    return render(request, "account/invitation.html", {"token": value})


@post("/invitation", include_in_schema=False, opt=ALLOWED)
async def invitation_submit(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    """Set the first password with the invitation's token (single use); then log in."""
    form = await form_data(request)
    token = text(form, "token")
    try:
        await core.accounts.accept_invitation(
            ctx, token, text(form, "password"), text(form, "password_confirm")
        )
    except DomainError as exc:
        return form_failure(
            request,
            "account/invitation.html",
            {"token": "" if dead_link(exc) else token},
            exc,
            ("password", "password_confirm"),
        )
    clear_session(request)  # whoever was signed in in this browser is not the invitee
    return redirect(request, "/login", flash="invitation_accepted")


ROUTES: list[Any] = [change_form, change_submit, invitation_form, invitation_submit]
