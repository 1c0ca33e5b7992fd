"""SOP deadlines: how many working days each stage of a message may take.

The original service says that when an agency has not acted within the time of
its standard operating procedure (SOP), the admin follows up and the evaluator
may reprimand. Each open status is one *stage* with its own clock:

=============  ==============  =====================================  ============
status         stage           who must act                           default days
=============  ==============  =====================================  ============
``submitted``  ``triage``      the admin forwards (or rejects)        3
``forwarded``  ``confirm``     the agency confirms                    2
``in_progress````reply``       the agency replies                     10
=============  ==============  =====================================  ============

A clock starts when its stage starts (re-forwarding to another agency starts the
confirm clock again; a progress update does not move the reply clock). The day a
stage starts does not count: a message received on Friday with three working
days to go is due at the end of Wednesday (with no holiday in between). Working
days skip Saturdays, Sundays, the country's public holidays (from the maintained
``holidays`` package) and the extra days off a super admin adds (cuti bersama,
local days off). Days are counted in the province's time zone.

Pure: no I/O. The services feed in the days off from the database.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import attrs

from .model import Action, Message, Status

#: Longest SOP a stage may have, in working days.
MAX_SOP_DAYS = 365
#: Saturday and Sunday (``date.weekday()``).
WEEKEND = frozenset({5, 6})


class Stage(StrEnum):
    """A stage of an open message, named after what is awaited."""

    TRIAGE = "triage"
    CONFIRM = "confirm"
    REPLY = "reply"


#: The stage of each open status; final statuses have none (and no deadline).
STAGE_OF_STATUS: Mapping[Status, Stage] = {
    Status.SUBMITTED: Stage.TRIAGE,
    Status.FORWARDED: Stage.CONFIRM,
    Status.IN_PROGRESS: Stage.REPLY,
}


def stage_of(status: Status) -> Stage | None:
    """The stage ``status`` is in, or None for a final status."""
    return STAGE_OF_STATUS.get(status)


@attrs.frozen
class SopDays:
    """Working days per stage. The default comes from the settings; a
    sub-category may override ``confirm`` and ``reply`` (``triage`` happens
    before the message has a sub-category)."""

    triage: int = 3
    confirm: int = 2
    reply: int = 10

    def __attrs_post_init__(self) -> None:
        for name in ("triage", "confirm", "reply"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"SOP days for {name} must be an int")
            if not 1 <= value <= MAX_SOP_DAYS:
                raise ValueError(f"SOP days for {name} must be between 1 and {MAX_SOP_DAYS}")

    def for_stage(self, stage: Stage) -> int:
        return int(getattr(self, stage.value))

    def with_overrides(self, confirm: int | None, reply: int | None) -> SopDays:
        """These days, with a sub-category's overrides where it has any."""
        return SopDays(
            triage=self.triage,
            confirm=self.confirm if confirm is None else confirm,
            reply=self.reply if reply is None else reply,
        )


@functools.lru_cache(maxsize=64)
def public_holidays(country: str, year: int, language: str | None = None) -> Mapping[date, str]:
    """The public holidays of ``country`` (ISO code, ``ID``) in ``year``, by date.

    From the ``holidays`` package (cached per process). An empty country code
    means no public holidays (only weekends and the extra days off count).
    ``language`` (``id``, ``en``) names them in that language where the package has
    it (Indonesia: Indonesian and US English), else in the package's default.
    """
    if not country:
        return {}
    import holidays  # imported lazily: it loads every country's calendar module

    chosen = None
    if language:
        supported = holidays.country_holidays(country).supported_languages
        for candidate in (language, f"{language}_US", f"{language}_{country}"):
            if candidate in supported:
                chosen = candidate
                break
    return dict(holidays.country_holidays(country, years=year, language=chosen).items())


@attrs.frozen
class WorkingCalendar:
    """Which days are working days, in one time zone.

    ``days_off`` are the extra days a super admin added; ``holidays`` returns a
    year's public holidays (default: :func:`public_holidays` for ``country``).
    """

    timezone: ZoneInfo
    country: str = "ID"
    days_off: frozenset[date] = frozenset()
    holidays: Callable[[str, int], Mapping[date, str]] = public_holidays

    def is_working_day(self, day: date) -> bool:
        if day.weekday() in WEEKEND or day in self.days_off:
            return False
        return day not in self.holidays(self.country, day.year)

    def local_date(self, moment: datetime) -> date:
        """The date of ``moment`` (timezone-aware) in the calendar's time zone."""
        return moment.astimezone(self.timezone).date()

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day strictly after ``day`` (``n`` ≥ 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        current = day
        counted = 0
        while counted < n:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return current

    def due_at(self, start: datetime, working_days: int) -> datetime:
        """When a stage started at ``start`` with ``working_days`` to go is due.

        The end of the last allowed working day in the calendar's time zone,
        returned as the (exclusive) UTC instant of the next midnight: the stage
        is overdue from that instant on.
        """
        last = self.nth_working_day_after(self.local_date(start), working_days)
        midnight = datetime.combine(last + timedelta(days=1), time(0), tzinfo=self.timezone)
        return midnight.astimezone(UTC)

    def due_date(self, due_at: datetime) -> date:
        """The last allowed day (local) of a deadline returned by :meth:`due_at`."""
        return (due_at.astimezone(self.timezone) - timedelta(microseconds=1)).date()

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def days_off_needed(self, start: datetime, working_days: int) -> tuple[date, date]:
        """A date window surely covering the deadline's search (for loading days off)."""
        first = self.local_date(start)
        # Generous: weekends, a month of holidays and a lot of extra days off.
        return first, first + timedelta(days=working_days * 2 + 60)


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    """Whether a deadline has passed (no deadline: never)."""
    return due_at is not None and now >= due_at


#: The actions that end an agency's stage: its confirmation (``start``) ends the
#: confirm stage, its reply ends the reply stage.
AGENCY_STAGE_ENDS: frozenset[Action] = frozenset({Action.START, Action.REPLY})
#: The actions that hand a message to an agency afresh (a new confirm stage, and
#: a new count of missed deadlines).
AGENCY_HANDLING_BEGINS: frozenset[Action] = frozenset({Action.FORWARD, Action.REFORWARD})


def sop_missed_after(message: Message, action: Action, now: datetime) -> bool:
    """Whether ``message`` has missed an agency deadline once ``action`` is taken
    on it at ``now`` (its ``sop_missed`` after the move).

    - A forward or re-forward starts the agency's handling: nothing missed yet
      (what another agency, or the same one before a return, missed is not
      counted against the handling that completes the message).
    - ``start`` and ``reply`` end an agency stage: missed if it ends at or after
      the stage's deadline (the message's current ``due_at``, which is exclusive:
      :func:`is_overdue`), or if an earlier stage of the handling was missed.
    - Every other move keeps what was missed. A progress update does not end the
      reply stage; a return hands the message back to the admin (the next forward
      starts afresh); a reopening by oversight keeps the earlier misses and starts
      a new reply clock, so the reply after it is judged by that new deadline.

    Pure; the transition (:func:`aspirasi_core.domain.workflow.transition`) stores
    the result with the move, so a report counts the completed messages kept
    within the SOP without recomputing any deadline.
    """
    if action in AGENCY_HANDLING_BEGINS:
        return False
    if action in AGENCY_STAGE_ENDS and is_overdue(message.due_at, now):
        return True
    return message.sop_missed


def check_sop_days(value: object, field: str) -> int | None:
    """Parse an optional per-sub-category SOP override: an int, or its digits
    spelled plainly (ASCII, no sign, space, ``_`` or leading zero: ``int()`` alone
    would take `` 7``, ``+7``, ``1_0`` and ``٧``); ``""`` or None → None. A form
    that forgives spaces trims them itself."""
    from .errors import Invalid

    if value is None or value == "":
        return None
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise Invalid.field(field, "bad_sop_days", _SOP_DAYS_MESSAGE, max=MAX_SOP_DAYS)
    if not 1 <= number <= MAX_SOP_DAYS:
        raise Invalid.field(field, "bad_sop_days", _SOP_DAYS_MESSAGE, max=MAX_SOP_DAYS)
    return number


_PLAIN_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_SOP_DAYS_MESSAGE = "Enter a number of working days between 1 and %(max)s, or leave it empty."


def merge_days_off(*groups: Iterable[date]) -> frozenset[date]:
    return frozenset(day for group in groups for day in group)
