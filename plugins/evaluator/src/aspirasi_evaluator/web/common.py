"""What the evaluator's pages and API share: the services of a request, the
status labels, times and durations as people read them, the query parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request

from aspirasi_core.services import Context
from aspirasi_web.api.common import require_actor as api_require_actor
from aspirasi_web.context import context, plugin_context
from aspirasi_web.i18n import Translator

from .. import EVALUATE
from ..service import EvaluatorService
from ..timings import Median

#: The report's status buckets and their (English msgid) labels.
BUCKET_LABELS: Mapping[str, str] = {
    "submitted": "Not yet forwarded",
    "forwarded": "Not yet confirmed",
    "in_progress": "Being processed",
    "done": "Completed",
    "rejected": "Rejected",
}

Req = Request[Any, Any, Any]


def service(request: Req) -> EvaluatorService:
    return EvaluatorService(plugin_context(request))


def buckets(t: Translator) -> dict[str, str]:
    return {code: t(label) for code, label in BUCKET_LABELS.items()}


def duration_text(t: Translator, median: Median) -> str:
    """A median as hours (under two days) or days, or a dash."""
    if median.seconds is None:
        return "—"
    hours = median.seconds / 3600
    if hours < 48:
        return t("%(value)s hours", value=f"{hours:.1f}")
    return t("%(value)s days", value=f"{hours / 24:.1f}")


def hours(median: Median) -> float | None:
    return None if median.seconds is None else round(median.seconds / 3600, 2)


def query_values(request: Req) -> dict[str, str | None]:
    q = request.query_params
    return {
        name: q.get(name)
        for name in ("from", "to", "agency", "category", "subcategory", "status", "overdue")
    }


def api_evaluator(request: Req) -> Context:
    actor = api_require_actor(request)
    plugin_context(request).policy.require(actor, EVALUATE)
    return context(request)
