"""The outbox's port (side effects delivered after the commit) and the daily
mail quota per address.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import attrs


@attrs.frozen
class OutboxItem:
    """A side effect waiting to be delivered (an e-mail, a webhook call)."""

    id: int
    topic: str
    payload: Mapping[str, Any] = attrs.field(repr=False)
    attempts: int
    status: str  # pending | sending | done | dead
    created_at: datetime
    available_at: datetime
    last_error: str | None = None


class OutboxRepository(Protocol):
    def add(self, topic: str, payload: Mapping[str, Any], *, created_at: datetime) -> int:
        """Queue a side effect in the current transaction; returns its id."""

    def claim(self, now: datetime, *, limit: int, lease_seconds: int) -> builtins.list[OutboxItem]:
        """Take up to ``limit`` due items for this worker (safe with several workers:
        ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite)."""

    def complete(self, item_id: int, now: datetime) -> None: ...

    def fail(self, item_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Record a failure; ``retry_at`` None moves the item to the dead letters."""

    def list(
        self,
        *,
        status: str | None = None,
        limit: int = 100,
        topic: str | None = None,
        error: str | None = None,
    ) -> builtins.list[OutboxItem]:
        """Oldest first; ``error`` matches part of the last error (any case)."""

    def count(
        self, *, status: str | None = None, topic: str | None = None, error: str | None = None
    ) -> int:
        """How many items :meth:`list` would show without a limit."""

    def totals(self) -> dict[str, int]:
        """Items per status."""

    def retry(self, item_id: int, now: datetime) -> bool:
        """Put a dead item back in the queue."""

    def retry_dead(
        self,
        now: datetime,
        *,
        ids: Sequence[int] | None = None,
        topic: str | None = None,
        error: str | None = None,
    ) -> int:
        """Put the dead letters of ``ids`` (or every one matching ``topic`` and
        ``error``) back in the queue, in one statement; returns how many."""

    def drop_addressed_to(self, address: str) -> int:
        """Delete the items not yet sent (pending or dead) whose payload's ``to``
        is ``address`` (case-insensitive); returns how many."""


class MailQuotaRepository(Protocol):
    """Mails sent per address per day (the address as a keyed hash)."""

    def take(self, address_key: bytes, day: date, limit: int) -> bool:
        """Count one more mail to the address on ``day`` unless ``limit`` were sent
        already; whether it was counted. Atomic against concurrent callers."""

    def forget_before(self, day: date) -> int:
        """Drop the counts of days before ``day``; how many rows."""
