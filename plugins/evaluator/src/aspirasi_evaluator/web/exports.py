"""The exports: the report's tables and a drill-down list as CSV or XLSX
(``/evaluator/report.csv``, ``.xlsx``, ``/evaluator/messages.csv``, ``.xlsx``)."""

from __future__ import annotations

from datetime import timedelta

from litestar import Response, get

from aspirasi_web.context import context, translator
from aspirasi_web.guards import requires
from aspirasi_web.i18n import Translator

from .. import EVALUATE
from ..drill import EXPORT_MAX_ROWS, DrillRow
from ..export import FORMATS, Sheet, content_disposition
from ..figures import STATUS_BUCKETS
from ..period import DateRange
from ..report import Report
from .common import Req, buckets, hours, query_values, service
from .messages import drill_filter
from .report import agency_name, category_name, subcategory_name

#: A deadline instant minus this is its last allowed moment.
_INSTANT = timedelta(microseconds=1)


def report_sheets(t: Translator, report: Report) -> list[Sheet]:
    labels = buckets(t)
    status_header = [labels[s] for s in STATUS_BUCKETS]
    agency_rows = [
        [
            agency_name(t, r),
            *(r.count(s) for s in STATUS_BUCKETS),
            r.total,
            r.overdue,
            hours(r.confirm),
            r.confirm.count,
            hours(r.close),
            r.close.count,
            round(r.rating_average, 2) if r.rating_average is not None else None,
            r.rating_count,
            r.reprimands,
            r.within_sop,
        ]
        for r in (*report.agencies, report.total)
    ]
    agency_rows[-1][0] = t("Total")
    agencies: Sheet = (
        t("Agencies"),
        [
            t("Agency"),
            *status_header,
            t("Total"),
            t("Overdue"),
            t("Median time to confirm (hours)"),
            t("Confirmed"),
            t("Median time to close (hours)"),
            t("Closed"),
            t("Average rating"),
            t("Ratings"),
            t("Reprimands"),
            t("Completed within the SOP (count)"),
        ],
        agency_rows,
    )
    cats: Sheet = (
        t("Categories"),
        [t("Category"), *status_header, t("Total"), t("Overdue")],
        [
            [category_name(t, r), *(r.count(s) for s in STATUS_BUCKETS), r.total, r.overdue]
            for r in report.categories
        ],
    )
    subs: Sheet = (
        t("Sub-categories"),
        [t("Category"), t("Sub-category"), *status_header, t("Total"), t("Overdue")],
        [
            [
                r.parent_name if r.parent_name is not None else t("Not classified"),
                subcategory_name(t, r),
                *(r.count(s) for s in STATUS_BUCKETS),
                r.total,
                r.overdue,
            ]
            for r in report.subcategories
        ],
    )
    trend: Sheet = (
        t("Trend"),
        [t("From"), t("Until"), t("Submitted"), t("Closed")],
        [
            [t.date(p.start_day), t.date(p.last_day), p.submitted, p.closed]
            for p in report.trend.points
        ],
    )
    return [agencies, cats, subs, trend]


def drill_sheet(t: Translator, rows: list[DrillRow]) -> Sheet:
    """The drill-down rows; dates in the pages' short style, the SOP deadline as its last
    allowed day (the deadline instant is the start of the day after)."""
    labels = buckets(t)
    return (
        t("Messages"),
        [
            t("Ticket"),
            t("Received"),
            t("Subject"),
            t("Status"),
            t("Agency"),
            t("Category"),
            t("Sub-category"),
            t("SOP deadline"),
            t("Overdue"),
        ],
        [
            [
                r.ticket,
                t.datetime(r.created_at, "short"),
                r.subject,
                labels.get(r.status, r.status),
                r.agency_name or "",
                r.category_name or "",
                r.subcategory_name or "",
                t.date(r.due_at - _INSTANT) if r.due_at else "",
                t("Yes") if r.overdue else t("No"),
            ]
            for r in rows
        ],
    )


def _download(kind: str, sheets: list[Sheet], filename: str) -> Response[bytes]:
    media_type, build = FORMATS[kind]
    return Response(
        content=build(sheets),
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _range_name(rng: DateRange) -> str:
    return f"{rng.start_day.isoformat()}_{rng.last_day.isoformat()}"


@get("/evaluator/report.csv", guards=[requires(EVALUATE)], include_in_schema=False)
async def report_csv(request: Req) -> Response[bytes]:
    return await _report_export(request, "csv")


@get("/evaluator/report.xlsx", guards=[requires(EVALUATE)], include_in_schema=False)
async def report_xlsx(request: Req) -> Response[bytes]:
    return await _report_export(request, "xlsx")


async def _report_export(request: Req, kind: str) -> Response[bytes]:
    svc = service(request)
    q = query_values(request)
    rng = svc.parse_range(q["from"], q["to"])
    report = await svc.report(context(request), rng)
    sheets = report_sheets(translator(request), report)
    return _download(kind, sheets, f"evaluasi-{_range_name(rng)}.{kind}")


@get("/evaluator/messages.csv", guards=[requires(EVALUATE)], include_in_schema=False)
async def messages_csv(request: Req) -> Response[bytes]:
    return await _messages_export(request, "csv")


@get("/evaluator/messages.xlsx", guards=[requires(EVALUATE)], include_in_schema=False)
async def messages_xlsx(request: Req) -> Response[bytes]:
    return await _messages_export(request, "xlsx")


async def _messages_export(request: Req, kind: str) -> Response[bytes]:
    flt = await drill_filter(request)
    rows = await service(request).drill_all(context(request), flt, EXPORT_MAX_ROWS)
    sheet = drill_sheet(translator(request), rows)
    return _download(kind, [sheet], f"evaluasi-pesan-{_range_name(flt.range)}.{kind}")
