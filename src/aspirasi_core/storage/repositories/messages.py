"""Messages: one message and its SOP clock; its attachments, history and the
lists are in :mod:`.message_attachments`, :mod:`.message_history` and
:mod:`.message_reads`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Connection, select, update

from ...domain.errors import Conflict
from ...domain.model import LogEntry, Message, Status
from ...domain.pii import public_copy
from ...services.ports import NewMessage
from .log_chain import first_chain_values
from .message_history import MessageHistoryRows
from .message_reads import MessageListReads
from .message_rows import (
    BY_TICKET,
    CHUNK,
    GET_MESSAGE,
    GET_MESSAGE_FOR_UPDATE,
    MESSAGE_ATTACHMENTS,
    OPEN_STATUSES,
    attachment_from_row,
    insert_message_statement,
    insert_message_with_log_statement,
    log_values,
    m,
    message_from_row,
)


class SqlMessageRepository(MessageHistoryRows, MessageListReads):
    """:class:`~aspirasi_core.services.ports.MessageRepository`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # ------------------------------------------------------------------ one message
    def add(self, new: NewMessage, *, first_log: LogEntry | None = None) -> Message:
        """Insert; raises ``Conflict`` (code ``duplicate_ticket``) on a ticket collision.

        ``first_log``: a log entry inserted with it (its ``message_id`` is ignored);
        on PostgreSQL in the same statement. Nothing is written on a collision."""
        values = {
            "ticket": new.ticket,
            "author_id": new.author_id,
            "subject": new.subject,
            "body": new.body,
            "status": str(new.status),
            "confidential": new.confidential,
            "anonymous": new.anonymous,
            "created_at": new.created_at,
            "updated_at": new.created_at,
            "stage_started_at": new.created_at,
            "due_at": new.due_at,
            # what the public sees, with personal data masked (NULL: nothing to mask)
            "subject_public": public_copy(new.subject),
            "body_public": public_copy(new.body),
            "regency_code": new.regency_code,
            "district_code": new.district_code,
            "latitude": new.latitude,
            "longitude": new.longitude,
        }

        dialect = self._conn.dialect.name
        if first_log is not None and dialect == "postgresql":
            entry = log_values(first_log)
            entry.update(first_chain_values(new.ticket, entry))
            for key, value in entry.items():
                if key != "message_id":
                    values[f"log_{key}"] = value
            rows = self._conn.execute(insert_message_with_log_statement(), values).all()
        else:
            rows = self._conn.execute(insert_message_statement(dialect), values).all()
        if not rows:
            raise Conflict(
                "The ticket %(ticket)s is already taken.",
                code="duplicate_ticket",
                params={"ticket": new.ticket},
            )
        if first_log is not None and dialect != "postgresql":
            self.add_log(attrs.evolve(first_log, message_id=rows[0].id))
        return Message(
            id=rows[0].id,
            ticket=new.ticket,
            author_id=new.author_id,
            subject=new.subject,
            body=new.body,
            status=Status(new.status),
            confidential=new.confidential,
            anonymous=new.anonymous,
            created_at=new.created_at,
            updated_at=new.created_at,
            stage_started_at=new.created_at,
            due_at=new.due_at,
            regency_code=new.regency_code,
            district_code=new.district_code,
            latitude=new.latitude,
            longitude=new.longitude,
        )

    def get(self, message_id: int, *, for_update: bool = False) -> Message | None:
        """With its attachments of kind ``message``. ``for_update``: lock the row
        until the transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL, where a
        concurrent change waits for this transaction and then reads its result; on
        SQLite the write transaction already holds the whole database)."""
        stmt = GET_MESSAGE_FOR_UPDATE if for_update else GET_MESSAGE
        row = self._conn.execute(stmt, {"id": message_id}).first()
        return self._with_attachments(row) if row else None

    def get_by_ticket(self, ticket: str) -> Message | None:
        """With its attachments of kind ``message``, like :meth:`get`."""
        row = self._conn.execute(BY_TICKET, {"ticket": ticket}).first()
        return self._with_attachments(row) if row else None

    def get_many(self, message_ids: Sequence[int]) -> list[Message]:
        """The messages with these ids that exist (without attachments)."""
        ids = list(dict.fromkeys(message_ids))
        found: list[Message] = []
        for start in range(0, len(ids), CHUNK):
            stmt = select(m).where(m.c.id.in_(ids[start : start + CHUNK]))
            found.extend(message_from_row(row) for row in self._conn.execute(stmt))
        return found

    def _with_attachments(self, row: Any) -> Message:
        found = self._conn.execute(MESSAGE_ATTACHMENTS, {"message_id": row.id})
        return message_from_row(row, tuple(attachment_from_row(r) for r in found))

    def save_transition(self, message: Message, expected_version: int) -> bool:
        """Compare-and-set: write status, classification, ``updated_at``, the SOP
        clock, the milestones, ``sop_missed`` and ``version`` only if the stored version is still
        ``expected_version``. False when it changed. A new deadline clears the
        overdue notice of the previous one."""
        values: dict[str, Any] = {
            "status": str(message.status),
            "category_id": message.category_id,
            "subcategory_id": message.subcategory_id,
            "agency_id": message.agency_id,
            "updated_at": message.updated_at,
            "stage_started_at": message.stage_started_at,
            "due_at": message.due_at,
            "forwarded_at": message.forwarded_at,
            "started_at": message.started_at,
            "closed_at": message.closed_at,
            "sop_missed": message.sop_missed,
            "version": message.version,
        }
        stmt = update(m).where(m.c.id == message.id, m.c.version == expected_version)
        current = self._conn.execute(
            select(m.c.due_at, m.c.stage_started_at).where(m.c.id == message.id)
        ).first()
        if current is None or (current.due_at, current.stage_started_at) != (
            message.due_at,
            message.stage_started_at,
        ):
            values["overdue_notified_at"] = None
        stmt = stmt.values(**values)
        return self._conn.execute(stmt).rowcount == 1

    def bump_version(self, message_id: int, expected_version: int) -> bool:
        """Count a change that is not a transition (the rating): ``version`` becomes
        ``expected_version + 1`` if it still is ``expected_version``; whether it was."""
        stmt = (
            update(m)
            .where(m.c.id == message_id, m.c.version == expected_version)
            .values(version=expected_version + 1)
        )
        return self._conn.execute(stmt).rowcount == 1

    # ------------------------------------------------------------------ SOP clock
    def newly_overdue(self, now: datetime, *, limit: int) -> list[Message]:
        stmt = (
            select(m)
            .where(m.c.overdue_notified_at.is_(None), m.c.due_at <= now)
            .order_by(m.c.due_at, m.c.id)
            .limit(limit)
        )
        return [message_from_row(row) for row in self._conn.execute(stmt)]

    def mark_overdue_notified(self, message_id: int, due_at: datetime, now: datetime) -> bool:
        stmt = (
            update(m)
            .where(
                m.c.id == message_id,
                m.c.due_at == due_at,
                m.c.overdue_notified_at.is_(None),
            )
            .values(overdue_notified_at=now)
        )
        return self._conn.execute(stmt).rowcount == 1

    def open_messages(self, *, after_id: int, limit: int) -> list[Message]:
        stmt = (
            select(m)
            .where(m.c.status.in_(OPEN_STATUSES), m.c.id > after_id)
            .order_by(m.c.id)
            .limit(limit)
        )
        return [message_from_row(row) for row in self._conn.execute(stmt)]

    def set_due(self, message_id: int, due_at: datetime | None, expected: datetime | None) -> bool:
        where = [m.c.id == message_id]
        where.append(m.c.due_at.is_(None) if expected is None else m.c.due_at == expected)
        stmt = update(m).where(*where).values(due_at=due_at, overdue_notified_at=None)
        return self._conn.execute(stmt).rowcount == 1
