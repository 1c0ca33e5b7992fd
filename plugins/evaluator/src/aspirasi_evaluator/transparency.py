"""The public scorecard (``/transparansi``): per agency, what the evaluator's report
says about it, for everyone, as open data.

Nothing is counted here: the figures are the evaluator's report
(:func:`aspirasi_evaluator.report.build_report`, the same queries), for one
calendar year, reduced to aggregates that are safe to publish. Per agency:

- ``received``: messages submitted in the year (withdrawn ones left out);
  anonymous and confidential messages are counted, never named;
- ``completed`` and ``completed_within_sop``, and their ratio
  ``share_completed_within_sop`` (None without completed messages);
- ``median_hours_to_confirm`` and ``median_hours_to_close`` (None without any);
- ``rating_average`` (None without ratings) and ``ratings``;
- ``reprimands``: reprimands (teguran) the evaluator issued to it in the year.

No ticket, subject, text, person, date of a single message or place leaves the
plugin through it; the trend has the messages submitted and closed per month.
The open data carry the licence of ``ASPIRASI_OPEN_DATA_LICENCE``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .period import DateRange
from .report import Report, Row
from .timings import Median

#: The columns of the CSV download, in order (the JSON's agency keys).
COLUMNS: tuple[str, ...] = (
    "agency_code",
    "agency_name",
    "received",
    "completed",
    "completed_within_sop",
    "share_completed_within_sop",
    "median_hours_to_confirm",
    "median_hours_to_close",
    "rating_average",
    "ratings",
    "reprimands",
)
#: The earliest year the page offers.
FIRST_YEAR = 2000


def year_range(year: int, tz: str) -> DateRange:
    """The calendar year ``year`` in the province's time zone."""
    return DateRange(date(year, 1, 1), date(year + 1, 1, 1), tz)


def _hours(median: Median) -> float | None:
    return None if median.seconds is None else round(median.seconds / 3600, 2)


def agency_figures(row: Row) -> dict[str, Any]:
    """One agency's public figures (the keys of :data:`COLUMNS`)."""
    share = row.within_sop_share
    return {
        "agency_code": row.code,
        "agency_name": row.name,
        "received": row.total,
        "completed": row.count("done"),
        "completed_within_sop": row.within_sop or 0,
        "share_completed_within_sop": None if share is None else round(share, 4),
        "median_hours_to_confirm": _hours(row.confirm),
        "median_hours_to_close": _hours(row.close),
        "rating_average": (None if row.rating_average is None else round(row.rating_average, 2)),
        "ratings": row.rating_count,
        "reprimands": row.reprimands,
    }


def scorecard(report: Report, *, licence: str, generated_at: datetime) -> dict[str, Any]:
    """The open data of one year's report: agencies (every agency the report
    lists, by name), the total over every message, the monthly trend."""
    rng = report.range
    agencies = [agency_figures(r) for r in report.agencies if r.key is not None]
    total = agency_figures(report.total)
    del total["agency_code"], total["agency_name"]
    return {
        "licence": licence,
        "year": rng.start_day.year,
        **rng.query(),
        "timezone": rng.timezone,
        "generated_at": generated_at.isoformat(),
        "columns": list(COLUMNS),
        "agencies": agencies,
        "total": total,
        "trend": [
            {
                "month": p.start_day.strftime("%Y-%m"),
                "submitted": p.submitted,
                "closed": p.closed,
            }
            for p in report.trend.points
        ],
    }


def ranking(agencies: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The agencies with completed messages, best first (the largest share within
    the SOP, then the most completed, then by name), and the others (received
    messages but completed none yet, or received none)."""
    ranked = [a for a in agencies if a["completed"]]
    ranked.sort(
        key=lambda a: (-a["share_completed_within_sop"], -a["completed"], a["agency_name"] or "")
    )
    rest = [a for a in agencies if not a["completed"]]
    rest.sort(key=lambda a: (-a["received"], a["agency_name"] or ""))
    return ranked, rest


def csv_rows(data: dict[str, Any]) -> list[list[Any]]:
    """The agencies' rows of the CSV download (the header is :data:`COLUMNS`)."""
    return [[a[c] for c in COLUMNS] for a in data["agencies"]]
