"""Pages of the work that continues (issue 22): an agency returns a misrouted
message to the admin, the sender and the agency write follow-ups, the admin and
the evaluators review poorly rated messages and reopen them for the agency.

The forms sit on the message's pages (back office and the sender's); the
oversight reviews have their own list, ``/backoffice/reviews``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aspirasi_core.domain.errors import DomainError
from aspirasi_core.domain.model import Message
from aspirasi_core.domain.policy import Perm
from aspirasi_core.domain.workflow import CLOSED
from aspirasi_core.services import Context, MessageDetail

from ..context import actor, context, core
from ..guards import BACKOFFICE, requires, signed_in
from ..idempotency import form_call
from ..templating import render

#: The actions that have a form on the back-office detail.
ACTION_FORMS = frozenset(
    {"forward", "reforward", "reject", "start", "progress", "reply", "return", "reopen"}
)


def may_follow_up(request: Request[Any, Any, Any], message: Message) -> bool:
    """Whether the reader may write a follow-up now: the message is open and the
    reader is its sender or the staff who handle it (the core decides again)."""
    a = actor(request)
    if a is None or message.status in CLOSED:
        return False
    policy = core(request).deps.policy
    if message.author_id == a.account_id:
        return True
    if policy.allows(a, Perm.MESSAGE_CLASSIFY):
        return True
    return (
        policy.allows(a, Perm.MESSAGE_HANDLE)
        and message.agency_id is not None
        and (a.agency_id == message.agency_id or a.role == "super_admin")
    )


async def continuing_work(request: Request[Any, Any, Any], detail: MessageDetail) -> dict[str, Any]:
    """The thread, the open review and what the reader may do about them, for a
    message's page."""
    app = core(request)
    ctx = context(request)
    names = {a.id: a.name for a in await app.admin.agencies()}
    return {
        "thread": await app.followups.thread(ctx, detail.message.id),
        "review": await app.reviews.of_message(ctx, detail.message.id),
        "can_follow_up": may_follow_up(request, detail.message),
        "agency_names": names,
    }


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _staff_step(
    request: Request[Any, Any, Any],
    message_id: int,
    action: str,
    flash: str,
    *,
    target: str | None = None,
) -> Response[Any]:
    """A workflow step with a reason (return, reopen) from the back-office detail
    (its route lets staff only through: ``requires(Perm.BACKOFFICE)``)."""
    from .backoffice import act_on

    data = await request.form()
    form = {"reason": _text(data, "reason"), "visibility": _text(data, "visibility")}

    async def call(ctx: Any, expected: int | None) -> None:
        await core(request).messages.act(
            ctx,
            message_id,
            action,
            reason=form["reason"],
            visibility=form["visibility"] or None,
            expected_version=expected,
        )

    return await act_on(request, message_id, action, form, call, flash, data, target=target)


@post(
    "/backoffice/messages/{message_id:int}/return",
    guards=BACKOFFICE,
    include_in_schema=False,
)
async def return_to_admin(
    request: Request[Any, Any, Any], message_id: FromPath[int]
) -> Response[Any]:
    """The agency: not our authority. The message goes back to the admin's inbox
    (and out of the agency's sight: the operator lands in the inbox)."""
    return await _staff_step(request, message_id, "return", "returned", target="/backoffice")


@post(
    "/backoffice/messages/{message_id:int}/reopen",
    guards=[requires(Perm.OVERSIGHT), requires(Perm.BACKOFFICE)],
    include_in_schema=False,
)
async def reopen(request: Request[Any, Any, Any], message_id: FromPath[int]) -> Response[Any]:
    """Oversight: reopen a poorly rated message for its agency (new reply deadline)."""
    return await _staff_step(request, message_id, "reopen", "reopened")


@post(
    "/backoffice/messages/{message_id:int}/review/dismiss",
    guards=[requires(Perm.OVERSIGHT)],
    include_in_schema=False,
)
async def dismiss_review(
    request: Request[Any, Any, Any], message_id: FromPath[int]
) -> Response[Any]:
    """Oversight: close the review, the answer stands."""
    data = await request.form()

    async def call(ctx: Context) -> None:
        await core(request).reviews.dismiss(ctx, message_id)

    try:
        return await form_call(
            request, data, call, lambda _: "/backoffice/reviews", "review_dismissed"
        )
    except DomainError as exc:
        return await _reshow(request, message_id, exc, "dismiss")


async def _reshow(
    request: Request[Any, Any, Any], message_id: int, exc: DomainError, failed: str, **form: str
) -> Response[Any]:
    """The message's page again (the sender's, or the back office's for staff),
    with the error of the form ``failed``."""
    from .backoffice import show_detail
    from .public import failure

    app = core(request)
    detail = await app.queries.message(context(request), message_id)
    errors, message, status, _ = failure(request, exc, ("body", "reason"))
    a = actor(request)
    staff = a is not None and app.deps.policy.allows(a, Perm.BACKOFFICE)
    if not staff or detail.message.author_id == a.account_id:  # type: ignore[union-attr]
        values: dict[str, Any] = {"d": detail, "m": detail.message, "failed": failed}
        values.update(errors=errors, form_error=message, form=form)
        values.update(await continuing_work(request, detail))
        return render(request, "citizen/message.html", values, status_code=status)
    return await show_detail(
        request,
        detail,
        errors=errors,
        form=form,
        form_error=message,
        failed=failed,
        status_code=status,
    )


async def _followup(request: Request[Any, Any, Any], message_id: int, page: str) -> Response[Any]:
    data = await request.form()
    body = _text(data, "body")

    async def call(ctx: Context) -> None:
        await core(request).followups.post(ctx, message_id, body)

    try:
        return await form_call(request, data, call, lambda _: f"{page}#followups", "followup_sent")
    except DomainError as exc:
        return await _reshow(request, message_id, exc, "followup", body=body)


@post(
    "/backoffice/messages/{message_id:int}/followups",
    guards=BACKOFFICE,
    include_in_schema=False,
)
async def staff_followup(
    request: Request[Any, Any, Any], message_id: FromPath[int]
) -> Response[Any]:
    """The staff who handle the message write to its sender."""
    return await _followup(request, message_id, f"/backoffice/messages/{message_id}")


@post("/messages/{message_id:int}/followups", guards=[signed_in], include_in_schema=False)
async def sender_followup(
    request: Request[Any, Any, Any], message_id: FromPath[int]
) -> Response[Any]:
    """The sender answers the agency (or adds what they forgot)."""
    return await _followup(request, message_id, f"/messages/{message_id}")


@get("/backoffice/reviews", guards=[requires(Perm.OVERSIGHT)], include_in_schema=False)
async def reviews(
    request: Request[Any, Any, Any],
    cursor: FromQuery[str | None] = None,
    closed: FromQuery[str | None] = None,
) -> Response[str]:
    """The oversight reviews opened by ratings of 1–2 stars (the open ones, or all)."""
    app = core(request)
    show_all = closed == "1"
    page = await app.reviews.list(context(request), open_only=not show_all, cursor=cursor)
    names = {a.id: a.name for a in await app.admin.agencies()}
    return render(
        request,
        "backoffice/reviews.html",
        {"page": page, "agency_names": names, "show_all": show_all},
    )


ROUTES: list[Any] = [
    return_to_admin,
    reopen,
    dismiss_review,
    staff_followup,
    sender_followup,
    reviews,
]
