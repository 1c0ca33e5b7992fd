"""``/admin/nik-release``: the super admin releases a NIK that another account
verified first, after checking that it belongs to whoever asked (see
``aspirasi_core.services.nik_claims``).

Two steps, both POST (a NIK never goes in a URL): the NIK shows which verified
account holds it; then a reason and a confirmation release it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from aspirasi_core.domain.errors import DomainError
from aspirasi_core.domain.policy import Perm

from ..context import Core, Ctx
from ..guards import requires
from ..templating import redirect, render
from .public import form_failure

TEMPLATE = "admin/nik_release.html"


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@get("/admin/nik-release", guards=[requires(Perm.ADMIN_MANAGE)], include_in_schema=False)
async def nik_release_form(request: Request[Any, Any, Any]) -> Response[str]:
    return render(request, TEMPLATE, {"form": {}, "holder": None})


@post("/admin/nik-release", guards=[requires(Perm.ADMIN_MANAGE)], include_in_schema=False)
async def nik_release(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    """``step=find``: show the holder; ``step=release``: release with the reason."""
    data = await request.form()
    form = {k: _text(data, k) for k in ("nik", "reason", "step")}
    app = core
    holder = None
    try:
        holder = await app.nik_claims.holder(ctx, form["nik"])
        if form["step"] != "release":
            return render(request, TEMPLATE, {"form": form, "holder": holder})
        released = await app.nik_claims.release(ctx, form["nik"], form["reason"])
    except DomainError as exc:
        values = {"form": form, "holder": holder}
        return form_failure(request, TEMPLATE, values, exc, ("nik", "reason"))
    return redirect(request, f"/admin/users/{released.id}", flash="nik_released")


ROUTES: list[Any] = [nik_release_form, nik_release]
