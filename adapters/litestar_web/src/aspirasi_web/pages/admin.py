"""Super-admin pages (``admin.manage``): accounts, agencies, categories and
sub-categories (with their SOP days), the days off of the SOP calendar, and the
outbox's dead letters.

The use cases of :class:`~aspirasi_core.services.admin.AdminService` check the
permission and validate; these handlers check it first too (the outbox calls
have no actor) and show what the core answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aspirasi_core.domain.errors import Conflict, Invalid
from aspirasi_core.domain.model import Role
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import UNSET, AccountChanges, StaffInput

from ..api.admin import query_year
from ..api.common import form_int
from ..context import context, core, require_permission, translator
from ..templating import form_errors, redirect, render
from .backoffice import local_day


def _manager(request: Request[Any, Any, Any]) -> None:
    require_permission(request, Perm.ADMIN_MANAGE)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _active_flag(request: Request[Any, Any, Any], form: Any) -> bool:
    """The ``active`` field: "1" or "0"; anything else is refused (a bare POST changes nothing)."""
    value = _text(form, "active")
    if value not in ("0", "1"):
        raise Invalid.field("active", "flag_invalid", "Choose yes or no.")
    return value == "1"


def _staff_roles(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """(name, label) of the levels a super admin may give: staff, not super admin."""
    policy = core(request).deps.policy
    return [
        (name, decl.label)
        for name, decl in policy.roles.items()
        if decl.staff and name != Role.SUPER_ADMIN
    ]


def _permissions(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    policy = core(request).deps.policy
    return sorted((name, policy.permissions[name].description) for name in policy.grantable())


async def _attempt(
    request: Request[Any, Any, Any],
    call: Callable[[], Awaitable[Any]],
    on_error: Callable[[dict[str, list[str]], str | None, int], Awaitable[Response[Any]]],
) -> Response[Any] | None:
    """Run ``call``; on Invalid/Conflict answer ``on_error(errors, message, status)``."""
    t = translator(request)
    try:
        await call()
    except Invalid as exc:
        errors = form_errors(request, exc)
        message = t("Please correct the marked fields.") if exc.errors else t.error(exc)
        return await on_error(errors, message, 422)
    except Conflict as exc:
        return await on_error({}, t.error(exc), 409)
    return None


# ---------------------------------------------------------------------------- accounts


async def _users_page(
    request: Request[Any, Any, Any],
    *,
    role: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    status_code: int = 200,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, Any] | None = None,
    form_error: str | None = None,
) -> Response[str]:
    app = core(request)
    ctx = context(request)
    filter_errors: dict[str, list[str]] = {}
    items: tuple[Any, ...] = ()
    next_cursor = None
    roles = [(name, decl.label) for name, decl in app.deps.policy.roles.items()]
    if role and role not in dict(roles):
        filter_errors["role"] = [translator(request)("Choose a known level.")]
        status_code = 422
    else:
        try:
            page = await app.admin.list_accounts(
                ctx, role=role or None, text=q or None, cursor=cursor
            )
            items, next_cursor = page.items, page.next_cursor
        except Invalid as exc:
            filter_errors = form_errors(request, exc)
            status_code = 422
    agencies = await app.admin.agencies(ctx, include_inactive=True)
    return render(
        request,
        "admin/users.html",
        {
            "items": items,
            "next_cursor": next_cursor,
            "roles": roles,
            "staff_roles": _staff_roles(request),
            "permissions": _permissions(request),
            "agencies": agencies,
            "agency_names": {a.id: a.name for a in agencies},
            "filter": {"role": role or "", "q": q or ""},
            "filter_errors": filter_errors,
            "errors": errors or {},
            "form": form or {"role": Role.OPERATOR, "permissions": []},
            "form_error": form_error,
        },
        status_code=status_code,
    )


@get("/admin/users", include_in_schema=False)
async def users(
    request: Request[Any, Any, Any],
    role: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Response[str]:
    """Accounts, filtered by level and searched by name, username or e-mail; the create form."""
    _manager(request)
    return await _users_page(request, role=role, q=q, cursor=cursor)


@post("/admin/users", include_in_schema=False)
async def create_user(request: Request[Any, Any, Any]) -> Response[Any]:
    """Create an admin or operator account with an initial password."""
    _manager(request)
    data = await request.form()
    form: dict[str, Any] = {
        k: _text(data, k) for k in ("email", "username", "full_name", "role", "agency_id")
    }
    form["permissions"] = [p for p in data.getall("permissions", []) if isinstance(p, str)]
    password = _text(data, "password")
    agency = form["agency_id"].strip()
    payload = StaffInput(
        email=form["email"],
        username=form["username"],
        full_name=form["full_name"],
        password=password,
        role=form["role"],
        agency_id=form_int(agency) if agency else None,
        permissions=tuple(form["permissions"]),
    )

    async def call() -> None:
        await core(request).admin.create_staff(context(request), payload)

    async def on_error(
        errors: dict[str, list[str]], message: str | None, status: int
    ) -> Response[Any]:
        return await _users_page(
            request, status_code=status, errors=errors, form=form, form_error=message
        )

    failed = await _attempt(request, call, on_error)
    return failed or redirect(request, "/admin/users", flash="saved")


async def _user_page(
    request: Request[Any, Any, Any],
    account_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, Any] | None = None,
    form_error: str | None = None,
) -> Response[str]:
    app = core(request)
    ctx = context(request)
    found = await app.admin.get_account(ctx, account_id)
    agencies = await app.admin.agencies(ctx, include_inactive=True)
    values = form or {
        "role": found.role,
        "agency_id": str(found.agency_id or ""),
        "full_name": found.full_name,
        "permissions": sorted(found.permissions),
    }
    return render(
        request,
        "admin/user.html",
        {
            "u": found,
            "staff_roles": _staff_roles(request),
            "permissions": _permissions(request),
            "agencies": agencies,
            "agency_names": {a.id: a.name for a in agencies},
            "editable_role": found.role not in (Role.USER, Role.SUPER_ADMIN),
            "errors": errors or {},
            "form": values,
            "form_error": form_error,
        },
        status_code=status_code,
    )


@get("/admin/users/{account_id:int}", include_in_schema=False)
async def user(request: Request[Any, Any, Any], account_id: FromPath[int]) -> Response[str]:
    _manager(request)
    return await _user_page(request, account_id)


@post("/admin/users/{account_id:int}", include_in_schema=False)
async def update_user(request: Request[Any, Any, Any], account_id: FromPath[int]) -> Response[Any]:
    """Change level, agency, permissions and name."""
    _manager(request)
    app = core(request)
    found = await app.admin.get_account(context(request), account_id)
    data = await request.form()
    form: dict[str, Any] = {k: _text(data, k) for k in ("role", "agency_id", "full_name")}
    form["permissions"] = [p for p in data.getall("permissions", []) if isinstance(p, str)]
    editable = found.role not in (Role.USER, Role.SUPER_ADMIN)
    agency = form["agency_id"].strip()
    changes = AccountChanges(
        role=form["role"] if editable and form["role"] else None,
        agency_id=form_int(agency) if editable and agency else None,
        permissions=tuple(form["permissions"]),
        full_name=form["full_name"] if form["full_name"].strip() else None,
    )

    async def call() -> None:
        await app.admin.update_account(context(request), account_id, changes)

    async def on_error(
        errors: dict[str, list[str]], message: str | None, status: int
    ) -> Response[Any]:
        return await _user_page(
            request, account_id, status_code=status, errors=errors, form=form, form_error=message
        )

    failed = await _attempt(request, call, on_error)
    return failed or redirect(request, f"/admin/users/{account_id}", flash="saved")


@post("/admin/users/{account_id:int}/active", include_in_schema=False)
async def set_user_active(
    request: Request[Any, Any, Any], account_id: FromPath[int]
) -> Response[Any]:
    """Deactivate (``active=0``; ends the account's sessions) or reactivate (``active=1``)."""
    _manager(request)
    data = await request.form()

    async def call() -> None:
        active = _active_flag(request, data)
        await core(request).admin.update_account(
            context(request), account_id, AccountChanges(is_active=active)
        )

    async def on_error(
        errors: dict[str, list[str]], message: str | None, status: int
    ) -> Response[Any]:
        return await _user_page(
            request, account_id, status_code=status, errors=errors, form_error=message
        )

    failed = await _attempt(request, call, on_error)
    return failed or redirect(request, f"/admin/users/{account_id}", flash="saved")


# ---------------------------------------------------------------------------- agencies


async def _agencies_page(
    request: Request[Any, Any, Any],
    *,
    status_code: int = 200,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, Any] | None = None,
    form_error: str | None = None,
    failed: str | None = None,
) -> Response[str]:
    items = await core(request).admin.agencies(context(request), include_inactive=True)
    return render(
        request,
        "admin/agencies.html",
        {
            "items": items,
            "errors": errors or {},
            "form": form or {},
            "form_error": form_error,
            "failed": failed,
        },
        status_code=status_code,
    )


@get("/admin/agencies", include_in_schema=False)
async def agencies(request: Request[Any, Any, Any]) -> Response[str]:
    _manager(request)
    return await _agencies_page(request)


@post("/admin/agencies", include_in_schema=False)
async def create_agency(request: Request[Any, Any, Any]) -> Response[Any]:
    _manager(request)
    data = await request.form()
    form = {"code": _text(data, "code"), "name": _text(data, "name")}

    async def call() -> None:
        await core(request).admin.create_entry(
            context(request), "agency", code=form["code"], name=form["name"]
        )

    async def on_error(
        errors: dict[str, list[str]], message: str | None, status: int
    ) -> Response[Any]:
        return await _agencies_page(
            request,
            status_code=status,
            errors=errors,
            form=form,
            form_error=message,
            failed="create",
        )

    failed = await _attempt(request, call, on_error)
    return failed or redirect(request, "/admin/agencies", flash="saved")


@post("/admin/agencies/{agency_id:int}", include_in_schema=False)
async def rename_agency(request: Request[Any, Any, Any], agency_id: FromPath[int]) -> Response[Any]:
    _manager(request)
    data = await request.form()
    form = {"name": _text(data, "name")}

    async def call() -> None:
        await core(request).admin.update_entry(
            context(request), "agency", agency_id, name=form["name"]
        )

    async def on_error(
        errors: dict[str, list[str]], message: str | None, status: int
    ) -> Response[Any]:
        return await _agencies_page(
            request,
            status_code=status,
            errors=errors,
            form=form,
            form_error=message,
            failed=f"agency-{agency_id}",
        )

    failed = await _attempt(request, call, on_error)
    return failed or redirect(request, "/admin/agencies", flash="saved")


@post("/admin/agencies/{agency_id:int}/active", include_in_schema=False)
async def set_agency_active(
    request: Request[Any, Any, Any], agency_id: FromPath[int]
) -> Response[Any]:
    _manager(request)
    data = await request.form()

    async def call() -> None:
        active = _active_flag(request, data)
        await core(request).admin.update_entry(
            context(request), "agency", agency_id, is_active=active
        )

    async def on_error(
        errors: dict[str, list[str]], message: str | None, status: int
    ) -> Response[Any]:
        return await _agencies_page(
            request,
            status_code=status,
            errors=errors,
            form_error=message,
            failed=f"agency-{agency_id}",
        )

    failed = await _attempt(request, call, on_error)
    return failed or redirect(request, "/admin/agencies", flash="saved")


# ---------------------------------------------------------------------------- categories


async def _categories_page(
    request: Request[Any, Any, Any],
    *,
    status_code: int = 200,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, Any] | None = None,
    form_error: str | None = None,
    failed: str | None = None,
) -> Response[str]:
    app = core(request)
    categories = await app.admin.categories()
    subs = await app.admin.subcategories(include_inactive=True)
    return render(
        request,
        "admin/categories.html",
        {
            "categories": categories,
            "subs": {c.id: [s for s in subs if s.category_id == c.id] for c in categories},
            "sop_defaults": app.sop.default_days,
            "errors": errors or {},
            "form": form or {},
            "form_error": form_error,
            "failed": failed,
        },
        status_code=status_code,
    )


@get("/admin/categories", include_in_schema=False)
async def categories(request: Request[Any, Any, Any]) -> Response[str]:
    """Categories and their sub-categories."""
    _manager(request)
    return await _categories_page(request)


def _category_error_page(
    request: Request[Any, Any, Any], form: dict[str, Any], failed: str
) -> Callable[[dict[str, list[str]], str | None, int], Awaitable[Response[Any]]]:
    async def on_error(
        errors: dict[str, list[str]], message: str | None, status: int
    ) -> Response[Any]:
        return await _categories_page(
            request, status_code=status, errors=errors, form=form, form_error=message, failed=failed
        )

    return on_error


@post("/admin/categories", include_in_schema=False)
async def create_category(request: Request[Any, Any, Any]) -> Response[Any]:
    _manager(request)
    data = await request.form()
    form = {"code": _text(data, "code"), "name": _text(data, "name")}

    async def call() -> None:
        await core(request).admin.create_entry(
            context(request), "category", code=form["code"], name=form["name"]
        )

    failed = await _attempt(request, call, _category_error_page(request, form, "category"))
    return failed or redirect(request, "/admin/categories", flash="saved")


@post("/admin/categories/{category_id:int}", include_in_schema=False)
async def rename_category(
    request: Request[Any, Any, Any], category_id: FromPath[int]
) -> Response[Any]:
    _manager(request)
    data = await request.form()
    form = {"name": _text(data, "name")}

    async def call() -> None:
        await core(request).admin.update_entry(
            context(request), "category", category_id, name=form["name"]
        )

    failed = await _attempt(
        request, call, _category_error_page(request, form, f"category-{category_id}")
    )
    return failed or redirect(request, "/admin/categories", flash="saved")


@post("/admin/subcategories", include_in_schema=False)
async def create_subcategory(request: Request[Any, Any, Any]) -> Response[Any]:
    _manager(request)
    data = await request.form()
    form = {k: _text(data, k) for k in ("category_id", "code", "name")}

    async def call() -> None:
        await core(request).admin.create_entry(
            context(request),
            "subcategory",
            category_id=form_int(form["category_id"]),
            code=form["code"],
            name=form["name"],
        )

    failed = await _attempt(request, call, _category_error_page(request, form, "subcategory"))
    return failed or redirect(request, "/admin/categories", flash="saved")


@post("/admin/subcategories/{subcategory_id:int}", include_in_schema=False)
async def rename_subcategory(
    request: Request[Any, Any, Any], subcategory_id: FromPath[int]
) -> Response[Any]:
    _manager(request)
    data = await request.form()
    form = {"name": _text(data, "name")}
    sop: dict[str, Any] = {}
    for name in ("sop_confirm_days", "sop_reply_days"):
        # a form without the field leaves the SOP as it is; an empty one resets it
        sop[name] = _text(data, name) if name in data else UNSET
        if name in data:
            form[name] = _text(data, name)

    async def call() -> None:
        await core(request).admin.update_entry(
            context(request), "subcategory", subcategory_id, name=form["name"], **sop
        )

    failed = await _attempt(
        request, call, _category_error_page(request, form, f"sub-{subcategory_id}")
    )
    return failed or redirect(request, "/admin/categories", flash="saved")


@post("/admin/subcategories/{subcategory_id:int}/active", include_in_schema=False)
async def set_subcategory_active(
    request: Request[Any, Any, Any], subcategory_id: FromPath[int]
) -> Response[Any]:
    _manager(request)
    data = await request.form()

    async def call() -> None:
        active = _active_flag(request, data)
        await core(request).admin.update_entry(
            context(request), "subcategory", subcategory_id, is_active=active
        )

    failed = await _attempt(
        request, call, _category_error_page(request, {}, f"sub-{subcategory_id}")
    )
    return failed or redirect(request, "/admin/categories", flash="saved")


# ---------------------------------------------------------------------------- days off


async def _days_off_page(
    request: Request[Any, Any, Any],
    year: str | None,
    *,
    status_code: int = 200,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, Any] | None = None,
    form_error: str | None = None,
) -> Response[str]:
    """The year's extra days off (delete buttons), the add form and the country's
    public holidays. A bad ``year`` shows this year with the error."""
    app = core(request)
    t = translator(request)
    year_errors: list[str] = []
    try:
        the_year = query_year(request, year)
    except Invalid as exc:
        year_errors = [m for msgs in form_errors(request, exc).values() for m in msgs]
        the_year = query_year(request, None)
        status_code = 422
    days = await app.sop.days_off(context(request), the_year)
    holidays = app.sop.public_holidays(the_year, t.language)
    return render(
        request,
        "admin/days_off.html",
        {
            "year": the_year,
            "year_value": year if year_errors else str(the_year),
            "year_errors": year_errors,
            "days": [(d, local_day(t, d.day)) for d in days],
            "holidays": [(day, local_day(t, day), name) for day, name in holidays],
            "errors": errors or {},
            "form": form or {},
            "form_error": form_error,
        },
        status_code=status_code,
    )


@get("/admin/days-off", include_in_schema=False)
async def days_off(
    request: Request[Any, Any, Any], year: FromQuery[str | None] = None
) -> Response[str]:
    """Days off of the SOP calendar (``?year=``, default this year)."""
    _manager(request)
    return await _days_off_page(request, year)


@post("/admin/days-off", include_in_schema=False)
async def add_day_off(request: Request[Any, Any, Any]) -> Response[Any]:
    """Add an extra day off; open messages' deadlines move. A day already off is
    a field error of ``day``."""
    _manager(request)
    data = await request.form()
    form = {"day": _text(data, "day"), "name": _text(data, "name")}
    t = translator(request)
    year = form["day"][:4] if form["day"][:4].isdigit() else None
    try:
        added = await core(request).sop.add_day_off(context(request), form["day"], form["name"])
    except Invalid as exc:
        errors = form_errors(request, exc)
        message = t("Please correct the marked fields.") if exc.errors else t.error(exc)
        return await _days_off_page(
            request, year, status_code=422, errors=errors, form=form, form_error=message
        )
    except Conflict as exc:
        return await _days_off_page(
            request,
            year,
            status_code=409,
            errors={"day": [t.error(exc)]},
            form=form,
            form_error=t("Please correct the marked fields."),
        )
    return redirect(request, f"/admin/days-off?year={added.day.year}", flash="saved")


@post("/admin/days-off/{day_off_id:int}/delete", include_in_schema=False)
async def delete_day_off(
    request: Request[Any, Any, Any], day_off_id: FromPath[int]
) -> Response[Any]:
    """Remove an extra day off (404 when unknown); open messages' deadlines move back."""
    _manager(request)
    removed = await core(request).sop.remove_day_off(context(request), day_off_id)
    return redirect(request, f"/admin/days-off?year={removed.day.year}", flash="saved")


# ---------------------------------------------------------------------------- outbox


#: Dead letters shown on the outbox page (beyond: "showing 200 of N").
DEAD_SHOWN = 200


def _outbox_filters(topic: str | None, error: str | None) -> dict[str, str]:
    """The page's filters, trimmed and bounded (they go into a LIKE and a URL)."""
    return {
        "topic": (topic or "").strip()[:100],
        "error": (error or "").strip()[:200],
    }


@get("/admin/outbox", include_in_schema=False)
async def outbox(
    request: Request[Any, Any, Any],
    topic: FromQuery[str | None] = None,
    error: FromQuery[str | None] = None,
    retried: FromQuery[str | None] = None,
) -> Response[str]:
    """Totals per status, the dead letters (filtered by topic and error text) with
    how many match, a button retrying all those that match and one per item."""
    _manager(request)
    filters = _outbox_filters(topic, error)
    found = await core(request).outbox.overview(
        "dead", DEAD_SHOWN, topic=filters["topic"] or None, error=filters["error"] or None
    )
    done = retried.strip() if retried else ""
    return render(
        request,
        "admin/outbox.html",
        {
            "dead": found.items,
            "matching": found.matching,
            "cut_short": found.cut_short,
            "totals": found.totals,
            "filters": filters,
            "filtered": any(filters.values()),
            "retried": int(done) if done.isascii() and done.isdigit() and len(done) < 10 else None,
        },
    )


@post("/admin/outbox/retry", include_in_schema=False)
async def retry_dead_letters(request: Request[Any, Any, Any]) -> Response[Any]:
    """Queue again, in one transaction, every dead letter matching the filters sent
    (the page's current filters; none: all of them)."""
    _manager(request)
    form = await request.form()
    filters = _outbox_filters(_text(form, "topic"), _text(form, "error"))
    count = await core(request).outbox.retry_dead(
        topic=filters["topic"] or None, error=filters["error"] or None
    )
    query = urlencode({**{k: v for k, v in filters.items() if v}, "retried": count})
    return redirect(request, f"/admin/outbox?{query}")


@post("/admin/outbox/{item_id:int}/retry", include_in_schema=False)
async def retry_outbox(request: Request[Any, Any, Any], item_id: FromPath[int]) -> Response[Any]:
    _manager(request)
    if not 0 < item_id < 2**62 or not await core(request).outbox.retry(item_id):
        from aspirasi_core.domain.errors import NotFound

        raise NotFound("The item was not found.", code="outbox_item_not_found")
    return redirect(request, "/admin/outbox?retried=1")


ROUTES: list[Any] = [
    users,
    create_user,
    user,
    update_user,
    set_user_active,
    agencies,
    create_agency,
    rename_agency,
    set_agency_active,
    categories,
    create_category,
    rename_category,
    create_subcategory,
    rename_subcategory,
    set_subcategory_active,
    days_off,
    add_day_off,
    delete_day_off,
    outbox,
    retry_dead_letters,
    retry_outbox,
]
