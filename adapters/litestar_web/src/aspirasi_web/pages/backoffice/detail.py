"""A message's detail page and its action forms (forward, reject, start, progress, reply)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from aspirasi_core.domain.errors import Conflict, IllegalTransition, Invalid
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import MessageDetail, Upload

from ...api.common import form_int
from ...context import Core, Ctx, actor, context, core, translator
from ...guards import BACKOFFICE
from ...i18n import status_labels
from ...idempotency import form_call, parse_version
from ...templating import form_errors, render
from ...vocabulary import waited
from ..followups import ACTION_FORMS, continuing_work
from .common import (
    deadline_of,
    directory,
    field_text,
    read_form,
)

# ---------------------------------------------------------------------------- detail


async def show_detail(
    request: Request[Any, Any, Any],
    detail: MessageDetail,
    *,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, str] | None = None,
    form_error: str | None = None,
    failed: str | None = None,
    status_code: int = 200,
) -> Response[str]:
    app = core(request)
    t = translator(request)
    values = await directory(request)
    values.update(await continuing_work(request, detail))
    msg = detail.message
    shown = set(detail.actions) | ({"forward"} if "reforward" in detail.actions else set())
    values.update(
        {
            "d": detail,
            "m": msg,
            "waited": waited(t, msg.created_at, app.deps.clock.now()),
            "deadline": deadline_of(request, msg, app.deps.clock.now()),
            "message_attachments": [a for a in msg.attachments if a.kind != "reply"],
            "can_reply_later": "progress" in detail.actions
            or "start" in detail.actions
            or "reply" in detail.actions,
            # an error of a form the page does not show (e.g. a conflict): shown on top
            "orphan_error": failed is not None and failed not in shown,
            "has_actions": bool(detail.actions & ACTION_FORMS),
            "errors": errors or {},
            "form": form or {},
            "form_error": form_error,
            "failed": failed,
            "can_reveal": detail.sender_hidden
            and app.deps.policy.allows(actor(request), Perm.PRIVACY_REVEAL),
        }
    )
    return render(request, "backoffice/detail.html", values, status_code=status_code)


@get(
    "/backoffice/messages/{message_id:int}",
    guards=BACKOFFICE,
    include_in_schema=False,
)
async def message_detail(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, message_id: FromPath[int]
) -> Response[str]:
    """One message: text, attachments, sender (unless hidden), log, reply, action forms."""
    detail = await core.queries.message(ctx, message_id)
    return await show_detail(request, detail)


async def act_on(
    request: Request[Any, Any, Any],
    message_id: int,
    action: str,
    form: dict[str, str],
    call: Any,
    flash: str,
    data: Any,
    upload: Upload | None = None,
    target: str | None = None,
) -> Response[Any]:
    """Run ``call(ctx, expected_version)`` (a use case) once per the form's
    idempotency key, and redirect (to the message, or ``target``); re-show the
    detail with the errors. ``data`` is the posted form (its ``version`` and
    ``idempotency_key``). Its routes let staff only through
    (``requires(Perm.BACKOFFICE)``), before the form is read."""
    app = core(request)
    ctx = context(request)
    detail = await app.queries.message(ctx, message_id)  # 404 outside the reader's scope
    t = translator(request)
    version = field_text(data, "version")
    posted = {
        **form,
        "attachment": upload,
        "version": version,
        "idempotency_key": field_text(data, "idempotency_key"),
    }
    try:
        expected = parse_version(version)
        return await form_call(
            request,
            posted,
            lambda c: call(c, expected),
            lambda _: target or f"/backoffice/messages/{message_id}",
            flash,
        )
    except Invalid as exc:
        errors = form_errors(request, exc)
        message = t.error(exc) if not exc.errors else None
        return await show_detail(
            request,
            detail,
            errors=errors,
            form=form,
            form_error=message or t("Please correct the marked fields."),
            failed=action,
            status_code=422,
        )
    except Conflict as exc:
        detail = await app.queries.message(ctx, message_id)
        text = t.error(exc)
        if isinstance(exc, IllegalTransition):
            text = t(
                "This is not possible while the message is “%(status)s”.",
                status=status_labels(t).get(str(detail.message.status), ""),
            )
        return await show_detail(
            request,
            detail,
            form=form,
            form_error=text,
            failed=action,
            status_code=409,
        )


def _visibility(form: dict[str, str]) -> str | None:
    """The chosen ``visibility`` (None, the use case's default, when the form sent none)."""
    return form.get("visibility") or None


@post(
    "/backoffice/messages/{message_id:int}/forward",
    guards=BACKOFFICE,
    include_in_schema=False,
)
async def forward(
    request: Request[Any, Any, Any], core: Core, message_id: FromPath[int]
) -> Response[Any]:
    """Classify and forward (or re-forward) to an agency."""
    data = await read_form(request)
    names = ("category_id", "subcategory_id", "agency_id", "note", "visibility")
    form = {k: field_text(data, k) for k in names}
    fields = {
        "category_id": form_int(form["category_id"]),
        "subcategory_id": form_int(form["subcategory_id"]),
        "agency_id": form_int(form["agency_id"]),
        "note": form["note"],
        "visibility": _visibility(form),
    }

    async def call(ctx: Any, expected: int | None) -> None:
        await core.messages.act(ctx, message_id, "forward", expected_version=expected, **fields)

    return await act_on(request, message_id, "forward", form, call, "forwarded", data)


@post(
    "/backoffice/messages/{message_id:int}/reject",
    guards=BACKOFFICE,
    include_in_schema=False,
)
async def reject(
    request: Request[Any, Any, Any], core: Core, message_id: FromPath[int]
) -> Response[Any]:
    data = await read_form(request)
    form = {"reason": field_text(data, "reason"), "visibility": field_text(data, "visibility")}

    async def call(ctx: Any, expected: int | None) -> None:
        await core.messages.act(
            ctx,
            message_id,
            "reject",
            reason=form["reason"],
            visibility=_visibility(form),
            expected_version=expected,
        )

    return await act_on(request, message_id, "reject", form, call, "rejected", data)


@post(
    "/backoffice/messages/{message_id:int}/start",
    guards=BACKOFFICE,
    include_in_schema=False,
)
async def start(
    request: Request[Any, Any, Any], core: Core, message_id: FromPath[int]
) -> Response[Any]:
    data = await read_form(request)
    form = {"start_note": field_text(data, "note")}
    confirmed = field_text(data, "confirm") == "1"

    async def call(ctx: Any, expected: int | None) -> None:
        if not confirmed:  # the button carries confirm=1; a bare POST changes nothing
            raise Invalid.field("confirm", "required", "Please confirm.")
        await core.messages.act(
            ctx, message_id, "start", note=form["start_note"], expected_version=expected
        )

    return await act_on(request, message_id, "start", form, call, "started", data)


@post(
    "/backoffice/messages/{message_id:int}/progress",
    guards=BACKOFFICE,
    include_in_schema=False,
)
async def progress(
    request: Request[Any, Any, Any], core: Core, message_id: FromPath[int]
) -> Response[Any]:
    data = await read_form(request)
    form = {"note": field_text(data, "note"), "visibility": field_text(data, "visibility")}

    async def call(ctx: Any, expected: int | None) -> None:
        await core.messages.act(
            ctx,
            message_id,
            "progress",
            note=form["note"],
            visibility=_visibility(form),
            expected_version=expected,
        )

    return await act_on(request, message_id, "progress", form, call, "progress_saved", data)


@post(
    "/backoffice/messages/{message_id:int}/reply",
    guards=BACKOFFICE,
    include_in_schema=False,
)
async def reply(request: Request[Any, Any, Any], message_id: FromPath[int]) -> Response[Any]:
    """The answer (optional PDF) closes the message."""
    data = await read_form(request)
    form = {"answer": field_text(data, "answer"), "visibility": field_text(data, "visibility")}
    upload = None
    file = data.get("attachment")
    if isinstance(file, UploadFile):
        content = await file.read()
        if content or file.filename:
            upload = Upload(filename=file.filename or "", data=content)

    async def call(ctx: Any, expected: int | None) -> None:
        await core(request).messages.act(
            ctx,
            message_id,
            "reply",
            answer=form["answer"],
            attachment=upload,
            visibility=_visibility(form),
            expected_version=expected,
        )

    return await act_on(request, message_id, "reply", form, call, "replied", data, upload)
