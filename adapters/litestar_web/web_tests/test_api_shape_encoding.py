"""The shapes carry real types (``datetime``, ``date``, the core's enums) so the
schema says ``date-time``, ``date`` and the statuses' values; the answers stay
the bytes SPEC.md fixes: instants in UTC ending in ``Z`` (as :func:`iso` writes
them), days ``YYYY-MM-DD``, statuses their codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import msgspec
import pytest
from litestar.serialization import encode_json

from aspirasi_core.domain.model import Status
from aspirasi_web.api.shapes import DayOffOut, Page, TrackedOut, TrackedStep, iso, utc

INSTANTS = [
    datetime(2026, 11, 2, 1, 0, 0),  # naive: taken as UTC
    datetime(2026, 11, 2, 1, 0, 0, 250000),
    datetime(2026, 11, 2, 1, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 2, 1, 0, 0, 7, tzinfo=UTC),
    datetime(2026, 11, 2, 8, 0, 0, tzinfo=timezone(timedelta(hours=7))),
    datetime(2026, 11, 2, 8, 0, 0, 123456, tzinfo=ZoneInfo("Asia/Jakarta")),
    datetime(2026, 1, 1, 0, 0, 0, tzinfo=ZoneInfo("UTC")),
]


@pytest.mark.parametrize("value", INSTANTS, ids=str)
def test_an_instant_is_encoded_as_iso_wrote_it(value: datetime) -> None:
    text = iso(value)
    assert text is not None and text.endswith("Z")
    expected = f'"{text}"'.encode()
    assert encode_json(utc(value)) == expected  # what Litestar sends
    assert msgspec.json.encode(utc(value)) == expected


def test_utc_keeps_the_instant_and_none() -> None:
    assert utc(None) is None and iso(None) is None
    for value in INSTANTS:
        out = utc(value)
        assert out.tzinfo is UTC
        assert out == (value if value.tzinfo else value.replace(tzinfo=UTC))


def test_a_shape_answers_the_same_strings() -> None:
    sent = datetime(2026, 11, 2, 8, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
    tracked = TrackedOut(
        id="ASP-1",
        ticket="ASP-1",
        subject=None,
        status=Status.IN_PROGRESS,
        created_at=utc(sent),
        due_at=None,
        log=[
            TrackedStep(at=utc(sent), from_status=None, to_status=Status.SUBMITTED),
            TrackedStep(
                at=utc(datetime(2026, 11, 3, 2, 0, 0, 5)),
                from_status=Status.SUBMITTED,
                to_status=Status.IN_PROGRESS,
            ),
        ],
    )
    day_off = DayOffOut(id=1, day=date(2026, 12, 24), name="Cuti", created_at=utc(sent))
    page = Page(items=[day_off], next_cursor=None)
    assert msgspec.json.decode(encode_json(tracked)) == {
        "id": "ASP-1",
        "ticket": "ASP-1",
        "subject": None,
        "status": "in_progress",
        "created_at": "2026-11-02T01:30:00Z",
        "due_at": None,
        "log": [
            {"at": "2026-11-02T01:30:00Z", "from_status": None, "to_status": "submitted"},
            {
                "at": "2026-11-03T02:00:00.000005Z",
                "from_status": "submitted",
                "to_status": "in_progress",
            },
        ],
    }
    assert msgspec.json.decode(encode_json(page)) == {
        "items": [
            {"id": 1, "day": "2026-12-24", "name": "Cuti", "created_at": "2026-11-02T01:30:00Z"}
        ],
        "next_cursor": None,
    }
