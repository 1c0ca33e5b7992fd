"""Privacy pages of the super admin: the audited reveal of an anonymous sender
(a form on the message's page, the sender on the answer page only) and the
audit log of staff reads of personal data, filtered and paginated.

The rules are the core's (``app.privacy``, ``app.audit``); the routes' guards
check the permission first, so a refusal comes before the form is read.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

from aspirasi_core.domain.audit import AuditAction
from aspirasi_core.domain.errors import Conflict, Invalid
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import AuditQuery

from ..api.common import query_date
from ..context import Core, Ctx, CurrentTranslator, core, translator
from ..guards import requires
from ..templating import form_errors, render
from .backoffice import show_detail

#: Labels of the core's audit actions (other actions are shown by their name).
ACTION_LABELS = {
    AuditAction.MESSAGE_SENDER_READ: "Sender of a message shown",
    AuditAction.MESSAGE_SENDER_REVEAL: "Anonymous sender revealed",
    AuditAction.ACCOUNT_READ: "Citizen's account opened",
    AuditAction.ACCOUNT_DATA_EXPORT: "Citizen downloaded their data",
    AuditAction.ACCOUNT_DELETE: "Citizen deleted their account",
    AuditAction.ATTACHMENT_RETENTION_REMOVE: "Attachments removed after the retention period",
    AuditAction.ACCOUNT_NIK_RELEASE: "NIK released from an account",
    AuditAction.ACCOUNT_EMAIL_CHANGE: "Unverified account corrected its e-mail address",
}


@post(
    "/backoffice/messages/{message_id:int}/reveal",
    guards=[requires(Perm.PRIVACY_REVEAL)],
    include_in_schema=False,
)
async def reveal(
    request: Request[Any, Any, Any],
    core: Core,
    ctx: Ctx,
    translator: CurrentTranslator,
    message_id: FromPath[int],
) -> Response[Any]:
    """Reveal the sender of an anonymous message for the reason given (audited);
    the sender is shown on this answer only."""
    data = await request.form()
    value = data.get("reveal_reason")
    form = {"reveal_reason": value if isinstance(value, str) else ""}
    app = core
    t = translator
    try:
        revealed = await app.privacy.reveal_sender(ctx, message_id, form["reveal_reason"])
    except (Invalid, Conflict) as exc:
        detail = await app.queries.message(ctx, message_id)
        errors: dict[str, list[str]] = {}
        if isinstance(exc, Invalid):
            errors = {
                "reveal_reason" if field == "reason" else field: messages
                for field, messages in form_errors(request, exc).items()
            }
        return await show_detail(
            request,
            detail,
            errors=errors,
            form=form,
            form_error=t("Please correct the marked fields.") if errors else t.error(exc),
            failed="reveal",
            status_code=422 if isinstance(exc, Invalid) else 409,
        )
    return render(
        request,
        "backoffice/reveal.html",
        {"r": revealed, "reason": form["reveal_reason"].strip()},
        headers={"Cache-Control": "no-store"},
    )


def _audit_query(
    request: Request[Any, Any, Any], params: dict[str, str], errors: dict[str, list[str]]
) -> AuditQuery:
    tz = core(request).deps.settings.timezone
    t = translator(request)
    dates: dict[str, Any] = {}
    for name, end in (("date_from", False), ("date_to", True)):
        try:
            dates[name] = query_date(params[name], name, tz, end=end)
        except Invalid as exc:
            errors.setdefault(name, []).extend(form_errors(request, exc).get(name, []))
    account = params["account"]
    if account and not (account.isascii() and account.isdigit()):
        errors.setdefault("account", []).append(t("Enter an account number."))
        account = ""
    return AuditQuery(
        actor=params["actor"] or None,
        action=params["action"] or None,
        subject_account_id=account or None,
        ticket=params["ticket"] or None,
        at_from=dates.get("date_from"),
        at_to=dates.get("date_to"),
    )


@get("/admin/audit", guards=[requires(Perm.AUDIT_READ)], include_in_schema=False)
async def audit_log(
    request: Request[Any, Any, Any],
    core: Core,
    ctx: Ctx,
    # "actor" in the query: the name ``actor`` is the signed-in actor (a dependency).
    who: Annotated[str | None, QueryParameter(name="actor")] = None,
    action: FromQuery[str | None] = None,
    account: FromQuery[str | None] = None,
    ticket: FromQuery[str | None] = None,
    date_from: FromQuery[str | None] = None,
    date_to: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Response[str]:
    """Who read whose personal data, when and why: newest first, filtered by
    staff member, action, citizen's account, ticket and dates."""
    params = {
        "actor": (who or "").strip(),
        "action": (action or "").strip(),
        "account": (account or "").strip(),
        "ticket": (ticket or "").strip(),
        "date_from": (date_from or "").strip(),
        "date_to": (date_to or "").strip(),
    }
    errors: dict[str, list[str]] = {}
    query = _audit_query(request, params, errors)
    items: tuple[Any, ...] = ()
    next_cursor = None
    if not errors:
        try:
            page = await core.audit.list(ctx, query, cursor=cursor)
        except Invalid as exc:
            fields = {"subject_account_id": "account", "at_to": "date_to"}
            for field, messages in form_errors(request, exc).items():
                errors.setdefault(fields.get(field, field), []).extend(messages)
        else:
            items, next_cursor = page.items, page.next_cursor
    return render(
        request,
        "admin/audit.html",
        {
            "items": items,
            "next_cursor": next_cursor,
            "filter": params,
            "errors": errors,
            "actions": ACTION_LABELS,
            "next_query": {k: v for k, v in params.items() if v},
        },
        status_code=422 if errors else 200,
    )


ROUTES: list[Any] = [reveal, audit_log]
