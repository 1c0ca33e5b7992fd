"""The in-app notifications of staff."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.policy import Perm

from ...api.common import form_int
from ...context import (
    Core,
    Ctx,
    CurrentTranslator,
    actor,
)
from ...guards import requires
from ...templating import redirect, render
from .common import (
    field_text,
    read_form,
)

# ---------------------------------------------------------------------------- notifications


@get("/backoffice/notifications", guards=[requires(Perm.NOTIFICATIONS)], include_in_schema=False)
async def notifications(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, cursor: FromQuery[str | None] = None
) -> Response[str]:
    page = await core.notifications.list(ctx, cursor=cursor)
    return render(request, "backoffice/notifications.html", {"page": page})


@get("/backoffice/notifications/count", include_in_schema=False)
async def notification_count(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx
) -> Response[str]:
    """The unread number as a bare fragment (empty when none, or for anyone not staff)."""
    a = actor(request)
    app = core
    text = ""
    if a is not None and app.deps.policy.allows(a, Perm.NOTIFICATIONS):
        count = await app.notifications.unread_count(ctx)
        text = str(count) if count else ""
    return Response(content=text, media_type="text/html", headers={"Cache-Control": "no-store"})


@post(
    "/backoffice/notifications/read", guards=[requires(Perm.NOTIFICATIONS)], include_in_schema=False
)
async def notification_read(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, translator: CurrentTranslator
) -> Response[Any]:
    """Mark one notification read; with ``next=message`` go on to its message."""
    data = await read_form(request)
    app = core
    try:
        await app.notifications.mark_read(ctx, form_int(field_text(data, "id")))
    except Invalid as exc:
        page = await app.notifications.list(ctx)
        return render(
            request,
            "backoffice/notifications.html",
            {"page": page, "form_error": translator.error(exc)},
            status_code=422,
        )
    target = field_text(data, "message_id")
    if isinstance(goto := form_int(target), int):
        return redirect(request, f"/backoffice/messages/{goto}")
    return redirect(request, "/backoffice/notifications", flash="saved")


@post(
    "/backoffice/notifications/read-all",
    guards=[requires(Perm.NOTIFICATIONS)],
    include_in_schema=False,
)
async def notification_read_all(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx
) -> Response[Any]:
    await core.notifications.mark_all_read(ctx)
    return redirect(request, "/backoffice/notifications", flash="saved")
