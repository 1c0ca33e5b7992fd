"""What the evaluator's pages and API share: the services of a request, the
status labels, times and durations as people read them, the query parameters."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import msgspec
from litestar import Request
from litestar.openapi.spec import OpenAPIType
from litestar.params import QueryParameter

from aspirasi_web.context import plugin_context
from aspirasi_web.i18n import Translator, status_labels

from ..figures import STATUS_BUCKETS
from ..service import EvaluatorService
from ..timings import Median

Req = Request[Any, Any, Any]

_DAY = {"oneOf": None, "type": OpenAPIType.STRING, "format": "date"}
#: ``?from=``: the first day of a range (``YYYY-MM-DD``, local), read by
#: :meth:`EvaluatorService.parse_range` like the pages do.
DayFrom: TypeAlias = Annotated[
    str | None,
    QueryParameter(
        name="from",
        description="First day, included: exactly YYYY-MM-DD (no spaces; empty: absent).",
        schema_extra=_DAY,
    ),
]
#: ``?to=``: the last day of a range, included.
DayTo: TypeAlias = Annotated[
    str | None,
    QueryParameter(
        name="to",
        description="Last day, included: exactly YYYY-MM-DD (no spaces; empty: absent).",
        schema_extra=_DAY,
    ),
]


class Shape(msgspec.Struct, kw_only=True):
    """An answer of the evaluator's API (documented in the schema)."""


class Ref(Shape):
    """Something named: an agency, an account."""

    id: int | None
    name: str | None


def service(request: Req) -> EvaluatorService:
    return EvaluatorService(plugin_context(request))


def buckets(t: Translator) -> dict[str, str]:
    """The report's status buckets by the names every other page gives them (the
    web adapter's one status vocabulary, :func:`aspirasi_web.i18n.status_labels`)."""
    labels = status_labels(t)
    return {code: labels[code] for code in STATUS_BUCKETS}


#: The period presets of the dashboard (English msgids), in the order shown.
PRESET_LABELS: dict[str, str] = {
    "this_month": "This month",
    "last_month": "Last month",
    "this_year": "This year",
}


def number_text(t: Translator, value: float | None, digits: int = 0) -> str:
    """A number as the page's language writes it (``4,25`` in Indonesian), or a dash."""
    from babel.numbers import format_decimal

    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=t.language))


def percent_text(t: Translator, share: float | None) -> str:
    """A share as a whole percentage (``75%``), or a dash."""
    from babel.numbers import format_percent

    return "—" if share is None else str(format_percent(share, locale=t.language))


def duration_text(t: Translator, median: Median) -> str:
    """A median as hours (under two days) or days, or a dash."""
    if median.seconds is None:
        return "—"
    hours = median.seconds / 3600
    if hours < 48:
        return t("%(value)s hours", value=number_text(t, hours, 1))
    return t("%(value)s days", value=number_text(t, hours / 24, 1))


def hours(median: Median) -> float | None:
    return None if median.seconds is None else round(median.seconds / 3600, 2)


def query_values(request: Req) -> dict[str, str | None]:
    q = request.query_params
    return {
        name: q.get(name)
        for name in ("from", "to", "agency", "category", "subcategory", "status", "overdue")
    }
