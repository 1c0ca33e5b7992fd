"""The message tables' statements and row mappers shared by
:class:`~.messages.SqlMessageRepository` and its parts.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, insert, select

from ...domain.model import Attachment, LogEntry, Message, Rating, Status, Visibility
from ..tables import attachments, message_log, messages
from ._util import insert_statement, insert_unless_taken

m = messages
att = attachments
lg = message_log

#: ``IN (…)`` lists are cut into chunks this long (SQLite's parameter limit).
CHUNK = 500

SELECT_MESSAGE = select(m)
OPEN_STATUSES = (Status.SUBMITTED.value, Status.FORWARDED.value, Status.IN_PROGRESS.value)
CLOSED_STATUSES = (Status.DONE.value, Status.REJECTED.value)
GET_MESSAGE = SELECT_MESSAGE.where(m.c.id == bindparam("id"))
#: The same, locking the row until the transaction ends (PostgreSQL; SQLAlchemy
#: writes no FOR UPDATE for SQLite, whose write transaction holds the database).
GET_MESSAGE_FOR_UPDATE = GET_MESSAGE.with_for_update()
BY_TICKET = SELECT_MESSAGE.where(m.c.ticket == bindparam("ticket"))
MESSAGE_ATTACHMENTS = (
    select(att)
    .where(att.c.message_id == bindparam("message_id"), att.c.kind == "message")
    .order_by(att.c.id)
)
GET_ATTACHMENT = select(att).where(att.c.id == bindparam("id"))
LOG = select(lg).where(lg.c.message_id == bindparam("message_id")).order_by(lg.c.id)
#: The columns of a new log entry besides ``message_id``.
LOG_COLUMNS = (
    "actor_id",
    "action",
    "from_status",
    "to_status",
    "note",
    "at",
    "agency_id",
    "note_visibility",
    # the hash chain (log_chain.py)
    "seq",
    "prev_hash",
    "entry_hash",
)
INSERT_LOG = insert_statement(lg, "message_id", *LOG_COLUMNS)
MESSAGE_COLUMNS = (
    "ticket",
    "author_id",
    "subject",
    "body",
    "status",
    "confidential",
    "anonymous",
    "created_at",
    "updated_at",
    "stage_started_at",
    "due_at",
    "subject_public",
    "body_public",
    "regency_code",
    "district_code",
    "latitude",
    "longitude",
)


@functools.cache
def insert_message_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (ticket) DO NOTHING RETURNING id: a ticket collision
    returns no row instead of aborting the statement (no savepoint needed)."""
    return insert_unless_taken(m, MESSAGE_COLUMNS, "ticket", dialect)


@functools.cache
def insert_message_with_log_statement() -> Any:
    """PostgreSQL: the message insert of :func:`insert_message_statement` and the insert of its
    first log entry in one statement (a data-modifying ``WITH``; one round trip
    less). No message row (a ticket collision): no log row either."""
    new_message = insert_message_statement("postgresql").cte("new_message")
    entry = select(
        new_message.c.id,
        *(bindparam(f"log_{c}", type_=lg.c[c].type) for c in LOG_COLUMNS),
    )
    new_log = insert(lg).from_select(["message_id", *LOG_COLUMNS], entry).cte("new_log")
    return select(new_message.c.id).add_cte(new_log)


#: Status by its stored value (faster than calling the enum).
STATUS_OF: dict[str, Status] = {s.value: s for s in Status}


def message_from_row(row: Any, attachments: tuple[Attachment, ...] = ()) -> Message:
    return Message(
        id=row.id,
        ticket=row.ticket,
        author_id=row.author_id,
        subject=row.subject,
        body=row.body,
        status=Status(row.status),
        confidential=bool(row.confidential),
        anonymous=bool(row.anonymous),
        created_at=row.created_at,
        updated_at=row.updated_at,
        category_id=row.category_id,
        subcategory_id=row.subcategory_id,
        agency_id=row.agency_id,
        attachments=attachments,
        stage_started_at=row.stage_started_at,
        due_at=row.due_at,
        forwarded_at=row.forwarded_at,
        started_at=row.started_at,
        closed_at=row.closed_at,
        sop_missed=bool(row.sop_missed),
        version=row.version,
        regency_code=row.regency_code,
        district_code=row.district_code,
        latitude=row.latitude,
        longitude=row.longitude,
    )


def attachment_from_row(row: Any) -> Attachment:
    return Attachment(
        id=row.id,
        message_id=row.message_id,
        kind=row.kind,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        storage_key=row.storage_key,
        sha256=row.sha256,
        created_at=row.created_at,
        removed_at=row.removed_at,
        removed_reason=row.removed_reason,
    )


def log_entry_from_row(row: Any) -> LogEntry:
    return LogEntry(
        id=row.id,
        message_id=row.message_id,
        actor_id=row.actor_id,
        action=row.action,
        from_status=Status(row.from_status) if row.from_status is not None else None,
        to_status=Status(row.to_status),
        note=row.note,
        at=row.at,
        agency_id=row.agency_id,
        note_visibility=Visibility(row.note_visibility),
        seq=row.seq,
        entry_hash=row.entry_hash,
    )


def rating_from_row(row: Any) -> Rating:
    return Rating(
        message_id=row.message_id, stars=row.stars, comment=row.comment, created_at=row.created_at
    )


def log_values(entry: LogEntry) -> dict[str, Any]:
    return {
        "message_id": entry.message_id,
        "actor_id": entry.actor_id,
        "action": str(entry.action),
        "from_status": str(entry.from_status) if entry.from_status is not None else None,
        "to_status": str(entry.to_status),
        "note": entry.note,
        "at": entry.at,
        "agency_id": entry.agency_id,
        "note_visibility": str(entry.note_visibility),
    }
