"""The audit log (append-only; the retention sweep removes old entries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ...domain.audit import AuditEntry
from ...services.ports import AuditFilter, NewAuditEntry
from ..tables import accounts, audit_log, messages
from ._util import keyset

al = audit_log

_LIST = select(
    al,
    accounts.c.username.label("actor_username"),
    messages.c.ticket.label("message_ticket"),
).select_from(
    al.outerjoin(accounts, accounts.c.id == al.c.actor_id).outerjoin(
        messages, messages.c.id == al.c.subject_message_id
    )
)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        action=row.action,
        actor_id=row.actor_id,
        subject_account_id=row.subject_account_id,
        subject_message_id=row.subject_message_id,
        reason=row.reason,
        client_ip=row.client_ip,
        details={str(k): str(v) for k, v in dict(row.details or {}).items()},
        actor_username=row.actor_username,
        message_ticket=row.message_ticket,
    )


class SqlAuditRepository:
    """:class:`~aspirasi_core.services.ports.AuditRepository`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, entry: NewAuditEntry) -> int:
        values = {
            "at": entry.at,
            "action": entry.action,
            "actor_id": entry.actor_id,
            "subject_account_id": entry.subject_account_id,
            "subject_message_id": entry.subject_message_id,
            "reason": entry.reason,
            "client_ip": entry.client_ip,
            "details": dict(entry.details),
        }
        return int(self._conn.execute(insert(al).values(values).returning(al.c.id)).scalar_one())

    def list(self, flt: AuditFilter, *, before_id: int | None, limit: int) -> list[AuditEntry]:
        """Newest first; every filter is an equality on an indexed column or a
        range on ``at``."""
        stmt = _LIST
        for column, value in (
            (al.c.actor_id, flt.actor_id),
            (al.c.action, flt.action),
            (al.c.subject_account_id, flt.subject_account_id),
            (al.c.subject_message_id, flt.subject_message_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if flt.at_from is not None:
            stmt = stmt.where(al.c.at >= flt.at_from)
        if flt.at_to is not None:
            stmt = stmt.where(al.c.at < flt.at_to)
        return [_entry(row) for row in self._conn.execute(keyset(stmt, al.c.id, before_id, limit))]

    def delete_older_than(self, before: datetime, *, limit: int) -> int:
        """Remove up to ``limit`` entries written before ``before`` (oldest first,
        on the index on ``at``); returns how many."""
        doomed = select(al.c.id).where(al.c.at < before).order_by(al.c.at).limit(limit)
        ids = list(self._conn.execute(doomed).scalars())
        if not ids:
            return 0
        return int(self._conn.execute(delete(al).where(al.c.id.in_(ids))).rowcount)
