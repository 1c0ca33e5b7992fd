"""The report: its page (``/evaluator``) and its JSON (``GET
/api/v1/evaluator/report``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Response, get
from msgspec import UNSET, UnsetType

from aspirasi_core.domain.errors import Invalid
from aspirasi_web.api.common import API
from aspirasi_web.api.shapes import utc
from aspirasi_web.context import context, translator
from aspirasi_web.guards import requires
from aspirasi_web.i18n import Translator
from aspirasi_web.templating import form_errors, render

from .. import EVALUATE
from ..chart import layout
from ..drill import NONE
from ..figures import STATUS_BUCKETS
from ..period import DateRange
from ..report import Report, Row, Trend, by_attention
from ..timings import Median
from .common import (
    PRESET_LABELS,
    DayFrom,
    DayTo,
    Req,
    Shape,
    buckets,
    duration_text,
    hours,
    number_text,
    percent_text,
    query_values,
    service,
)

# ----------------------------------------------------------------------------- names


def agency_name(t: Translator, row: Row) -> str:
    return row.name if row.name is not None else t("No agency (not forwarded yet)")


def category_name(t: Translator, row: Row) -> str:
    return row.name if row.name is not None else t("Not classified")


def subcategory_name(t: Translator, row: Row) -> str:
    return row.name if row.name is not None else t("No sub-category")


def drill_link(rng: DateRange) -> Callable[..., str]:
    """``link(agency=…, status=…, overdue=True, …)`` → the drill-down URL."""

    def link(**params: Any) -> str:
        query = rng.query()
        for name in ("agency", "category", "subcategory", "status"):
            if name in params:
                value = params[name]
                query[name] = NONE if value is None else str(value)
        if params.get("overdue"):
            query["overdue"] = "1"
        return "/evaluator/messages?" + urlencode(query)

    return link


# ----------------------------------------------------------------------------- JSON


class StatusCountsOut(Shape):
    """The messages in each status bucket (the report's ``statuses``)."""

    submitted: int
    forwarded: int
    in_progress: int
    done: int
    rejected: int


class MedianOut(Shape):
    """A median duration over ``count`` messages (null when there are none)."""

    hours: float | None
    seconds: float | None
    count: int


class ReportRowOut(Shape):
    """A line of a report table: null ``id``, ``code`` and ``name`` for the
    messages without one (no agency yet, not classified) and for the total."""

    id: int | None
    code: str | None
    name: str | None
    counts: StatusCountsOut
    total: int
    #: open messages whose SOP deadline has passed
    overdue: int


class AgencyRowOut(ReportRowOut, kw_only=True):
    """An agency's line, or the total: with its times, ratings and reprimands."""

    median_time_to_confirm: MedianOut
    median_time_to_close: MedianOut
    rating_average: float | None
    rating_count: int
    reprimands: int
    #: completed messages whose agency kept both SOP deadlines
    completed_within_sop: int | None


class SubcategoryRowOut(ReportRowOut, kw_only=True):
    """A sub-category's line; ``category_id`` is absent for messages not classified."""

    category_id: int | UnsetType | None = UNSET


class TrendPointOut(Shape):
    """A period of the trend, ``from`` to ``to`` with both days included."""

    from_: date = msgspec.field(name="from")
    to: date
    submitted: int
    closed: int


class TrendOut(Shape):
    #: ``week`` for ranges of 92 days or shorter, ``month`` otherwise
    granularity: str
    points: list[TrendPointOut]


class ReportOut(Shape):
    """The evaluation report of the messages submitted from ``from`` to ``to``
    (local days of ``timezone``, both included)."""

    from_: date = msgspec.field(name="from")
    to: date
    timezone: str
    generated_at: datetime | None
    statuses: list[str]
    total: AgencyRowOut
    agencies: list[AgencyRowOut]
    categories: list[ReportRowOut]
    subcategories: list[SubcategoryRowOut]
    trend: TrendOut


def median_json(median: Median) -> MedianOut:
    return MedianOut(
        hours=hours(median),
        seconds=None if median.seconds is None else round(median.seconds, 3),
        count=median.count,
    )


def _counts(row: Row) -> StatusCountsOut:
    return StatusCountsOut(**{s: row.count(s) for s in STATUS_BUCKETS})


def row_json(row: Row) -> ReportRowOut:
    """A category's line."""
    return ReportRowOut(
        id=row.key,
        code=row.code,
        name=row.name,
        counts=_counts(row),
        total=row.total,
        overdue=row.overdue,
    )


def agency_row_json(row: Row) -> AgencyRowOut:
    """An agency's line, or the total."""
    return AgencyRowOut(
        id=row.key,
        code=row.code,
        name=row.name,
        counts=_counts(row),
        total=row.total,
        overdue=row.overdue,
        median_time_to_confirm=median_json(row.confirm),
        median_time_to_close=median_json(row.close),
        rating_average=round(row.rating_average, 3) if row.rating_average is not None else None,
        rating_count=row.rating_count,
        reprimands=row.reprimands,
        completed_within_sop=row.within_sop,
    )


def subcategory_row_json(row: Row) -> SubcategoryRowOut:
    """A sub-category's line, with its category (when classified)."""
    has_category = row.parent_key is not None or row.parent_name is not None
    return SubcategoryRowOut(
        id=row.key,
        code=row.code,
        name=row.name,
        counts=_counts(row),
        total=row.total,
        overdue=row.overdue,
        category_id=row.parent_key if has_category else UNSET,
    )


def report_json(report: Report) -> ReportOut:
    rng = report.range
    return ReportOut(
        from_=rng.start_day,
        to=rng.last_day,
        timezone=rng.timezone,
        generated_at=utc(report.now),
        statuses=list(STATUS_BUCKETS),
        total=agency_row_json(report.total),
        agencies=[agency_row_json(r) for r in report.agencies],
        categories=[row_json(r) for r in report.categories],
        subcategories=[subcategory_row_json(r) for r in report.subcategories],
        trend=TrendOut(
            granularity=report.trend.granularity,
            points=[
                TrendPointOut(
                    from_=p.start_day,
                    to=p.last_day,
                    submitted=p.submitted,
                    closed=p.closed,
                )
                for p in report.trend.points
            ],
        ),
    )


# ----------------------------------------------------------------------------- pages


def chart_labels(t: Translator, trend: Trend) -> list[str]:
    """The periods as the chart names them: the month (``Des 2026``) or the week's
    first day (``7 Des``), by Babel in the page's language."""
    from babel.dates import format_date

    pattern = "LLL y" if trend.granularity == "month" else "d MMM"
    return [format_date(p.start_day, pattern, locale=t.language) for p in trend.points]


def _split(rows: tuple[Row, ...]) -> tuple[list[Row], list[Row]]:
    """Rows with something to show, and the empty ones (folded away on the page)."""
    return [r for r in rows if not r.is_empty], [r for r in rows if r.is_empty]


def _report_page(
    request: Req,
    *,
    report: Report | None,
    form: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response[str]:
    t = translator(request)
    presets = service(request).presets()
    values: dict[str, Any] = {
        "report": report,
        "form": form,
        "errors": errors or {},
        "buckets": buckets(t),
        "statuses": STATUS_BUCKETS,
        "presets": [(name, PRESET_LABELS[name], rng) for name, rng in presets.items()],
        "agency_name": lambda r: agency_name(t, r),
        "category_name": lambda r: category_name(t, r),
        "subcategory_name": lambda r: subcategory_name(t, r),
        "duration": lambda m: duration_text(t, m),
        "number": lambda v, digits=0: number_text(t, v, digits),
        "percent": lambda share: percent_text(t, share),
        "chart": None,
        "link": None,
        "export_query": "",
        "reprimands_link": None,
    }
    if report is not None:
        rng = report.range
        agencies, empty_agencies = _split(tuple(by_attention(report.agencies)))
        categories, empty_categories = _split(report.categories)
        subcategories, empty_subcategories = _split(report.subcategories)
        values.update(
            agencies=agencies,
            empty_agencies=empty_agencies,
            categories=categories,
            empty_categories=empty_categories,
            subcategories=subcategories,
            empty_subcategories=empty_subcategories,
            chart=layout(report.trend, chart_labels(t, report.trend)),
            link=drill_link(rng),
            export_query=urlencode(rng.query()),
            reprimands_link=lambda agency: (
                "/reprimands?" + urlencode({"agency": str(agency), **rng.query()})
            ),
        )
    return render(request, "evaluator/report.html", values, status_code=status_code)


@get("/evaluator", guards=[requires(EVALUATE)], include_in_schema=False)
async def report_page(request: Req) -> Response[str]:
    """The dashboard for a date range (default: the current year)."""
    svc = service(request)
    q = query_values(request)
    form = {"from": q["from"] or "", "to": q["to"] or ""}
    try:
        rng = svc.parse_range(q["from"], q["to"])
    except Invalid as exc:
        return _report_page(
            request, report=None, form=form, errors=form_errors(request, exc), status_code=422
        )
    report = await svc.report(context(request), rng)
    return _report_page(request, report=report, form=rng.query())


@get(
    f"{API}/evaluator/report",
    guards=[requires(EVALUATE)],
    tags=["evaluator"],
    summary="Evaluation report",
)
async def report_api(request: Req, date_from: DayFrom = None, date_to: DayTo = None) -> ReportOut:
    """Evaluators: counts by status bucket per agency, category and sub-category,
    overdue counts, median times, ratings, reprimands and the trend, for messages
    submitted from ``from`` to ``to``, both days included (``YYYY-MM-DD``, local days;
    default the current year; 422 names each bad day)."""
    svc = service(request)
    rng = svc.parse_range(date_from, date_to)
    return report_json(await svc.report(context(request), rng))
