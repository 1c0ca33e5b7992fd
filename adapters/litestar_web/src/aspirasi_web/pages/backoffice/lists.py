"""The inbox and the filtered list of messages."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromQuery

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import BackofficeQuery

from ...context import CurrentActor, context, core, translator
from ...filters import PAGE_NAMES, MessageFilter
from ...guards import BACKOFFICE
from ...templating import form_errors, render
from ...vocabulary import waited
from .common import (
    FILTER_STATUSES,
    SORTS,
    deadline_of,
    names_of,
)

# ---------------------------------------------------------------------------- inbox


@get("/backoffice", guards=BACKOFFICE, include_in_schema=False)
async def inbox(request: Request[Any, Any, Any], actor: CurrentActor) -> Response[str]:
    """New work: ``submitted`` messages for admins; for operators those forwarded
    to their agency and not yet confirmed, and those being handled. Oldest first."""
    app = core(request)
    ctx = context(request)
    classify = app.deps.policy.allows(actor, Perm.MESSAGE_CLASSIFY)
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
    context_values = await names_of(request)
    context_values.update({"sections": sections})
    return render(request, "backoffice/inbox.html", context_values)


# ---------------------------------------------------------------------------- list


@get("/backoffice/messages", guards=BACKOFFICE, include_in_schema=False)
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
    regency: FromQuery[str | None] = None,
) -> Response[str]:
    """All messages the reader may see, filtered, newest first (or the open ones,
    earliest deadline first), with the waited time and the SOP deadline."""
    app = core(request)
    t = translator(request)
    raw = {
        "status": status,
        "agency": agency,
        "category": category,
        "date_from": date_from,
        "date_to": date_to,
        "q": q,
        "overdue": overdue,
        "sort": sort,
        "regency": regency,
    }
    errors: dict[str, list[str]] = {}
    flt: MessageFilter | None = None
    try:
        flt = MessageFilter.from_query(raw, PAGE_NAMES)
    except Invalid as exc:
        errors = form_errors(request, exc)
    form = {name: value or "" for name, value in raw.items()}
    form["overdue"] = "1" if flt is not None and flt.overdue else ""
    form["sort"] = flt.sort if flt is not None and flt.sort != "newest" else ""
    items: tuple[Any, ...] = ()
    next_cursor = None
    status_code = 200
    if flt is not None:
        query = flt.query(app.deps.settings.timezone)
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
    values = await names_of(request)
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
            "regencies": app.deps.regions.regencies,
            "next_query": {k: v for k, v in form.items() if v},
        }
    )
    return render(request, "backoffice/list.html", values, status_code=status_code)
