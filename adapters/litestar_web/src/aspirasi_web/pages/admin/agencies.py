"""The super admin's agencies pages (``/admin/agencies``): a compact list with a
search box and the new-agency form, an agency's own page where it is renamed,
and deactivation behind a confirmation page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aspirasi_core.domain.errors import NotFound
from aspirasi_core.domain.model import Agency
from aspirasi_core.services import AdminService, Context

from ...context import context
from ...templating import redirect, render
from .common import (
    Admin,
    AdminController,
    OnError,
    active_flag,
    attempt,
    matches,
    search_text,
    text,
)


async def find_agency(admin: AdminService, ctx: Context, agency_id: int) -> Agency:
    for agency in await admin.agencies(ctx, include_inactive=True):
        if agency.id == agency_id:
            return agency
    raise NotFound("The agency was not found.", code="agency_not_found")


class AgenciesController(AdminController):
    path = "/admin/agencies"

    async def _list(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        ctx: Context,
        q: str | None = None,
        *,
        status_code: int = 200,
        errors: dict[str, list[str]] | None = None,
        form: dict[str, Any] | None = None,
        form_error: str | None = None,
    ) -> Response[str]:
        search = search_text(q)
        items = await admin.agencies(ctx, include_inactive=True)
        shown = [a for a in items if matches(search, a.code, a.name)] if search else items
        return render(
            request,
            "admin/agencies.html",
            {
                "items": shown,
                "total": len(items),
                "q": search,
                "errors": errors or {},
                "form": form or {},
                "form_error": form_error,
            },
            status_code=status_code,
        )

    @get("/")
    async def agencies(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        q: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Agencies, searched by code or name; the new-agency form."""
        ctx = context(request)
        return await self._list(request, admin, ctx, q)

    @post("/")
    async def create_agency(self, request: Request[Any, Any, Any], admin: Admin) -> Response[Any]:
        ctx = context(request)
        data = await request.form()
        form = {"code": text(data, "code"), "name": text(data, "name")}

        async def call() -> None:
            await admin.create_entry(ctx, "agency", code=form["code"], name=form["name"])

        async def on_error(
            errors: dict[str, list[str]], message: str | None, status: int
        ) -> Response[Any]:
            return await self._list(
                request,
                admin,
                ctx,
                status_code=status,
                errors=errors,
                form=form,
                form_error=message,
            )

        failed = await attempt(request, call, on_error)
        return failed or redirect(request, "/admin/agencies", flash="saved")

    async def _page(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        ctx: Context,
        agency_id: int,
        *,
        template: str = "admin/agency.html",
        status_code: int = 200,
        errors: dict[str, list[str]] | None = None,
        form: dict[str, Any] | None = None,
        form_error: str | None = None,
    ) -> Response[str]:
        agency = await find_agency(admin, ctx, agency_id)
        return render(
            request,
            template,
            {
                "a": agency,
                "errors": errors or {},
                "form": form or {"name": agency.name},
                "form_error": form_error,
            },
            status_code=status_code,
        )

    def _again(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        ctx: Context,
        agency_id: int,
        form: dict[str, Any] | None = None,
    ) -> OnError:
        async def on_error(
            errors: dict[str, list[str]], message: str | None, status: int
        ) -> Response[Any]:
            return await self._page(
                request,
                admin,
                ctx,
                agency_id,
                status_code=status,
                errors=errors,
                form=form,
                form_error=message,
            )

        return on_error

    @get("/{agency_id:int}")
    async def agency(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        agency_id: FromPath[int],
    ) -> Response[str]:
        """An agency: renaming, deactivation."""
        ctx = context(request)
        return await self._page(request, admin, ctx, agency_id)

    @post("/{agency_id:int}")
    async def rename_agency(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        agency_id: FromPath[int],
    ) -> Response[Any]:
        ctx = context(request)
        data = await request.form()
        form = {"name": text(data, "name")}

        async def call() -> None:
            await admin.update_entry(ctx, "agency", agency_id, name=form["name"])

        failed = await attempt(request, call, self._again(request, admin, ctx, agency_id, form))
        return failed or redirect(request, f"/admin/agencies/{agency_id}", flash="saved")

    @get("/{agency_id:int}/deactivate")
    async def confirm_deactivate(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        agency_id: FromPath[int],
    ) -> Response[str]:
        """The confirmation step before deactivating an agency."""
        ctx = context(request)
        return await self._page(
            request, admin, ctx, agency_id, template="admin/agency_deactivate.html"
        )

    @post("/{agency_id:int}/active")
    async def set_agency_active(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        agency_id: FromPath[int],
    ) -> Response[Any]:
        ctx = context(request)
        data = await request.form()

        async def call() -> None:
            await admin.update_entry(ctx, "agency", agency_id, is_active=active_flag(data))

        failed = await attempt(request, call, self._again(request, admin, ctx, agency_id))
        return failed or redirect(request, f"/admin/agencies/{agency_id}", flash="saved")
