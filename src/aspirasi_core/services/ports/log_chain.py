"""The port of the tamper-evident record (hash-chained logs and daily roots) and
its values; ``aspirasi_core.storage.repositories.log_chain`` implements it. The
chain itself is written by ``MessageRepository.add_log`` (and ``add`` with its
first entry), the one place log entries are written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

import attrs

from ...domain.log_chain import ChainLink


@attrs.frozen
class StoredChain:
    """One message's log as stored, for verifying: ``(entry id, content, stored
    hash)`` in id order."""

    message_id: int
    ticket: str
    entries: tuple[tuple[int, ChainLink, Any], ...]


@attrs.frozen
class LogRoot:
    """The root of one day over the chains that grew that day."""

    day: date
    root: str
    prev_root: str
    #: How many chains grew that day.
    chains: int
    created_at: datetime


@attrs.frozen
class FoundEntry:
    """A log entry found by its hash, with what the public may learn of it."""

    ticket: str
    at: datetime
    action: str
    seq: int
    #: The message is confidential or anonymous: only "valid" may be said.
    restricted: bool


class LogChainRepository(Protocol):
    def chains(self, *, after_message_id: int, limit: int) -> list[StoredChain]:
        """The logs of the next ``limit`` messages by id after ``after_message_id``
        (every message, with or without entries), read as stored (a damaged value
        comes back as it is, not as an error)."""

    def day_heads(self, start: datetime, end: datetime) -> list[tuple[str, Any, Any]]:
        """``(ticket, seq, entry hash)`` of the entries with ``start <= at < end``."""

    def first_entry_at(self) -> datetime | None:
        """The time of the oldest log entry (None: no entry)."""

    def last_root(self) -> LogRoot | None: ...

    def roots(self, *, after: date | None, limit: int) -> list[LogRoot]:
        """Oldest first, the days after ``after``."""

    def recent_roots(self, limit: int) -> list[LogRoot]:
        """Newest first."""

    def add_root(self, root: LogRoot) -> bool:
        """Insert unless the day has one (another worker sealed it): whether inserted."""

    def find(self, entry_hash: str) -> FoundEntry | None:
        """The entry whose stored hash is ``entry_hash``."""

    def entry_hashes(self, message_id: int, actions: Sequence[str]) -> list[str]:
        """The hashes of the message's entries of these actions, oldest first."""
