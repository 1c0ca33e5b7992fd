"""The super admin's categories pages: the categories with their sub-categories
in compact tables (``/admin/categories``, with a search box and the short
new-category and new-sub-category forms), a category's own page (renaming) and a
sub-category's (``/admin/subcategories/{id}``: name, SOP deadlines, deactivation
behind a confirmation page)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aspirasi_core.domain.errors import NotFound
from aspirasi_core.domain.model import Category, Subcategory
from aspirasi_core.services import UNSET, AdminService

from ...api.common import form_int
from ...context import context, core
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

SOP_FIELDS = ("sop_confirm_days", "sop_reply_days")


async def _category(admin: AdminService, category_id: int) -> Category:
    for category in await admin.categories():
        if category.id == category_id:
            return category
    raise NotFound("The category was not found.", code="category_not_found")


async def _subcategory(admin: AdminService, subcategory_id: int) -> Subcategory:
    for sub in await admin.subcategories(include_inactive=True):
        if sub.id == subcategory_id:
            return sub
    raise NotFound("The sub-category was not found.", code="subcategory_not_found")


class CategoriesController(AdminController):
    path = "/admin/categories"

    @staticmethod
    async def list_page(
        request: Request[Any, Any, Any],
        admin: AdminService,
        q: str | None = None,
        *,
        status_code: int = 200,
        errors: dict[str, list[str]] | None = None,
        form: dict[str, Any] | None = None,
        form_error: str | None = None,
        failed: str | None = None,
    ) -> Response[str]:
        search = search_text(q)
        categories = await admin.categories()
        subs = await admin.subcategories(include_inactive=True)
        names = {c.id: c.name for c in categories}
        if search:
            subs = [
                s for s in subs if matches(search, s.code, s.name, names.get(s.category_id, ""))
            ]
        return render(
            request,
            "admin/categories.html",
            {
                "categories": categories,
                "subs": {c.id: [s for s in subs if s.category_id == c.id] for c in categories},
                "q": search,
                "sop_defaults": core(request).sop.default_days,
                "errors": errors or {},
                "form": form or {},
                "form_error": form_error,
                "failed": failed,
            },
            status_code=status_code,
        )

    @get("/")
    async def categories(
        self, request: Request[Any, Any, Any], admin: Admin, q: FromQuery[str | None] = None
    ) -> Response[str]:
        """Categories and their sub-categories, searched by name or code."""
        return await self.list_page(request, admin, q)

    @post("/")
    async def create_category(self, request: Request[Any, Any, Any], admin: Admin) -> Response[Any]:
        ctx = context(request)
        data = await request.form()
        form = {"code": text(data, "code"), "name": text(data, "name")}

        async def call() -> None:
            await admin.create_entry(ctx, "category", code=form["code"], name=form["name"])

        async def on_error(
            errors: dict[str, list[str]], message: str | None, status: int
        ) -> Response[Any]:
            return await self.list_page(
                request,
                admin,
                status_code=status,
                errors=errors,
                form=form,
                form_error=message,
                failed="category",
            )

        failed = await attempt(request, call, on_error)
        return failed or redirect(request, "/admin/categories", flash="saved")

    @get("/{category_id:int}")
    async def category(
        self, request: Request[Any, Any, Any], admin: Admin, category_id: FromPath[int]
    ) -> Response[str]:
        """A category: renaming."""
        found = await _category(admin, category_id)
        return render(request, "admin/category.html", {"c": found, "form": {"name": found.name}})

    @post("/{category_id:int}")
    async def rename_category(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        category_id: FromPath[int],
    ) -> Response[Any]:
        ctx = context(request)
        data = await request.form()
        form = {"name": text(data, "name")}
        found = await _category(admin, category_id)

        async def call() -> None:
            await admin.update_entry(ctx, "category", category_id, name=form["name"])

        async def on_error(
            errors: dict[str, list[str]], message: str | None, status: int
        ) -> Response[Any]:
            return render(
                request,
                "admin/category.html",
                {"c": found, "form": form, "errors": errors, "form_error": message},
                status_code=status,
            )

        failed = await attempt(request, call, on_error)
        return failed or redirect(request, "/admin/categories", flash="saved")


class SubcategoriesController(AdminController):
    path = "/admin/subcategories"

    @post("/")
    async def create_subcategory(
        self, request: Request[Any, Any, Any], admin: Admin
    ) -> Response[Any]:
        ctx = context(request)
        data = await request.form()
        form = {k: text(data, k) for k in ("category_id", "code", "name")}

        async def call() -> None:
            await admin.create_entry(
                ctx,
                "subcategory",
                category_id=form_int(form["category_id"]),
                code=form["code"],
                name=form["name"],
            )

        async def on_error(
            errors: dict[str, list[str]], message: str | None, status: int
        ) -> Response[Any]:
            return await CategoriesController.list_page(
                request,
                admin,
                status_code=status,
                errors=errors,
                form=form,
                form_error=message,
                failed="subcategory",
            )

        failed = await attempt(request, call, on_error)
        return failed or redirect(request, "/admin/categories", flash="saved")

    async def _page(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        subcategory_id: int,
        *,
        template: str = "admin/subcategory.html",
        status_code: int = 200,
        errors: dict[str, list[str]] | None = None,
        form: dict[str, Any] | None = None,
        form_error: str | None = None,
    ) -> Response[str]:
        sub = await _subcategory(admin, subcategory_id)
        category = await _category(admin, sub.category_id)
        values = form or {
            "name": sub.name,
            **{k: "" if getattr(sub, k) is None else str(getattr(sub, k)) for k in SOP_FIELDS},
        }
        return render(
            request,
            template,
            {
                "s": sub,
                "category": category,
                "sop_defaults": core(request).sop.default_days,
                "errors": errors or {},
                "form": values,
                "form_error": form_error,
            },
            status_code=status_code,
        )

    def _again(
        self,
        request: Request[Any, Any, Any],
        admin: AdminService,
        subcategory_id: int,
        form: dict[str, Any] | None = None,
    ) -> OnError:
        async def on_error(
            errors: dict[str, list[str]], message: str | None, status: int
        ) -> Response[Any]:
            return await self._page(
                request,
                admin,
                subcategory_id,
                status_code=status,
                errors=errors,
                form=form,
                form_error=message,
            )

        return on_error

    @get("/{subcategory_id:int}")
    async def subcategory(
        self, request: Request[Any, Any, Any], admin: Admin, subcategory_id: FromPath[int]
    ) -> Response[str]:
        """A sub-category: its name, its SOP deadlines, deactivation."""
        return await self._page(request, admin, subcategory_id)

    @post("/{subcategory_id:int}")
    async def update_subcategory(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        subcategory_id: FromPath[int],
    ) -> Response[Any]:
        """Rename and set the SOP days (a form without an SOP field leaves it as it
        is; an empty one returns to the default)."""
        ctx = context(request)
        data = await request.form()
        form = {"name": text(data, "name")}
        sop: dict[str, Any] = {}
        for name in SOP_FIELDS:
            # The form forgives spaces around a typed number; the core (and so
            # the API) takes the number's digits only.
            sop[name] = text(data, name).strip() if name in data else UNSET
            if name in data:
                form[name] = text(data, name)

        async def call() -> None:
            await admin.update_entry(ctx, "subcategory", subcategory_id, name=form["name"], **sop)

        failed = await attempt(request, call, self._again(request, admin, subcategory_id, form))
        return failed or redirect(request, f"/admin/subcategories/{subcategory_id}", flash="saved")

    @get("/{subcategory_id:int}/deactivate")
    async def confirm_deactivate(
        self, request: Request[Any, Any, Any], admin: Admin, subcategory_id: FromPath[int]
    ) -> Response[str]:
        """The confirmation step before deactivating a sub-category."""
        return await self._page(
            request, admin, subcategory_id, template="admin/subcategory_deactivate.html"
        )

    @post("/{subcategory_id:int}/active")
    async def set_subcategory_active(
        self,
        request: Request[Any, Any, Any],
        admin: Admin,
        subcategory_id: FromPath[int],
    ) -> Response[Any]:
        ctx = context(request)
        data = await request.form()

        async def call() -> None:
            await admin.update_entry(
                ctx, "subcategory", subcategory_id, is_active=active_flag(data)
            )

        failed = await attempt(request, call, self._again(request, admin, subcategory_id))
        return failed or redirect(request, f"/admin/subcategories/{subcategory_id}", flash="saved")
