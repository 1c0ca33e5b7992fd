"""Back-office pages of admins and operators: the inbox, the message list, a
message's detail with the action forms, and the in-app notifications.

Every rule (who sees which message, which action is possible now) is the
core's: these handlers call the use cases and show what they answer.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

from aspirasi_core.domain.errors import Conflict, IllegalTransition, Invalid
from aspirasi_core.domain.model import Actor, Message
from aspirasi_core.domain.policy import Perm
from aspirasi_core.domain.sop import stage_of
from aspirasi_core.domain.validation import check_day_range, check_flag
from aspirasi_core.services import BackofficeQuery, MessageDetail, Upload

from ..api.common import form_int
from ..context import actor, context, core, require_permission, translator
from ..i18n import Translator, status_labels
from ..idempotency import form_call, parse_version
from ..templating import form_errors, redirect, render
from ..vocabulary import waited
from .followups import ACTION_FORMS, continuing_work

#: Statuses a back-office filter may choose (withdrawn ones are never shown).
FILTER_STATUSES = ("submitted", "forwarded", "in_progress", "done", "rejected")


#: The orders of the list: (value, label).
SORTS = (("newest", "Newest first"), ("due", "Earliest deadline"))
#: What the current stage's deadline reads as, by stage.
DEADLINE_TEXTS = {
    "triage": "To be forwarded by %(date)s",
    "confirm": "To be confirmed by %(date)s",
    "reply": "Reply due by %(date)s",
}


def local_day(t: Translator, day: date) -> str:
    """A calendar day in the reader's language, short style (``4 Nov 2026``)."""
    return t.date(day)


def due_day(request: Request[Any, Any, Any], due_at: datetime | None) -> str:
    """The last allowed local day of an SOP deadline, formatted ('' when none)."""
    if due_at is None:
        return ""
    return local_day(translator(request), core(request).sop.due_date(due_at))


def deadline_of(request: Request[Any, Any, Any], message: Message, now: datetime) -> dict[str, Any]:
    """The current stage's deadline of an open message, for the templates: the
    formatted day, the sentence of its stage and whether it has passed. Empty
    for a final message (no deadline)."""
    stage = stage_of(message.status)
    if stage is None or message.due_at is None:
        return {}
    day = due_day(request, message.due_at)
    return {
        "date": day,
        "text": translator(request)(DEADLINE_TEXTS[stage.value], date=day),
        "overdue": message.is_overdue(now),
    }


def _staff(request: Request[Any, Any, Any]) -> Actor:
    return require_permission(request, Perm.BACKOFFICE)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _form(request: Request[Any, Any, Any]) -> Any:
    return await request.form()


async def _directory(request: Request[Any, Any, Any]) -> dict[str, Any]:
    app = core(request)
    categories = await app.admin.categories()
    subcategories = await app.admin.subcategories()
    agencies = await app.admin.agencies()
    return {
        "categories": categories,
        "subcategories": subcategories,
        "agencies": agencies,
        "category_names": {c.id: c.name for c in categories},
        "agency_names": {a.id: a.name for a in agencies},
    }


async def _names(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Names of agencies (also inactive ones, for old messages) and categories."""
    app = core(request)
    categories = await app.admin.categories()
    agencies = await app.admin.agencies()
    return {
        "category_names": {c.id: c.name for c in categories},
        "agency_names": {a.id: a.name for a in agencies},
        "categories": categories,
        "agencies": agencies,
    }


# ---------------------------------------------------------------------------- inbox


@get("/backoffice", include_in_schema=False)
async def inbox(request: Request[Any, Any, Any]) -> Response[str]:
    """New work: ``submitted`` messages for admins; for operators those forwarded
    to their agency and not yet confirmed, and those being handled. Oldest first."""
    a = _staff(request)
    app = core(request)
    ctx = context(request)
    classify = app.deps.policy.allows(a, Perm.MESSAGE_CLASSIFY)
    wanted = ("submitted",) if classify else ("forwarded", "in_progress")
    sections = []
    now = app.deps.clock.now()
    t = translator(request)
    for status in wanted:
        page = await app.queries.backoffice(ctx, BackofficeQuery(status=status), limit=100)
        items = sorted(page.items, key=lambda m: (m.created_at, m.id))
        sections.append(
            {
                "status": status,
                "items": items,
                "more": page.next_cursor is not None,
                "waited": {m.id: waited(t, m.created_at, now) for m in items},
                "deadlines": {m.id: deadline_of(request, m, now) for m in items},
            }
        )
    context_values = await _names(request)
    context_values.update({"sections": sections})
    return render(request, "backoffice/inbox.html", context_values)


# ---------------------------------------------------------------------------- list


def _parse_date(
    value: str | None, field: str, tz: ZoneInfo, errors: dict[str, list[str]], t: Translator
) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        errors.setdefault(field, []).append(t("Enter a date as YYYY-MM-DD."))
        return None
    try:
        check_day_range(day, field)
    except Invalid as exc:
        errors.setdefault(field, []).extend(t.field_error(e) for e in exc.errors)
        return None
    return datetime.combine(day, time.min, tzinfo=tz)


def _parse_id(
    value: str | None, field: str, errors: dict[str, list[str]], t: Translator
) -> int | None:
    if not value:
        return None
    if value.isascii() and value.isdigit() and 0 < int(value) < 2**62:
        return int(value)
    errors.setdefault(field, []).append(t("Choose a value from the list."))
    return None


@get("/backoffice/messages", include_in_schema=False)
async def message_list(
    request: Request[Any, Any, Any],
    status: FromQuery[str | None] = None,
    agency: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    date_from: FromQuery[str | None] = None,
    date_to: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    overdue: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Response[str]:
    """All messages the reader may see, filtered, newest first (or the open ones,
    earliest deadline first), with the waited time and the SOP deadline."""
    _staff(request)
    app = core(request)
    t = translator(request)
    tz = ZoneInfo(app.deps.settings.timezone)
    errors: dict[str, list[str]] = {}
    if status and status not in FILTER_STATUSES:
        errors.setdefault("status", []).append(t("Choose a known status."))
    agency_id = _parse_id(agency, "agency", errors, t)
    category_id = _parse_id(category, "category", errors, t)
    start = _parse_date(date_from, "date_from", tz, errors, t)
    end = _parse_date(date_to, "date_to", tz, errors, t)
    if end is not None:
        end = end + timedelta(days=1)  # the whole "to" day
    only_overdue = False
    try:
        only_overdue = check_flag(overdue, "overdue")
    except Invalid:
        errors.setdefault("overdue", []).append(t("Choose yes or no."))
    if sort and sort not in dict(SORTS):
        errors.setdefault("sort", []).append(t("Choose a known order."))
    form = {
        "status": status or "",
        "agency": agency or "",
        "category": category or "",
        "date_from": date_from or "",
        "date_to": date_to or "",
        "q": q or "",
        "overdue": "1" if only_overdue else "",
        "sort": sort if sort in dict(SORTS) and sort != "newest" else "",
    }
    items: tuple[Any, ...] = ()
    next_cursor = None
    status_code = 200
    if not errors:
        query = BackofficeQuery(
            status=status or None,
            agency_id=agency_id,
            category_id=category_id,
            created_from=start,
            created_to=end,
            text=q or None,
            overdue=only_overdue,
            sort=sort or "newest",
        )
        try:
            page = await app.queries.backoffice(context(request), query, cursor=cursor)
        except Invalid as exc:
            for field, messages in form_errors(request, exc).items():
                errors.setdefault({"text": "q"}.get(field, field), []).extend(messages)
        else:
            items, next_cursor = page.items, page.next_cursor
    if errors:
        status_code = 422
    now = app.deps.clock.now()
    values = await _names(request)
    values.update(
        {
            "items": items,
            "next_cursor": next_cursor,
            "form": form,
            "errors": errors,
            "statuses": FILTER_STATUSES,
            "waited": {m.id: waited(t, m.created_at, now) for m in items},
            "deadlines": {m.id: deadline_of(request, m, now) for m in items},
            "sorts": [(value, t(label)) for value, label in SORTS],
            "open_statuses": {"submitted", "forwarded", "in_progress"},
            "next_query": {k: v for k, v in form.items() if v},
        }
    )
    return render(request, "backoffice/list.html", values, status_code=status_code)


# ---------------------------------------------------------------------------- detail


async def _show_detail(
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
    values = await _directory(request)
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


@get("/backoffice/messages/{message_id:int}", include_in_schema=False)
async def message_detail(
    request: Request[Any, Any, Any], message_id: FromPath[int]
) -> Response[str]:
    """One message: text, attachments, sender (unless hidden), log, reply, action forms."""
    _staff(request)
    detail = await core(request).queries.message(context(request), message_id)
    return await _show_detail(request, detail)


async def _act(
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
    ``idempotency_key``)."""
    _staff(request)
    app = core(request)
    ctx = context(request)
    detail = await app.queries.message(ctx, message_id)  # 404 outside the reader's scope
    t = translator(request)
    posted = {
        **form,
        "attachment": upload,
        "version": _text(data, "version"),
        "idempotency_key": _text(data, "idempotency_key"),
    }
    try:
        expected = parse_version(posted["version"])
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
        return await _show_detail(
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
        return await _show_detail(
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


@post("/backoffice/messages/{message_id:int}/forward", include_in_schema=False)
async def forward(request: Request[Any, Any, Any], message_id: FromPath[int]) -> Response[Any]:
    """Classify and forward (or re-forward) to an agency."""
    data = await _form(request)
    names = ("category_id", "subcategory_id", "agency_id", "note", "visibility")
    form = {k: _text(data, k) for k in names}
    fields = {
        "category_id": form_int(form["category_id"]),
        "subcategory_id": form_int(form["subcategory_id"]),
        "agency_id": form_int(form["agency_id"]),
        "note": form["note"],
        "visibility": _visibility(form),
    }

    async def call(ctx: Any, expected: int | None) -> None:
        await core(request).messages.act(
            ctx, message_id, "forward", expected_version=expected, **fields
        )

    return await _act(request, message_id, "forward", form, call, "forwarded", data)


@post("/backoffice/messages/{message_id:int}/reject", include_in_schema=False)
async def reject(request: Request[Any, Any, Any], message_id: FromPath[int]) -> Response[Any]:
    data = await _form(request)
    form = {"reason": _text(data, "reason"), "visibility": _text(data, "visibility")}

    async def call(ctx: Any, expected: int | None) -> None:
        await core(request).messages.act(
            ctx,
            message_id,
            "reject",
            reason=form["reason"],
            visibility=_visibility(form),
            expected_version=expected,
        )

    return await _act(request, message_id, "reject", form, call, "rejected", data)


@post("/backoffice/messages/{message_id:int}/start", include_in_schema=False)
async def start(request: Request[Any, Any, Any], message_id: FromPath[int]) -> Response[Any]:
    data = await _form(request)
    form = {"start_note": _text(data, "note")}
    confirmed = _text(data, "confirm") == "1"

    async def call(ctx: Any, expected: int | None) -> None:
        if not confirmed:  # the button carries confirm=1; a bare POST changes nothing
            raise Invalid.field("confirm", "required", "Please confirm.")
        await core(request).messages.act(
            ctx, message_id, "start", note=form["start_note"], expected_version=expected
        )

    return await _act(request, message_id, "start", form, call, "started", data)


@post("/backoffice/messages/{message_id:int}/progress", include_in_schema=False)
async def progress(request: Request[Any, Any, Any], message_id: FromPath[int]) -> Response[Any]:
    data = await _form(request)
    form = {"note": _text(data, "note"), "visibility": _text(data, "visibility")}

    async def call(ctx: Any, expected: int | None) -> None:
        await core(request).messages.act(
            ctx,
            message_id,
            "progress",
            note=form["note"],
            visibility=_visibility(form),
            expected_version=expected,
        )

    return await _act(request, message_id, "progress", form, call, "progress_saved", data)


@post("/backoffice/messages/{message_id:int}/reply", include_in_schema=False)
async def reply(request: Request[Any, Any, Any], message_id: FromPath[int]) -> Response[Any]:
    """The answer (optional PDF) closes the message."""
    data = await _form(request)
    form = {"answer": _text(data, "answer"), "visibility": _text(data, "visibility")}
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

    return await _act(request, message_id, "reply", form, call, "replied", data, upload)


# ---------------------------------------------------------------------------- notifications


@get("/backoffice/notifications", include_in_schema=False)
async def notifications(
    request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None
) -> Response[str]:
    require_permission(request, Perm.NOTIFICATIONS)
    page = await core(request).notifications.list(context(request), cursor=cursor)
    return render(request, "backoffice/notifications.html", {"page": page})


@get("/backoffice/notifications/count", include_in_schema=False)
async def notification_count(request: Request[Any, Any, Any]) -> Response[str]:
    """The unread number as a bare fragment (empty when none, or for anyone not staff)."""
    a = actor(request)
    app = core(request)
    text = ""
    if a is not None and app.deps.policy.allows(a, Perm.NOTIFICATIONS):
        count = await app.notifications.unread_count(context(request))
        text = str(count) if count else ""
    return Response(content=text, media_type="text/html", headers={"Cache-Control": "no-store"})


@post("/backoffice/notifications/read", include_in_schema=False)
async def notification_read(request: Request[Any, Any, Any]) -> Response[Any]:
    """Mark one notification read; with ``next=message`` go on to its message."""
    require_permission(request, Perm.NOTIFICATIONS)
    data = await _form(request)
    app = core(request)
    try:
        await app.notifications.mark_read(context(request), form_int(_text(data, "id")))
    except Invalid as exc:
        page = await app.notifications.list(context(request))
        return render(
            request,
            "backoffice/notifications.html",
            {"page": page, "form_error": translator(request).error(exc)},
            status_code=422,
        )
    target = _text(data, "message_id")
    if isinstance(goto := form_int(target), int):
        return redirect(request, f"/backoffice/messages/{goto}")
    return redirect(request, "/backoffice/notifications", flash="saved")


@post("/backoffice/notifications/read-all", include_in_schema=False)
async def notification_read_all(request: Request[Any, Any, Any]) -> Response[Any]:
    require_permission(request, Perm.NOTIFICATIONS)
    await core(request).notifications.mark_all_read(context(request))
    return redirect(request, "/backoffice/notifications", flash="saved")


ROUTES: list[Any] = [
    inbox,
    message_list,
    message_detail,
    forward,
    reject,
    start,
    progress,
    reply,
    notifications,
    notification_count,
    notification_read,
    notification_read_all,
]
