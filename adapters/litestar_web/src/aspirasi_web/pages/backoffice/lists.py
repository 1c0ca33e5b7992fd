"""The inbox and the filtered list of messages."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get
from litestar.params import FromQuery

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.policy import Perm
from aspirasi_core.domain.validation import check_day_range, check_flag
from aspirasi_core.services import BackofficeQuery

from ...context import context, core, translator
from ...i18n import Translator
from ...templating import form_errors, render
from ...vocabulary import waited
from .common import (
    FILTER_STATUSES,
    SORTS,
    deadline_of,
    names_of,
    staff_actor,
)

# ---------------------------------------------------------------------------- inbox


@get("/backoffice", include_in_schema=False)
async def inbox(request: Request[Any, Any, Any]) -> Response[str]:
    """New work: ``submitted`` messages for admins; for operators those forwarded
    to their agency and not yet confirmed, and those being handled. Oldest first."""
    a = staff_actor(request)
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
    context_values = await names_of(request)
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
    regency: FromQuery[str | None] = None,
) -> Response[str]:
    """All messages the reader may see, filtered, newest first (or the open ones,
    earliest deadline first), with the waited time and the SOP deadline."""
    staff_actor(request)
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
        "regency": regency or "",
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
            regency=regency or None,
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
