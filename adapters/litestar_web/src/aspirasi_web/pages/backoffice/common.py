"""What the back-office pages share: the filters' choices, the deadline texts,
the directory of names, and reading a posted form."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Request

from aspirasi_core.domain.model import Message
from aspirasi_core.domain.sop import stage_of

from ...context import context, core, translator
from ...i18n import Translator

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


def field_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def read_form(request: Request[Any, Any, Any]) -> Any:
    return await request.form()


async def directory(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the forward form offers (the active entries), in one read: the same
    directory as ``GET /api/v1/backoffice/directory``."""
    found = await core(request).admin.staff_directory(context(request))
    return {
        "categories": found.categories,
        "subcategories": found.subcategories,
        "agencies": found.agencies,
        "category_names": {c.id: c.name for c in found.categories},
        "agency_names": {a.id: a.name for a in found.agencies},
    }


async def names_of(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Names of agencies (also inactive ones, for old messages) and categories,
    in one read; ``agencies`` (a filter's choices) are the active ones."""
    categories, agencies = await core(request).admin.directory()
    return {
        "category_names": {c.id: c.name for c in categories},
        "agency_names": {a.id: a.name for a in agencies},
        "categories": categories,
        "agencies": [a for a in agencies if a.is_active],
    }
