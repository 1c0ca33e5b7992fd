"""A signed-in person's settings: profile and language, password, the export of
one's data and the deletion of one's account."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from aspirasi_core.domain.errors import DomainError
from aspirasi_core.security.tokens import TokenPurpose

from ..context import Core, Ctx, context, core, info
from ..downloads import export_response
from ..i18n import LANGUAGE_NAMES, LANGUAGES
from ..middleware import LANG_COOKIE
from ..templating import redirect, render
from .account import clear_session, set_session
from .citizen import signed_in
from .public import failure, form_data, text

PROFILE_FIELDS = ("full_name", "language")
PASSWORD_FIELDS = ("current_password", "password", "password_confirm")
DELETE_FIELDS = ("password",)


# ---------------------------------------------------------------------- settings
async def _settings_page(
    request: Request[Any, Any, Any], values: dict[str, Any] | None = None
) -> dict[str, Any]:
    me = await core(request).accounts.me(context(request))
    out: dict[str, Any] = {
        "me": me,
        "language_choices": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "profile": {"full_name": me.full_name, "language": me.language},
        "profile_errors": {},
        "password_errors": {},
        "profile_error": None,
        "password_error": None,
        "data_errors": {},
        "data_error": None,
    }
    out.update(values or {})
    return out


async def _settings_failure(
    request: Request[Any, Any, Any],
    exc: DomainError,
    prefix: str,
    fields: tuple[str, ...],
    **values: Any,
) -> Response[Any]:
    """The settings page again after a domain error in one of its forms (``prefix``:
    profile, password or data), with ``values`` for the page."""
    errors, message, status, headers = failure(request, exc, fields)
    values.update({f"{prefix}_errors": errors, f"{prefix}_error": message})
    page = await _settings_page(request, values)
    return render(request, "citizen/settings.html", page, status_code=status, headers=headers)


@get("/settings", include_in_schema=False)
async def settings_page(request: Request[Any, Any, Any]) -> Response[Any]:
    a = signed_in(request)
    if isinstance(a, Redirect):
        return a
    return render(request, "citizen/settings.html", await _settings_page(request))


@post("/settings", include_in_schema=False)
async def settings_profile(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    a = signed_in(request)
    if isinstance(a, Redirect):
        return a
    form = await form_data(request)
    full_name = text(form, "full_name")
    language = text(form, "language")
    try:
        saved = await core.accounts.update_profile(ctx, full_name=full_name, language=language)
    except DomainError as exc:
        return await _settings_failure(
            request,
            exc,
            "profile",
            PROFILE_FIELDS,
            profile={"full_name": full_name, "language": language},
        )
    info(request).extra_cookies.append((LANG_COOKIE, saved.language, {"max_age": 365 * 24 * 3600}))
    return redirect(request, "/settings", flash="profile_saved")


@post("/settings/password", include_in_schema=False)
async def settings_password(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    a = signed_in(request)
    if isinstance(a, Redirect):
        return a
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
        return await _settings_failure(request, exc, "password", PASSWORD_FIELDS)
    set_session(request, result.token)  # every other session died with the change
    return redirect(request, "/settings", flash="password_changed")


@get("/settings/export", include_in_schema=False)
async def settings_export(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    """The citizen's data as a ZIP download (the button on the settings page)."""
    a = signed_in(request)
    if isinstance(a, Redirect):
        return a
    try:
        export = await core.data_rights.export(ctx)
    except DomainError as exc:
        return await _settings_failure(request, exc, "data", DELETE_FIELDS)
    return export_response(export)


@post("/settings/delete", include_in_schema=False)
async def settings_delete(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    """Delete the citizen's account after their password; back to the home page."""
    a = signed_in(request)
    if isinstance(a, Redirect):
        return a
    form = await form_data(request)
    try:
        await core.data_rights.delete_account(ctx, text(form, "delete_password"))
    except DomainError as exc:
        return await _settings_failure(request, exc, "data", DELETE_FIELDS)
    clear_session(request)  # every session died with the account
    return redirect(request, "/", flash="account_deleted")


ROUTES: list[Any] = [
    settings_page,
    settings_profile,
    settings_password,
    settings_export,
    settings_delete,
]
