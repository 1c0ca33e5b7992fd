"""The days off of the SOP calendar (``/admin/days-off``): the year's extra days
off, the add form and the country's public holidays."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aspirasi_core.domain.errors import Conflict, Invalid
from aspirasi_core.services import Context

from ...api.admin import query_year
from ...context import context, core, translator
from ...templating import form_errors, redirect, render
from ..backoffice import local_day
from .common import AdminController, text


async def _days_off_page(
    request: Request[Any, Any, Any],
    ctx: Context,
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
    days = await app.sop.days_off(ctx, the_year)
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


class DaysOffController(AdminController):
    path = "/admin/days-off"

    @get("/")
    async def days_off(
        self, request: Request[Any, Any, Any], year: FromQuery[str | None] = None
    ) -> Response[str]:
        """Days off of the SOP calendar (``?year=``, default this year)."""
        ctx = context(request)
        return await _days_off_page(request, ctx, year)

    @post("/")
    async def add_day_off(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Add an extra day off; open messages' deadlines move. A day already off is
        a field error of ``day``."""
        ctx = context(request)
        data = await request.form()
        form = {"day": text(data, "day"), "name": text(data, "name")}
        t = translator(request)
        year = form["day"][:4] if form["day"][:4].isdigit() else None
        try:
            added = await core(request).sop.add_day_off(ctx, form["day"], form["name"])
        except Invalid as exc:
            errors = form_errors(request, exc)
            message = t("Please correct the marked fields.") if exc.errors else t.error(exc)
            return await _days_off_page(
                request, ctx, year, status_code=422, errors=errors, form=form, form_error=message
            )
        except Conflict as exc:
            return await _days_off_page(
                request,
                ctx,
                year,
                status_code=409,
                errors={"day": [t.error(exc)]},
                form=form,
                form_error=t("Please correct the marked fields."),
            )
        return redirect(request, f"/admin/days-off?year={added.day.year}", flash="saved")

    @post("/{day_off_id:int}/delete")
    async def delete_day_off(
        self, request: Request[Any, Any, Any], day_off_id: FromPath[int]
    ) -> Response[Any]:
        """Remove an extra day off (404 when unknown); open messages' deadlines move back."""
        ctx = context(request)
        removed = await core(request).sop.remove_day_off(ctx, day_off_id)
        return redirect(request, f"/admin/days-off?year={removed.day.year}", flash="saved")
