"""Citizen pages: dashboard, sending a message, the history, one message (the
settings are in :mod:`aspirasi_web.pages.settings`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from aspirasi_core.domain.errors import DomainError, Unauthenticated
from aspirasi_core.domain.model import Actor, Message, Status
from aspirasi_core.services import Context, SubmitInput, Upload

from ..api.common import form_int
from ..context import Core, Ctx, actor, core, info
from ..csrf import FORM_FAILURE_OPT, UPLOAD_HEADER
from ..csrf import REFUSED as CSRF_REFUSED
from ..idempotency import form_call, form_key, parse_version
from ..middleware import GEOLOCATION_OPT
from ..templating import redirect, render
from .backoffice import deadline_of
from .followups import continuing_work
from .public import form_data, form_failure, text

SUBMIT_FIELDS = (
    "subject",
    "body",
    "attachment",
    "confidential",
    "anonymous",
    "regency",
    "district",
    "latitude",
    "longitude",
)
#: The form's location fields (all optional), posted as text.
LOCATION_FIELDS = ("regency", "district", "latitude", "longitude")
#: How many of one citizen's messages the dashboard counts (pages of 100).
DASHBOARD_PAGES = 20


def signed_in(request: Request[Any, Any, Any]) -> Actor | Redirect:
    """The signed-in, verified actor, or where to send the reader instead."""
    a = actor(request)
    if a is None:
        raise Unauthenticated("Please log in.", code="login_required")
    if not a.verified:
        return Redirect(path="/verify-pending", status_code=303)
    return a


def citizen(request: Request[Any, Any, Any]) -> Actor | Redirect:
    """A verified citizen; staff go to the back office."""
    a = signed_in(request)
    if isinstance(a, Actor) and a.is_staff:
        return Redirect(path="/backoffice", status_code=303)
    return a


# ---------------------------------------------------------------------- dashboard
@get("/dashboard", include_in_schema=False)
async def dashboard(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[Any]:
    a = citizen(request)
    if isinstance(a, Redirect):
        return a
    queries = core.queries
    messages: list[Message] = []
    cursor = None
    for _ in range(DASHBOARD_PAGES):
        page = await queries.my_messages(ctx, cursor=cursor, limit=100)
        messages.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    counts = Counter(str(m.status) for m in messages)
    statuses = [s.value for s in Status if s is not Status.WITHDRAWN]
    return render(
        request,
        "citizen/dashboard.html",
        {
            "counts": [(s, counts.get(s, 0)) for s in statuses],
            "total": len(messages),
            "latest": messages[:5],
            # Every answered message not rated yet gets a call to rate it.
            "to_rate": await queries.awaiting_rating(ctx, messages),
        },
    )


# ---------------------------------------------------------------------- send a message
def _upload_limits(request: Request[Any, Any, Any]) -> dict[str, int]:
    """What the form says about files: at most ``max_files`` of ``max_mb`` each."""
    settings = core(request).deps.settings
    return {"max_mb": int(settings.max_upload_mb), "max_files": int(settings.max_attachments)}


def _new_message_page(request: Request[Any, Any, Any], **values: Any) -> dict[str, Any]:
    page: dict[str, Any] = {
        "form": {},
        "errors": {},
        "regencies": core(request).deps.regions.regencies,
        **_upload_limits(request),
    }
    page.update(values)
    return page


def _wants_location(request: Request[Any, Any, Any]) -> bool:
    """The form's script (static/js/upload.js) sent it: it follows the answer's
    location itself, so that the notice of the page after is not spent on an XHR."""
    return request.headers.get(UPLOAD_HEADER) == "1"


def _answer_script(request: Request[Any, Any, Any], answer: Response[Any]) -> Response[Any]:
    if _wants_location(request) and isinstance(answer, Redirect):
        return Response(content={"location": answer.url}, status_code=200)
    return answer


def _same_origin(request: Request[Any, Any, Any]) -> bool:
    """The browser says the form was posted from one of our own pages (Fetch
    Metadata, else Origin): only then are the posted texts shown again after a CSRF
    failure, so that another site cannot fill the form in someone's name."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    return origin is not None and origin == f"{request.url.scheme}://{request.url.netloc}"


async def new_message_form_failure(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[Any] | None:
    """The form again, with the error next to it, when the request was refused before
    its handler ran: too large (413; the form was not read, the browser's draft
    script fills it in again) or with an expired form token (403; the typed texts
    are kept when the browser says the form came from this site). None: answer as
    usual (the error page)."""
    expired = isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_REFUSED
    if exc.status_code != 413 and not expired:
        return None
    if actor(request) is None:  # the session ended too: log in, the draft waits
        return Redirect(path="/login?next=/my/messages/new", status_code=303)
    t = info(request).translator
    values: dict[str, Any] = {}
    if exc.status_code == 413:
        limits = _upload_limits(request)
        message = t(
            "The files were too large together: at most %(max_files)s files of %(max_mb)s MB"
            " each. Choose smaller or fewer files.",
            **limits,
        )
        errors = {"attachment": [message]}
    else:
        if _same_origin(request):
            form = await request.form()
            values = {
                "subject": text(form, "subject"),
                "body": text(form, "body"),
                "confidential": form.get("confidential") is not None,
                "anonymous": form.get("anonymous") is not None,
                **{name: text(form, name) for name in LOCATION_FIELDS},
            }
        message = t("The form had expired. Check your message and send it again.")
        errors = {"attachment": [t("If you had chosen files, choose them again.")]}
    return render(
        request,
        "citizen/new_message.html",
        _new_message_page(request, form=values, errors=errors, form_error=message),
        status_code=exc.status_code,
    )


@get("/my/messages/new", include_in_schema=False, opt={GEOLOCATION_OPT: True})
async def new_message_form(request: Request[Any, Any, Any]) -> Response[Any]:
    a = citizen(request)
    if isinstance(a, Redirect):
        return a
    return render(request, "citizen/new_message.html", _new_message_page(request))


@post(
    "/my/messages/new",
    include_in_schema=False,
    opt={FORM_FAILURE_OPT: new_message_form_failure, GEOLOCATION_OPT: True},
)
async def new_message_submit(request: Request[Any, Any, Any], core: Core) -> Response[Any]:
    a = citizen(request)
    if isinstance(a, Redirect):
        return a
    form = await request.form()
    values: dict[str, Any] = {
        "subject": text(form, "subject"),
        "body": text(form, "body"),
        "confidential": form.get("confidential") is not None,
        "anonymous": form.get("anonymous") is not None,
        **{name: text(form, name) for name in LOCATION_FIELDS},
    }
    uploads = []
    for file in form.getall("attachment") if "attachment" in form else ():
        if isinstance(file, UploadFile):
            data = await file.read()
            if data or file.filename:
                uploads.append(Upload(filename=file.filename or "", data=data))

    async def call(ctx: Context) -> Message:
        return await core.messages.submit(
            ctx,
            SubmitInput(**values, attachments=tuple(uploads)),
        )

    posted = {**values, "attachment": uploads, "idempotency_key": form_key(form)}
    try:
        answer = await form_call(
            request, posted, call, lambda m: f"/messages/{m.id}", "message_sent"
        )
    except DomainError as exc:
        return form_failure(
            request,
            "citizen/new_message.html",
            _new_message_page(request, form=values),
            exc,
            SUBMIT_FIELDS,
        )
    return _answer_script(request, answer)


# ---------------------------------------------------------------------- history
@get("/my/messages", include_in_schema=False)
async def my_messages(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, cursor: FromQuery[str | None] = None
) -> Response[Any]:
    a = citizen(request)
    if isinstance(a, Redirect):
        return a
    page = await core.queries.my_messages(ctx, cursor=cursor)
    return render(
        request,
        "citizen/my_messages.html",
        {"items": page.items, "next_cursor": page.next_cursor},
    )


@get("/messages/{message_id:int}", include_in_schema=False)
async def message_detail(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, message_id: FromPath[int]
) -> Response[Any]:
    """One message, for anyone the core lets read it (citizens: their own)."""
    a = signed_in(request)
    if isinstance(a, Redirect):
        return a
    app = core
    detail = await app.queries.message(ctx, message_id)
    deadline = deadline_of(request, detail.message, app.deps.clock.now())
    values = {"d": detail, "m": detail.message, "deadline": deadline}
    return render(request, "citizen/message.html", values | await continuing_work(request, detail))


@post("/my/messages/{message_id:int}/withdraw", include_in_schema=False)
async def withdraw(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, message_id: FromPath[int]
) -> Response[Any]:
    a = citizen(request)
    if isinstance(a, Redirect):
        return a
    form = await form_data(request)
    await core.messages.act(
        ctx,
        message_id,
        "withdraw",
        expected_version=parse_version(text(form, "version")),
    )
    return redirect(request, "/my/messages", flash="message_withdrawn")


@post("/my/messages/{message_id:int}/rating", include_in_schema=False)
async def rate(
    request: Request[Any, Any, Any], core: Core, ctx: Ctx, message_id: FromPath[int]
) -> Response[Any]:
    a = citizen(request)
    if isinstance(a, Redirect):
        return a
    form = await form_data(request)
    stars = text(form, "stars")
    comment = text(form, "comment")
    app = core

    async def call(ctx: Context) -> None:
        await app.messages.rate(
            ctx,
            message_id,
            form_int(stars),
            comment,
            expected_version=parse_version(text(form, "version")),
        )

    try:
        return await form_call(request, form, call, lambda _: f"/messages/{message_id}", "rated")
    except DomainError as exc:
        detail = await app.queries.message(ctx, message_id)
        return form_failure(
            request,
            "citizen/message.html",
            {"d": detail, "m": detail.message, "form": {"stars": stars, "comment": comment}}
            | await continuing_work(request, detail),
            exc,
            ("stars", "comment"),
        )


ROUTES: list[Any] = [
    dashboard,
    new_message_form,
    new_message_submit,
    my_messages,
    message_detail,
    withdraw,
    rate,
]
