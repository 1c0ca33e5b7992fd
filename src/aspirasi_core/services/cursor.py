"""Opaque cursors for keyset pagination (newest first, on the message id)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from ..domain.errors import Invalid

MAX_PAGE = 100
DEFAULT_PAGE = 20


def encode_cursor(before_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{before_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id to continue before, or None for the first page; bad input → Invalid."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        prefix, _, number = raw.partition(":")
        value = int(number)
    except (ValueError, UnicodeError, binascii.Error):
        value, prefix = 0, ""
    if prefix != "v1" or value <= 0 or value > 2**62:
        raise Invalid.field("cursor", "bad_cursor", "The page cursor is not valid.")
    return value


def encode_due_cursor(due_at: datetime, message_id: int) -> str:
    """A cursor for lists sorted by deadline: the last row's (deadline, id)."""
    micros = int(due_at.timestamp() * 1_000_000)
    return base64.urlsafe_b64encode(f"d1:{micros}:{message_id}".encode()).decode().rstrip("=")


def decode_due_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (deadline, id) to continue after, or None; bad input → Invalid."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        prefix, micros, number = raw.split(":")
        value = int(number)
        due = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
    except (ValueError, UnicodeError, binascii.Error, OverflowError, OSError):
        prefix, value, due = "", 0, datetime.min.replace(tzinfo=UTC)
    if prefix != "d1" or value <= 0 or value > 2**62:
        raise Invalid.field("cursor", "bad_cursor", "The page cursor is not valid.")
    return due, value


def page_size(limit: int | None) -> int:
    """Clamp a requested page size to 1..MAX_PAGE."""
    if limit is None:
        return DEFAULT_PAGE
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise Invalid.field(
            "limit", "bad_limit", "The page size must be between 1 and %(max)s.", max=MAX_PAGE
        )
    return min(limit, MAX_PAGE)
