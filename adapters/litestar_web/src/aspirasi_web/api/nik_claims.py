"""``/api/v1/admin/nik-holder`` and ``/api/v1/admin/nik-releases``: the super
admin's side of a NIK that another account verified first (see
``aspirasi_core.services.nik_claims``). The NIK travels in the body, never in a URL."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
from litestar import post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from aspirasi_core.domain.policy import Perm

from ..context import Core, Ctx
from ..guards import requires
from .bodies import NikBody, NikReleaseBody
from .openapi import problems
from .shapes import API, AccountOut, account_json, utc

TAGS = ["admin"]
ADMIN = [requires(Perm.ADMIN_MANAGE)]


class HolderOut(AccountOut, kw_only=True):
    email_verified_at: datetime | None


class Released(msgspec.Struct):
    status: Literal["released"]
    account: HolderOut


def _holder_json(account: Any) -> HolderOut:
    fields = msgspec.structs.asdict(account_json(account))
    return HolderOut(**fields, email_verified_at=utc(account.email_verified_at))


@post(
    f"{API}/admin/nik-holder",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Who holds a NIK",
    responses=problems(404),
)
async def nik_holder(core: Core, ctx: Ctx, data: JSONBody[NikBody]) -> HolderOut:
    """Body ``{nik}`` → the verified account holding it; 404 ``nik_not_registered``
    when none does. For checking a claim before releasing it."""
    holder = await core.nik_claims.holder(ctx, data.nik)
    return _holder_json(holder)


@post(
    f"{API}/admin/nik-releases",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Release a NIK",
    responses=problems(404),
)
async def release_nik(core: Core, ctx: Ctx, data: JSONBody[NikReleaseBody]) -> Released:
    """Body ``{nik, reason}``: takes the NIK away from the verified account holding
    it, after the super admin checked that it belongs to someone else (the reason
    says what was checked; the holder is told by mail). → ``{status, account}``,
    the former holder. 404 ``nik_not_registered``; 422 for a bad NIK or no reason."""
    released = await core.nik_claims.release(ctx, data.nik, data.reason)
    return Released(status="released", account=_holder_json(released))


ROUTES = [nik_holder, release_nik]
