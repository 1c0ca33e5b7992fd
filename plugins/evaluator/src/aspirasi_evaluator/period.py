"""The report's date range (local days in the province's time zone) and the
periods of its trend chart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from aspirasi_core.domain.errors import FieldError, Invalid

#: The longest range the report accepts, in years.
MAX_YEARS = 5
#: The years a date of the report may fall in (further out the local-time and
#: calendar arithmetic would overflow, and no message exists there anyway).
MIN_YEAR = 2000
MAX_YEAR = 2100
#: Ranges up to this many days are charted per week, longer ones per month.
WEEKLY_UP_TO_DAYS = 92

_DAY = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def local_midnight(day: date, tz: str) -> datetime:
    """The start of a local day, in UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


@attrs.frozen
class DateRange:
    """Local days ``[start_day, end_day)`` and the UTC instants they span.

    People name a range by its first and last day (``from``, ``to``, both
    included: :attr:`last_day`); ``end_day`` is the day after."""

    start_day: date
    end_day: date
    timezone: str

    @property
    def start(self) -> datetime:
        return local_midnight(self.start_day, self.timezone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.end_day, self.timezone)

    @property
    def last_day(self) -> date:
        """The last day the range includes (what ``to`` names)."""
        return self.end_day - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end_day - self.start_day).days

    def query(self) -> dict[str, str]:
        """``from`` and ``to`` (inclusive) as the pages' and the API's query string."""
        return {"from": self.start_day.isoformat(), "to": self.last_day.isoformat()}

    @classmethod
    def default(cls, now: datetime, tz: str) -> DateRange:
        """The current year (in the province's time zone)."""
        year = now.astimezone(ZoneInfo(tz)).year
        return cls(date(year, 1, 1), date(year + 1, 1, 1), tz)

    @classmethod
    def parse(
        cls, raw_from: str | None, raw_to: str | None, *, now: datetime, tz: str
    ) -> DateRange:
        """Read ``from`` and ``to``, the first and the last day the range includes
        (exactly ``YYYY-MM-DD``, no spaces, years :data:`MIN_YEAR` to
        :data:`MAX_YEAR`; empty is the same as absent); raise :class:`Invalid`
        with every field's problem.

        Neither given: the current year. Only ``to``: ``from`` is the current
        year's start. Only ``from``: until the day before one year later, but at
        most today (local), unless that is before ``from``."""
        default = cls.default(now, tz)
        errors: list[FieldError] = []
        days: dict[str, date] = {"from": default.start_day, "to": default.last_day}
        given: set[str] = set()
        for name, raw in (("from", raw_from), ("to", raw_to)):
            if raw is None or raw == "":
                continue
            value = raw  # exactly YYYY-MM-DD: " 2026-01-01" is refused, not trimmed
            try:
                if not _DAY.match(value):
                    raise ValueError(value)
                day = date.fromisoformat(value)
            except ValueError:
                errors.append(FieldError(name, "date_format", "Use the date format YYYY-MM-DD."))
                continue
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                errors.append(
                    FieldError(
                        name,
                        "date_out_of_range",
                        "Choose a date in the years %(min)s to %(max)s.",
                        {"min": MIN_YEAR, "max": MAX_YEAR},
                    )
                )
                continue
            days[name] = day
            given.add(name)
        if not errors and given == {"from"}:
            start = days["from"]
            today = now.astimezone(ZoneInfo(tz)).date()
            end = min(_add_years(start, 1), today + timedelta(days=1))
            days["to"] = (end if end > start else _add_years(start, 1)) - timedelta(days=1)
        if not errors:
            if days["to"] < days["from"]:
                errors.append(
                    FieldError(
                        "to", "range_order", "The end date must not be before the start date."
                    )
                )
            elif days["to"] >= _add_years(days["from"], MAX_YEARS):
                errors.append(
                    FieldError(
                        "to",
                        "range_too_long",
                        "The range may span at most %(years)s years.",
                        {"years": MAX_YEARS},
                    )
                )
        if errors:
            raise Invalid(errors=errors, code="invalid_range")
        return cls(days["from"], days["to"] + timedelta(days=1), tz)

    @classmethod
    def presets(cls, now: datetime, tz: str) -> dict[str, DateRange]:
        """The ranges a person picks most (local): ``this_month``, ``last_month``
        and ``this_year``, each whole (up to its last day, even in the future)."""
        today = now.astimezone(ZoneInfo(tz)).date()
        month = today.replace(day=1)
        next_month = (month + timedelta(days=32)).replace(day=1)
        last_month = (month - timedelta(days=1)).replace(day=1)
        return {
            "this_month": cls(month, next_month, tz),
            "last_month": cls(last_month, month, tz),
            "this_year": cls.default(now, tz),
        }


def trend_bounds(rng: DateRange) -> tuple[str, list[tuple[date, date]]]:
    """The periods of the chart: weeks from the first day (the last one maybe
    shorter) for short ranges, calendar months (cut to the range) otherwise."""
    periods: list[tuple[date, date]] = []
    if rng.days <= WEEKLY_UP_TO_DAYS:
        day = rng.start_day
        while day < rng.end_day:
            nxt = min(day + timedelta(days=7), rng.end_day)
            periods.append((day, nxt))
            day = nxt
        return "week", periods
    day = rng.start_day
    while day < rng.end_day:
        first_next = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        nxt = min(first_next, rng.end_day)
        periods.append((day, nxt))
        day = nxt
    return "month", periods
