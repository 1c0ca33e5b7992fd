"""The staff message list's filter, read once for the pages and the API.

:meth:`MessageFilter.from_query` reads the query parameters of
``/backoffice/messages`` (the page) and ``/api/v1/backoffice/messages`` (the
API) with the same rules, and raises one :class:`Invalid` naming every bad
field: the page re-shows its filter form with the translated messages, the API
answers 422 problem+json. Only the id parameters are spelled differently
(``agency`` on the page, ``agency_id`` in the API): see :data:`PAGE_NAMES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from aspirasi_core.domain.errors import FieldError, Invalid
from aspirasi_core.domain.validation import check_day
from aspirasi_core.services import BackofficeQuery

from .api.common import query_flag, query_int

#: The statuses the list may be filtered by (a withdrawn message is never listed).
STATUSES = ("submitted", "forwarded", "in_progress", "done", "rejected")
#: The orders of the list.
SORTS = ("newest", "due")
#: The query names of the ids on the page (the API's are the attribute names).
PAGE_NAMES = {"agency_id": "agency", "category_id": "category", "subcategory_id": "subcategory"}


@attrs.frozen
class MessageFilter:
    """What a staff member filters the message list by (all optional)."""

    status: str | None = None
    agency_id: int | None = None
    category_id: int | None = None
    subcategory_id: int | None = None
    #: Local days, both included.
    date_from: date | None = None
    date_to: date | None = None
    #: Searched in the subject and body (the core checks its length, field ``text``).
    text: str | None = None
    overdue: bool = False
    sort: str = "newest"
    #: The code of a regency or city (``GET /api/v1/regions``); the core refuses an
    #: unknown one (``regency_unknown``).
    regency: str | None = None

    @classmethod
    def from_query(
        cls, query: Mapping[str, str | None], names: Mapping[str, str] | None = None
    ) -> MessageFilter:
        """Read ``status``, the ids, ``date_from``, ``date_to``, ``q``, ``overdue``,
        ``sort`` and ``regency`` (absent or empty: no filter); raise :class:`Invalid` with every bad
        field, under the name the query gave it. Spelled strictly, as everywhere in
        the API: ids in plain digits, days exactly ``YYYY-MM-DD``, ``overdue`` as
        :func:`~.api.common.query_flag` reads every flag (no spaces, no ``yes``). ``names`` renames the id
        parameters (:data:`PAGE_NAMES` for the page)."""
        names = names or {}
        errors: list[FieldError] = []
        values: dict[str, Any] = {}

        def read(attr: str, parse: Callable[[str, str], Any]) -> None:
            name = names.get(attr, attr)
            raw = query.get(name)
            if raw is None or raw == "":
                return
            try:
                values[attr] = parse(raw, name)
            except Invalid as exc:
                errors.extend(exc.errors)

        read("status", _status)
        for attr in ("agency_id", "category_id", "subcategory_id"):
            read(attr, query_int)
        read("date_from", check_day)
        read("date_to", check_day)
        read("overdue", query_flag)
        read("sort", _sort)
        if errors:  # one bad field: its own code, as the core answers
            raise Invalid(errors=errors, code=errors[0].code if len(errors) == 1 else None)
        return cls(text=query.get("q") or None, regency=query.get("regency") or None, **values)

    def query(self, timezone: str) -> BackofficeQuery:
        """The core's list query: the days as instants of the province's time zone
        (``date_to`` up to the start of the next day)."""
        tz = ZoneInfo(timezone)

        def start(day: date | None) -> datetime | None:
            if day is None:
                return None
            return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)

        return BackofficeQuery(
            status=self.status,
            agency_id=self.agency_id,
            category_id=self.category_id,
            subcategory_id=self.subcategory_id,
            created_from=start(self.date_from),
            created_to=start(self.date_to + timedelta(days=1) if self.date_to else None),
            text=self.text,
            overdue=self.overdue,
            sort=self.sort,
            regency=self.regency,
        )


def _status(value: str, field: str) -> str:
    if value not in STATUSES:
        raise Invalid.field(field, "status_unknown", "Choose a known status.")
    return value


def _sort(value: str, field: str) -> str:
    if value not in SORTS:
        raise Invalid.field(field, "sort_unknown", "Choose a known order.")
    return value
