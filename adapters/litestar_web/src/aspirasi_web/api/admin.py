"""``/api/v1/admin/*``: the super admin's accounts, agencies, categories and
sub-categories (list, create, update, deactivate), and the extra days off of
the SOP calendar."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.policy import Perm
from aspirasi_core.domain.validation import check_id
from aspirasi_core.services import UNSET, AccountChanges, StaffInput

from ..context import Core, Ctx
from ..guards import requires
from .bodies import (
    AccountChangesBody,
    EntryBody,
    EntryChangesBody,
    InvitationBody,
    StaffBody,
    SubcategoryBody,
    SubcategoryChangesBody,
)
from .common import API, Limit, QueryId, query_int, query_limit
from .days_off import query_year as query_year  # the admin pages read ?year= alike
from .openapi import LINKS_TO, problems
from .shapes import (
    AccountOut,
    AgencyOut,
    CategoryOut,
    Page,
    SubcategoryOut,
    account_json,
    agency_json,
    category_json,
    page_of,
    subcategory_json,
)

TAGS = ["admin"]
#: Every route here: the super admin (``admin.manage``); others 401/403 before the body is read.
ADMIN = [requires(Perm.ADMIN_MANAGE)]


def _unset(value: Any) -> Any:
    """msgspec's "not sent" as the core's."""
    return UNSET if value is msgspec.UNSET else value


def _agency(value: int | None) -> int | None:
    return None if value is None else check_id(value, "agency_id")


# ---------------------------------------------------------------------- accounts
@get(f"{API}/admin/users", guards=ADMIN, tags=TAGS, summary="Accounts")
async def list_users(
    core: Core,
    ctx: Ctx,
    role: FromQuery[str | None] = None,
    agency_id: QueryId = None,
    q: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
) -> Page[AccountOut]:
    """Super admin: the accounts, filtered by ``role``, ``agency_id`` and ``q``
    (name, username or e-mail), cursor-paginated."""
    result = await core.admin.list_accounts(
        ctx,
        role=role or None,
        agency_id=query_int(agency_id, "agency_id"),
        text=q,
        cursor=cursor,
        limit=query_limit(limit),
    )
    return page_of(result, account_json)


@post(
    f"{API}/admin/users",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create a staff account",
    responses=problems(409),
)
async def create_user(core: Core, ctx: Ctx, data: JSONBody[StaffBody]) -> AccountOut:
    """Body ``{email, username, full_name, password, role: "admin" | "operator",
    agency_id (operators), permissions?}``."""
    account = await core.admin.create_staff(
        ctx,
        StaffInput(
            email=data.email,
            username=data.username,
            full_name=data.full_name,
            password=data.password,
            role=data.role,
            agency_id=_agency(data.agency_id),
            permissions=tuple(data.permissions),
            # a typed password is the new staff member's to replace at first log-in
            must_change_password=True,
        ),
    )
    return account_json(account)


@post(
    f"{API}/admin/invitations",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Invite a staff member",
    responses=problems(409),
    opt={LINKS_TO: f"{API}/admin/users"},
)
async def invite_user(core: Core, ctx: Ctx, data: JSONBody[InvitationBody]) -> AccountOut:
    """Body ``{email, full_name, role: "admin" | "operator", agency_id (operators),
    username?, permissions?}``: the account is made without a password and its
    owner gets a link by mail to choose one (single use, expiring); the answer is
    the new account."""
    account = await core.admin.invite_staff(
        ctx,
        StaffInput(
            email=data.email,
            username=data.username,
            full_name=data.full_name,
            password="",
            role=data.role,
            agency_id=_agency(data.agency_id),
            permissions=tuple(data.permissions),
        ),
    )
    return account_json(account)


@get(f"{API}/admin/users/{{account_id:int}}", guards=ADMIN, tags=TAGS, summary="One account")
async def get_user(core: Core, ctx: Ctx, account_id: FromPath[int]) -> AccountOut:
    """Super admin: one account."""
    return account_json(await core.admin.get_account(ctx, account_id))


@patch(
    f"{API}/admin/users/{{account_id:int}}",
    guards=ADMIN,
    tags=TAGS,
    summary="Change an account",
    responses=problems(409),
)
async def update_user(
    core: Core, ctx: Ctx, account_id: FromPath[int], data: JSONBody[AccountChangesBody]
) -> AccountOut:
    """Body (all optional) ``{role, agency_id, permissions: [...], is_active,
    full_name}``; ``{"is_active": false}`` deactivates (and ends the sessions)."""
    account = await core.admin.update_account(
        ctx,
        account_id,
        AccountChanges(
            role=data.role,
            agency_id=_agency(data.agency_id),
            permissions=None if data.permissions is None else tuple(data.permissions),
            is_active=data.is_active,
            full_name=data.full_name,
        ),
    )
    return account_json(account)


@delete(
    f"{API}/admin/users/{{account_id:int}}",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Deactivate an account",
    responses=problems(409),
)
async def deactivate_user(core: Core, ctx: Ctx, account_id: FromPath[int]) -> None:
    """Super admin: deactivate an account (it can no longer log in; its
    sessions and tokens end). Nothing is deleted."""
    await core.admin.update_account(ctx, account_id, AccountChanges(is_active=False))


# ---------------------------------------------------------------------- agencies
@get(f"{API}/admin/agencies", guards=ADMIN, tags=TAGS, summary="Agencies (with inactive ones)")
async def list_agencies(core: Core, ctx: Ctx) -> Page[AgencyOut]:
    """Super admin: every agency, deactivated ones included (``is_active``)."""
    found = await core.admin.agencies(ctx, include_inactive=True)
    return Page(items=[agency_json(a) for a in found], next_cursor=None)


@post(
    f"{API}/admin/agencies",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create an agency",
    responses=problems(409),
)
async def create_agency(core: Core, ctx: Ctx, data: JSONBody[EntryBody]) -> AgencyOut:
    """Body ``{name, code}``."""
    agency = await core.admin.create_entry(ctx, "agency", code=data.code, name=data.name)
    return agency_json(agency)


@patch(
    f"{API}/admin/agencies/{{agency_id:int}}", guards=ADMIN, tags=TAGS, summary="Change an agency"
)
async def update_agency(
    core: Core, ctx: Ctx, agency_id: FromPath[int], data: JSONBody[EntryChangesBody]
) -> AgencyOut:
    """Body ``{name?, is_active?}``."""
    agency = await core.admin.update_entry(
        ctx, "agency", agency_id, name=data.name, is_active=data.is_active
    )
    return agency_json(agency)


@delete(
    f"{API}/admin/agencies/{{agency_id:int}}",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Deactivate an agency",
)
async def deactivate_agency(core: Core, ctx: Ctx, agency_id: FromPath[int]) -> None:
    """Super admin: deactivate an agency: no longer offered when forwarding;
    its messages and accounts stay."""
    await core.admin.update_entry(ctx, "agency", agency_id, is_active=False)


# ---------------------------------------------------------------------- categories
@get(f"{API}/admin/categories", guards=ADMIN, tags=TAGS, summary="Categories")
async def list_categories(core: Core) -> Page[CategoryOut]:
    """Super admin: every category, deactivated ones included (``is_active``)."""
    found = await core.admin.categories()
    return Page(items=[category_json(c) for c in found], next_cursor=None)


@post(
    f"{API}/admin/categories",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create a category",
    responses=problems(409),
)
async def create_category(core: Core, ctx: Ctx, data: JSONBody[EntryBody]) -> CategoryOut:
    """Body ``{name, code}``."""
    category = await core.admin.create_entry(ctx, "category", code=data.code, name=data.name)
    return category_json(category)


@patch(
    f"{API}/admin/categories/{{category_id:int}}",
    guards=ADMIN,
    tags=TAGS,
    summary="Rename a category",
)
async def update_category(
    core: Core, ctx: Ctx, category_id: FromPath[int], data: JSONBody[EntryChangesBody]
) -> CategoryOut:
    """Body ``{name}``. Categories cannot be deactivated."""
    if data.is_active is not None:
        raise Invalid.field("is_active", "not_supported", "Categories cannot be deactivated.")
    category = await core.admin.update_entry(ctx, "category", category_id, name=data.name or "")
    return category_json(category)


# ---------------------------------------------------------------------- sub-categories
@get(
    f"{API}/admin/subcategories",
    guards=ADMIN,
    tags=TAGS,
    summary="Sub-categories (with inactive ones)",
)
async def list_subcategories(core: Core, category_id: QueryId = None) -> Page[SubcategoryOut]:
    """Super admin: every sub-category, deactivated ones included, of one
    ``category_id`` or of all."""
    found = await core.admin.subcategories(
        query_int(category_id, "category_id"), include_inactive=True
    )
    return Page(items=[subcategory_json(s) for s in found], next_cursor=None)


@post(
    f"{API}/admin/subcategories",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create a sub-category",
    responses=problems(409),
)
async def create_subcategory(
    core: Core, ctx: Ctx, data: JSONBody[SubcategoryBody]
) -> SubcategoryOut:
    """Body ``{category_id, name, code}``."""
    sub = await core.admin.create_entry(
        ctx,
        "subcategory",
        category_id=data.category_id,
        code=data.code,
        name=data.name,
    )
    return subcategory_json(sub)


@patch(
    f"{API}/admin/subcategories/{{subcategory_id:int}}",
    guards=ADMIN,
    tags=TAGS,
    summary="Change a sub-category",
)
async def update_subcategory(
    core: Core,
    ctx: Ctx,
    subcategory_id: FromPath[int],
    data: JSONBody[SubcategoryChangesBody],
) -> SubcategoryOut:
    """Body ``{name?, is_active?, sop_confirm_days?, sop_reply_days?}``: the SOP
    days are working days (1 to 365); null or "" returns to the default of the
    settings. Changing them re-times the open messages of the sub-category."""
    sub = await core.admin.update_entry(
        ctx,
        "subcategory",
        subcategory_id,
        name=data.name,
        is_active=data.is_active,
        sop_confirm_days=_unset(data.sop_confirm_days),
        sop_reply_days=_unset(data.sop_reply_days),
    )
    return subcategory_json(sub)


@delete(
    f"{API}/admin/subcategories/{{subcategory_id:int}}",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Deactivate a sub-category",
)
async def deactivate_subcategory(core: Core, ctx: Ctx, subcategory_id: FromPath[int]) -> None:
    """Super admin: deactivate a sub-category: no longer offered when
    forwarding; its messages keep it."""
    await core.admin.update_entry(ctx, "subcategory", subcategory_id, is_active=False)


ROUTES = [
    list_users,
    create_user,
    invite_user,
    get_user,
    update_user,
    deactivate_user,
    list_agencies,
    create_agency,
    update_agency,
    deactivate_agency,
    list_categories,
    create_category,
    update_category,
    list_subcategories,
    create_subcategory,
    update_subcategory,
    deactivate_subcategory,
]
