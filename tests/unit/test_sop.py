"""SOP deadlines: working days skip weekends, public holidays and extra days off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.model import Action, Message, Status
from aspirasi_core.domain.sop import (
    SopDays,
    Stage,
    WorkingCalendar,
    check_sop_days,
    is_overdue,
    public_holidays,
    sop_missed_after,
    stage_of,
)

WITA = ZoneInfo("Asia/Makassar")


def no_holidays(country: str, year: int) -> dict[date, str]:
    return {}


def cal(days_off: frozenset[date] = frozenset(), **kw: object) -> WorkingCalendar:
    return WorkingCalendar(timezone=WITA, days_off=days_off, **kw)  # type: ignore[arg-type]


def wita(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, tzinfo=WITA)


def test_stages_of_the_open_statuses_and_none_for_final_ones() -> None:
    assert stage_of(Status.SUBMITTED) is Stage.TRIAGE
    assert stage_of(Status.FORWARDED) is Stage.CONFIRM
    assert stage_of(Status.IN_PROGRESS) is Stage.REPLY
    for final in (Status.DONE, Status.REJECTED, Status.WITHDRAWN):
        assert stage_of(final) is None


def test_three_working_days_from_a_monday_end_on_thursday_night_local() -> None:
    # Monday 2 Nov 2026, 09:00 WITA: Tue, Wed, Thu count; due at Fri 00:00 WITA.
    due = cal(holidays=no_holidays).due_at(wita(2026, 11, 2), 3)
    assert due == datetime(2026, 11, 6, 0, 0, tzinfo=WITA)
    assert due.tzinfo is UTC
    assert cal().due_date(due) == date(2026, 11, 5)


def test_a_weekend_is_skipped() -> None:
    # Friday 6 Nov: Mon 9, Tue 10 → due end of Tuesday.
    calendar = cal(holidays=no_holidays)
    assert calendar.due_date(calendar.due_at(wita(2026, 11, 6), 2)) == date(2026, 11, 10)
    # Received on Saturday: the count starts Monday.
    assert calendar.due_date(calendar.due_at(wita(2026, 11, 7), 1)) == date(2026, 11, 9)


def test_indonesian_public_holidays_are_skipped() -> None:
    # 17 Aug 2026 (Monday) is Independence Day: from Friday 14 Aug, 1 day → Tue 18.
    calendar = cal()
    assert date(2026, 8, 17) in public_holidays("ID", 2026)
    assert calendar.due_date(calendar.due_at(wita(2026, 8, 14), 1)) == date(2026, 8, 18)
    # Christmas 2026 is a Friday: from Thursday 24 Dec, 1 day → Monday 28 Dec.
    assert calendar.due_date(calendar.due_at(wita(2026, 12, 24), 1)) == date(2026, 12, 28)


def test_extra_days_off_are_skipped() -> None:
    calendar = cal(frozenset({date(2026, 11, 3)}), holidays=no_holidays)
    assert calendar.due_date(calendar.due_at(wita(2026, 11, 2), 1)) == date(2026, 11, 4)


def test_days_are_counted_in_the_province_time_zone() -> None:
    # 16:30 UTC on Friday is already Saturday 00:30 in WITA (UTC+8).
    start = datetime(2026, 11, 6, 16, 30, tzinfo=UTC)
    calendar = cal(holidays=no_holidays)
    assert calendar.local_date(start) == date(2026, 11, 7)
    assert calendar.due_date(calendar.due_at(start, 1)) == date(2026, 11, 9)
    jakarta = WorkingCalendar(timezone=ZoneInfo("Asia/Jakarta"), holidays=no_holidays)
    assert jakarta.due_at(start, 1) == datetime(2026, 11, 10, 0, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def test_overdue_from_the_due_instant_on() -> None:
    due = datetime(2026, 11, 5, 16, 0, tzinfo=UTC)
    assert not is_overdue(due, due - timedelta(microseconds=1))
    assert is_overdue(due, due)
    assert not is_overdue(None, due)


def test_sop_days_are_checked_and_overridden() -> None:
    days = SopDays(3, 2, 10)
    assert days.with_overrides(None, 20) == SopDays(3, 2, 20)
    assert days.for_stage(Stage.REPLY) == 10
    with pytest.raises(ValueError):
        SopDays(0, 2, 10)
    with pytest.raises(TypeError):
        SopDays(True, 2, 10)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    ["0", "366", "abc", "1.5", True, -3, " 7 ", "07", "+7", "1_0", "\u0667", "\uff17", "  ", 7.0],
)
def test_bad_sop_overrides_are_refused(value: object) -> None:
    with pytest.raises(Invalid) as caught:
        check_sop_days(value, "sop_reply_days")
    assert caught.value.errors[0].field == "sop_reply_days"


@pytest.mark.parametrize(
    ("value", "expected"), [("", None), (None, None), ("7", 7), ("365", 365), (365, 365)]
)
def test_good_sop_overrides(value: object, expected: int | None) -> None:
    assert check_sop_days(value, "f") == expected


@given(
    start=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    n=st.integers(min_value=1, max_value=40),
    off=st.sets(st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 6, 30)), max_size=20),
)
def test_the_deadline_is_exactly_n_working_days_later(
    start: datetime, n: int, off: set[date]
) -> None:
    calendar = cal(frozenset(off))
    due = calendar.due_at(start, n)
    last = calendar.due_date(due)
    first = calendar.local_date(start)
    # The last day is a working day, and exactly n working days lie in (first, last].
    assert calendar.is_working_day(last)
    assert calendar.working_days_between(first, last) == n
    # Counted by brute force too: no weekend, holiday or day off is among them.
    counted = [
        first + timedelta(days=i)
        for i in range(1, (last - first).days + 1)
        if (first + timedelta(days=i)).weekday() < 5
        and first + timedelta(days=i) not in off
        and first + timedelta(days=i) not in public_holidays("ID", (first + timedelta(days=i)).year)
    ]
    assert len(counted) == n
    assert counted[-1] == last


# -- a missed deadline, recorded by the move that ends the stage ------------------------

DUE = datetime(2026, 11, 5, 16, 0, tzinfo=UTC)  # the end of Thursday 5 Nov, WITA


def message(status: Status, *, due_at: datetime | None = DUE, missed: bool = False) -> Message:
    t0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    return Message(
        id=1,
        ticket="T-1",
        author_id=1,
        subject="s",
        body="b",
        status=status,
        confidential=False,
        anonymous=False,
        created_at=t0,
        updated_at=t0,
        agency_id=1,
        due_at=due_at,
        sop_missed=missed,
    )


@pytest.mark.parametrize(
    ("status", "action"), [(Status.FORWARDED, Action.START), (Status.IN_PROGRESS, Action.REPLY)]
)
def test_an_agency_stage_ending_at_or_after_its_deadline_is_missed(
    status: Status, action: Action
) -> None:
    before = DUE - timedelta(microseconds=1)
    assert sop_missed_after(message(status), action, before) is False
    assert sop_missed_after(message(status), action, DUE) is True  # the deadline is exclusive
    assert sop_missed_after(message(status), action, DUE + timedelta(days=9)) is True
    # A miss of the confirm stage stays through an on-time reply.
    assert sop_missed_after(message(status, missed=True), action, before) is True
    # No deadline (a message from before the SOP clock): nothing to miss.
    assert sop_missed_after(message(status, due_at=None), action, DUE) is False


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.IN_PROGRESS, Action.PROGRESS),  # does not end the reply stage
        (Status.FORWARDED, Action.RETURN),  # back to the admin: the next forward decides
        (Status.IN_PROGRESS, Action.RETURN),
        (Status.DONE, Action.REOPEN),  # oversight: the earlier misses stay
        (Status.SUBMITTED, Action.REJECT),
    ],
)
def test_other_moves_keep_what_was_missed(status: Status, action: Action) -> None:
    late = DUE + timedelta(days=3)
    assert sop_missed_after(message(status), action, late) is False
    assert sop_missed_after(message(status, missed=True), action, late) is True


@pytest.mark.parametrize("action", [Action.FORWARD, Action.REFORWARD])
def test_a_forward_starts_the_agency_handling_afresh(action: Action) -> None:
    late = DUE + timedelta(days=3)
    assert sop_missed_after(message(Status.SUBMITTED, missed=True), action, late) is False
    assert sop_missed_after(message(Status.FORWARDED, missed=True), action, late) is False
