"""``/api/v1/me``: one's own profile and password; a citizen's export of their data
and deletion of their account (UU 27/2022)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from aspirasi_core.security.tokens import TokenPurpose

from ..context import Core, Ctx, CurrentActor, credentials, info
from ..downloads import export_response
from ..guards import signed_in, signed_in_any
from ..middleware import SESSION_COOKIE
from .bodies import NO_PASSWORD, PasswordBody, PasswordOnlyBody, ProfileBody
from .common import API
from .openapi import problems
from .shapes import AccountOut, PasswordChanged, account_json, utc

TAGS = ["me"]


@get(f"{API}/me", guards=[signed_in_any], tags=TAGS, summary="Own profile")
async def me(core: Core, ctx: Ctx) -> AccountOut:
    """The signed-in account (also for unverified accounts)."""
    return account_json(await core.accounts.me(ctx), own=True)


@patch(f"{API}/me", guards=[signed_in], tags=TAGS, summary="Change own profile")
async def update_me(core: Core, ctx: Ctx, data: JSONBody[ProfileBody]) -> AccountOut:
    """Body ``{full_name?, language? ("id" | "en")}``."""
    account = await core.accounts.update_profile(
        ctx, full_name=data.full_name, language=data.language
    )
    return account_json(account, own=True)


@post(
    f"{API}/me/password",
    guards=[signed_in],
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Change own password",
    cache_control=CacheControlHeader(no_store=True),
    responses=problems(429),
)
async def change_password(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, data: JSONBody[PasswordBody]
) -> PasswordChanged:
    """Body ``{current_password, password, password_confirm}``. Every other
    session and token dies; a bearer caller gets a new ``token``, a browser a new
    session cookie."""
    i = info(request)
    bearer = credentials(request).method == "bearer"
    result = await core.accounts.change_password(
        ctx,
        data.current_password,
        data.password,
        data.password_confirm,
        purpose=TokenPurpose.API if bearer else TokenPurpose.SESSION,
    )
    if bearer:
        return PasswordChanged(
            status="password_changed", token=result.token, expires_at=utc(result.expires_at)
        )
    i.extra_cookies.append((SESSION_COOKIE, result.token, {"max_age": None}))
    return PasswordChanged(status="password_changed")


@get(
    f"{API}/me/export",
    tags=TAGS,
    summary="Download all one's data (citizens)",
    media_type="application/zip",
    responses=problems(429),
)
async def export_me(core: Core, ctx: Ctx, actor: CurrentActor) -> Stream:
    """A ZIP with ``data.json`` (the account with its NIK, every message sent with its
    log, reply, rating and attachment list) and ``attachments/<ticket>/`` (the files).
    Citizens only (403 ``citizens_only`` for staff)."""
    return export_response(await core.data_rights.export(ctx))


@delete(
    f"{API}/me",
    guards=[signed_in],
    tags=TAGS,
    summary="Delete one's own account (citizens)",
    responses=problems(429),
)
async def delete_me(
    request: Request[Any, Any, Any],
    core: Core,
    ctx: Ctx,
    data: JSONBody[PasswordOnlyBody] = NO_PASSWORD,
) -> Response[None]:
    """Body ``{password}``. The account is emptied of personal data and can never log
    in again; every session and token ends; the messages stay, without a sender, and
    the files attached to them are deleted. 422 ``password_wrong`` for a wrong
    password; citizens only (403 ``citizens_only`` for staff)."""
    await core.data_rights.delete_account(ctx, data.password)
    if credentials(request).session_token:
        info(request).extra_cookies.append((SESSION_COOKIE, "", {"max_age": 0}))
    return Response(content=None, status_code=HTTP_204_NO_CONTENT)


ROUTES = [me, update_me, change_password, export_me, delete_me]
