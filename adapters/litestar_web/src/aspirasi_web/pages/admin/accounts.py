"""The super admin's accounts pages (``/admin/users``): a compact list with a
search box, a new staff account (an invitation by default, or a typed password
its owner must change at the first log-in), an account's own page where it is
edited, and deactivation behind a confirmation page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.model import Account, Role
from aspirasi_core.services import AccountChanges, Context, StaffInput

from ...api.common import form_int
from ...context import context, core, translator
from ...templating import form_errors, render
from .common import (
    Admin,
    AdminController,
    OnError,
    active_flag,
    attempt,
    permission_labels,
    permissions,
    search_text,
    staff_roles,
    text,
)

#: What the account's page says after a change (``?done=``).
DONE = {
    "invited": "Account created; an invitation was sent to %(email)s.",
    "created": (
        "Account created. Give the password to %(name)s in person: it must be"
        " changed at the first log-in."
    ),
    "reinvited": "A new invitation was sent to %(email)s.",
    "saved": "The account of %(name)s was saved.",
    "deactivated": "The account of %(name)s was deactivated; its sessions ended.",
    "reactivated": "The account of %(name)s was reactivated.",
}
STAFF_FIELDS = ("email", "username", "full_name", "role", "agency_id")


def _done_notice(request: Request[Any, Any, Any], done: str | None, u: Account) -> str | None:
    if done not in DONE:
        return None
    return translator(request)(DONE[done], email=u.email, name=u.full_name)


class AccountsController(AdminController):
    path = "/admin/users"

    async def _list(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        ctx: Context,
        role: str | None,
        q: str | None,
        cursor: str | None,
    ) -> Response[str]:
        status_code = 200
        filter_errors: dict[str, list[str]] = {}
        items: tuple[Account, ...] = ()
        next_cursor = None
        roles = [(name, decl.label) for name, decl in core(request).deps.policy.roles.items()]
        search = search_text(q)
        if role and role not in dict(roles):
            filter_errors["role"] = [translator(request)("Choose a known level.")]
            status_code = 422
        else:
            try:
                page = await admin.list_accounts(
                    ctx, role=role or None, text=search or None, cursor=cursor
                )
                items, next_cursor = page.items, page.next_cursor
            except Invalid as exc:
                filter_errors = form_errors(request, exc)
                status_code = 422
        agencies = await admin.agencies(ctx, include_inactive=True)
        return render(
            request,
            "admin/users.html",
            {
                "items": items,
                "next_cursor": next_cursor,
                "roles": roles,
                "agency_names": {a.id: a.name for a in agencies},
                "filter": {"role": role or "", "q": search},
                "filter_errors": filter_errors,
            },
            status_code=status_code,
        )

    @get("/")
    async def users(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        role: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Accounts, filtered by level and searched by name, username or e-mail."""
        ctx = context(request)
        return await self._list(request, admin, ctx, role, q, cursor)

    async def _new_page(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        ctx: Context,
        *,
        status_code: int = 200,
        errors: dict[str, list[str]] | None = None,
        form: dict[str, Any] | None = None,
        form_error: str | None = None,
    ) -> Response[str]:
        return render(
            request,
            "admin/user_new.html",
            {
                "staff_roles": staff_roles(request),
                "permissions": permissions(request),
                "agencies": await admin.agencies(ctx, include_inactive=True),
                "errors": errors or {},
                "form": form or {"role": Role.OPERATOR, "permissions": []},
                "form_error": form_error,
            },
            status_code=status_code,
        )

    @get("/new")
    async def new_user(self, request: Request[Any, Any, Any], admin: Admin) -> Response[str]:
        """The form of a new admin or operator account."""
        ctx = context(request)
        return await self._new_page(request, admin, ctx)

    @post("/")
    async def create_user(self, request: Request[Any, Any, Any], admin: Admin) -> Response[Any]:
        """Create an admin or operator account: without a password, invite its
        owner by mail; with one, the owner must change it at the first log-in."""
        ctx = context(request)
        data = await request.form()
        form: dict[str, Any] = {k: text(data, k) for k in STAFF_FIELDS}
        form["permissions"] = [p for p in data.getall("permissions", []) if isinstance(p, str)]
        password = text(data, "password")
        agency = form["agency_id"].strip()
        payload = StaffInput(
            email=form["email"],
            username=form["username"],
            full_name=form["full_name"],
            password=password,
            role=form["role"],
            agency_id=form_int(agency) if agency else None,
            permissions=tuple(form["permissions"]),
            must_change_password=True,
        )
        created: list[Account] = []

        async def call() -> None:
            make = admin.create_staff if password else admin.invite_staff
            created.append(await make(ctx, payload))

        async def on_error(
            errors: dict[str, list[str]], message: str | None, status: int
        ) -> Response[Any]:
            return await self._new_page(
                request,
                admin,
                ctx,
                status_code=status,
                errors=errors,
                form=form,
                form_error=message,
            )

        failed = await attempt(request, call, on_error)
        done = "created" if password else "invited"
        return failed or Redirect(f"/admin/users/{created[0].id}?done={done}", status_code=303)

    async def _user_page(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        ctx: Context,
        account_id: int,
        *,
        template: str = "admin/user.html",
        done: str | None = None,
        status_code: int = 200,
        errors: dict[str, list[str]] | None = None,
        form: dict[str, Any] | None = None,
        form_error: str | None = None,
    ) -> Response[str]:
        found = await admin.get_account(ctx, account_id)
        agencies = await admin.agencies(ctx, include_inactive=True)
        values = form or {
            "role": found.role,
            "agency_id": str(found.agency_id or ""),
            "full_name": found.full_name,
            "permissions": sorted(found.permissions),
        }
        return render(
            request,
            template,
            {
                "u": found,
                "notice": _done_notice(request, done, found),
                "staff_roles": staff_roles(request),
                "permissions": permissions(request),
                "permission_labels": permission_labels(request, found.permissions),
                "agencies": agencies,
                "agency_names": {a.id: a.name for a in agencies},
                "editable_role": found.role not in (Role.USER, Role.SUPER_ADMIN),
                "errors": errors or {},
                "form": values,
                "form_error": form_error,
            },
            status_code=status_code,
        )

    def _again(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        ctx: Context,
        account_id: int,
        form: dict[str, Any] | None = None,
    ) -> OnError:
        async def on_error(
            errors: dict[str, list[str]], message: str | None, status: int
        ) -> Response[Any]:
            return await self._user_page(
                request,
                admin,
                ctx,
                account_id,
                status_code=status,
                errors=errors,
                form=form,
                form_error=message,
            )

        return on_error

    @get("/{account_id:int}")
    async def user(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        account_id: FromPath[int],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        """An account: what it is, the edit form, deactivation and invitation."""
        ctx = context(request)
        return await self._user_page(request, admin, ctx, account_id, done=done)

    @post("/{account_id:int}")
    async def update_user(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        account_id: FromPath[int],
    ) -> Response[Any]:
        """Change level, agency, permissions and name."""
        ctx = context(request)
        found = await admin.get_account(ctx, account_id)
        data = await request.form()
        form: dict[str, Any] = {k: text(data, k) for k in ("role", "agency_id", "full_name")}
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
            await admin.update_account(ctx, account_id, changes)

        failed = await attempt(request, call, self._again(request, admin, ctx, account_id, form))
        return failed or Redirect(f"/admin/users/{account_id}?done=saved", status_code=303)

    @get("/{account_id:int}/deactivate")
    async def confirm_deactivate(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        account_id: FromPath[int],
    ) -> Response[str]:
        """The confirmation step before deactivating an account."""
        ctx = context(request)
        return await self._user_page(
            request, admin, ctx, account_id, template="admin/user_deactivate.html"
        )

    @post("/{account_id:int}/active")
    async def set_user_active(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        account_id: FromPath[int],
    ) -> Response[Any]:
        """Deactivate (``active=0``; ends the account's sessions) or reactivate (``active=1``)."""
        ctx = context(request)
        data = await request.form()
        active: list[bool] = []

        async def call() -> None:
            active.append(active_flag(data))
            await admin.update_account(ctx, account_id, AccountChanges(is_active=active[0]))

        failed = await attempt(request, call, self._again(request, admin, ctx, account_id))
        done = "reactivated" if active and active[0] else "deactivated"
        return failed or Redirect(f"/admin/users/{account_id}?done={done}", status_code=303)

    @post("/{account_id:int}/invitation")
    async def resend_invitation(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        account_id: FromPath[int],
    ) -> Response[Any]:
        """Mail a new invitation link to an account that has no password yet."""
        ctx = context(request)

        async def call() -> None:
            await admin.resend_invitation(ctx, account_id)

        failed = await attempt(request, call, self._again(request, admin, ctx, account_id))
        return failed or Redirect(f"/admin/users/{account_id}?done=reinvited", status_code=303)
