"""The audit log's port."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

import attrs

from ...domain.audit import AuditEntry


@attrs.frozen
class NewAuditEntry:
    """An audit entry to write (see :class:`~aspirasi_core.domain.audit.AuditEntry`)."""

    at: datetime
    action: str
    actor_id: int | None
    subject_account_id: int | None = None
    subject_message_id: int | None = None
    reason: str = ""
    client_ip: str | None = None
    details: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class AuditFilter:
    """Filters of the audit log (all optional, ANDed): who acted, what, on whom
    or which message, and when (``at_from`` inclusive, ``at_to`` exclusive)."""

    actor_id: int | None = None
    action: str | None = None
    subject_account_id: int | None = None
    subject_message_id: int | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None


class AuditRepository(Protocol):
    """The audit log: append-only, but for the retention sweep."""

    def add(self, entry: NewAuditEntry) -> int:
        """Write one entry in the current transaction; returns its id."""

    def list(
        self, flt: AuditFilter, *, before_id: int | None, limit: int
    ) -> builtins.list[AuditEntry]:
        """Entries matching ``flt``, newest first (keyset on the id), with the
        actor's username and the message's ticket filled in."""

    def delete_older_than(self, before: datetime, *, limit: int) -> int:
        """Remove up to ``limit`` entries written before ``before``, oldest first;
        returns how many."""
