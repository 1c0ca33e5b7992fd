"""Messages, their attachments, log, reply and rating; the three message lists."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import (
    Connection,
    bindparam,
    false,
    func,
    insert,
    select,
    update,
)

from ...domain.errors import Conflict
from ...domain.model import Attachment, LogEntry, Message, Rating, Reply, Status, Visibility
from ...domain.pii import public_copy
from ...services.ports import (
    BackofficeFilter,
    NewAttachment,
    NewMessage,
    PublicMessage,
    TrackedLogEntry,
    TrackedMessage,
)
from ..tables import accounts, attachments, message_log, messages, ratings, replies
from ._util import execute_unique, insert_statement, insert_unless_taken, like_pattern
from .message_lists import (
    AUTHORS_STATEMENT,
    PUBLIC_STATUSES,
    author_statement,
    backoffice_query,
    page_params,
    public_statement,
)

m = messages
att = attachments
lg = message_log

#: ``IN (…)`` lists are cut into chunks this long (SQLite's parameter limit).
_CHUNK = 500

_SELECT_MESSAGE = select(m)
_OPEN_STATUSES = (Status.SUBMITTED.value, Status.FORWARDED.value, Status.IN_PROGRESS.value)
_CLOSED_STATUSES = (Status.DONE.value, Status.REJECTED.value)
_GET_MESSAGE = _SELECT_MESSAGE.where(m.c.id == bindparam("id"))
#: The same, locking the row until the transaction ends (PostgreSQL; SQLAlchemy
#: writes no FOR UPDATE for SQLite, whose write transaction holds the database).
_GET_MESSAGE_FOR_UPDATE = _GET_MESSAGE.with_for_update()
_BY_TICKET = _SELECT_MESSAGE.where(m.c.ticket == bindparam("ticket"))
_MESSAGE_ATTACHMENTS = (
    select(att)
    .where(att.c.message_id == bindparam("message_id"), att.c.kind == "message")
    .order_by(att.c.id)
)
_GET_ATTACHMENT = select(att).where(att.c.id == bindparam("id"))
_LOG = select(lg).where(lg.c.message_id == bindparam("message_id")).order_by(lg.c.id)
#: The columns of a new log entry besides ``message_id``.
_LOG_COLUMNS = (
    "actor_id",
    "action",
    "from_status",
    "to_status",
    "note",
    "at",
    "agency_id",
    "note_visibility",
)
_INSERT_LOG = insert_statement(lg, "message_id", *_LOG_COLUMNS)
_MESSAGE_COLUMNS = (
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
)


@functools.cache
def _insert_message(dialect: str) -> Any:
    """INSERT … ON CONFLICT (ticket) DO NOTHING RETURNING id: a ticket collision
    returns no row instead of aborting the statement (no savepoint needed)."""
    return insert_unless_taken(m, _MESSAGE_COLUMNS, "ticket", dialect)


@functools.cache
def _insert_message_with_log() -> Any:
    """PostgreSQL: the message insert of :func:`_insert_message` and the insert of its
    first log entry in one statement (a data-modifying ``WITH``; one round trip
    less). No message row (a ticket collision): no log row either."""
    new_message = _insert_message("postgresql").cte("new_message")
    entry = select(
        new_message.c.id,
        *(bindparam(f"log_{c}", type_=lg.c[c].type) for c in _LOG_COLUMNS),
    )
    new_log = insert(lg).from_select(["message_id", *_LOG_COLUMNS], entry).cte("new_log")
    return select(new_message.c.id).add_cte(new_log)


#: Status by its stored value (faster than calling the enum).
STATUS_OF: dict[str, Status] = {s.value: s for s in Status}

_TRACKED = (
    select(
        m.c.id,
        m.c.ticket,
        m.c.created_at,
        m.c.status,
        func.coalesce(m.c.subject_public, m.c.subject).label("subject"),
        m.c.due_at,
    )
    .select_from(m.join(accounts, accounts.c.id == m.c.author_id))
    .where(
        accounts.c.nik_index == bindparam("nik_index"),
        # A NIK belongs to the account that verified its e-mail (0005_account_privacy);
        # the condition of the partial unique index also lets SQLite, without
        # statistics, start from that one account instead of scanning the messages.
        accounts.c.email_verified_at.isnot(None),
        m.c.status != Status.WITHDRAWN.value,
        m.c.confidential == false(),
        m.c.anonymous == false(),
    )
    .order_by(m.c.id.desc())
    .limit(bindparam("limit"))
    .subquery("t")
)
#: Tracking in one statement: the newest messages of a NIK, each with its status
#: steps. Nothing the staff wrote is read.
_TRACK = (
    select(_TRACKED, lg.c.at, lg.c.from_status, lg.c.to_status)
    .select_from(_TRACKED.outerjoin(lg, lg.c.message_id == _TRACKED.c.id))
    .order_by(_TRACKED.c.id.desc(), lg.c.id)
)
#: Statuses of the messages on the public list (whose subject tracking may show).
_PUBLIC_STATUSES = frozenset(PUBLIC_STATUSES)


def _tracked(row: list[Any], log: list[TrackedLogEntry]) -> TrackedMessage:
    # id, ticket, created_at, status, subject (public copy), due_at, …
    return TrackedMessage(
        ticket=row[1],
        created_at=row[2],
        status=STATUS_OF[row[3]],
        subject=row[4] if row[3] in _PUBLIC_STATUSES else None,
        log=tuple(log),
        due_at=row[5],
    )


def _message(row: Any, attachments: tuple[Attachment, ...] = ()) -> Message:
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
        version=row.version,
    )


def _attachment(row: Any) -> Attachment:
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


def _log_entry(row: Any) -> LogEntry:
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
    )


def _rating(row: Any) -> Rating:
    return Rating(
        message_id=row.message_id, stars=row.stars, comment=row.comment, created_at=row.created_at
    )


def _log_values(entry: LogEntry) -> dict[str, Any]:
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


class SqlMessageRepository:
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
        }

        dialect = self._conn.dialect.name
        if first_log is not None and dialect == "postgresql":
            for key, value in _log_values(first_log).items():
                if key != "message_id":
                    values[f"log_{key}"] = value
            rows = self._conn.execute(_insert_message_with_log(), values).all()
        else:
            rows = self._conn.execute(_insert_message(dialect), values).all()
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
        )

    def get(self, message_id: int, *, for_update: bool = False) -> Message | None:
        """With its attachments of kind ``message``. ``for_update``: lock the row
        until the transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL, where a
        concurrent change waits for this transaction and then reads its result; on
        SQLite the write transaction already holds the whole database)."""
        stmt = _GET_MESSAGE_FOR_UPDATE if for_update else _GET_MESSAGE
        row = self._conn.execute(stmt, {"id": message_id}).first()
        return self._with_attachments(row) if row else None

    def get_by_ticket(self, ticket: str) -> Message | None:
        """With its attachments of kind ``message``, like :meth:`get`."""
        row = self._conn.execute(_BY_TICKET, {"ticket": ticket}).first()
        return self._with_attachments(row) if row else None

    def get_many(self, message_ids: Sequence[int]) -> list[Message]:
        """The messages with these ids that exist (without attachments)."""
        ids = list(dict.fromkeys(message_ids))
        found: list[Message] = []
        for start in range(0, len(ids), _CHUNK):
            stmt = select(m).where(m.c.id.in_(ids[start : start + _CHUNK]))
            found.extend(_message(row) for row in self._conn.execute(stmt))
        return found

    def _with_attachments(self, row: Any) -> Message:
        found = self._conn.execute(_MESSAGE_ATTACHMENTS, {"message_id": row.id})
        return _message(row, tuple(_attachment(r) for r in found))

    def save_transition(self, message: Message, expected_version: int) -> bool:
        """Compare-and-set: write status, classification, ``updated_at``, the SOP
        clock, the milestones and ``version`` only if the stored version is still
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
        return [_message(row) for row in self._conn.execute(stmt)]

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
            .where(m.c.status.in_(_OPEN_STATUSES), m.c.id > after_id)
            .order_by(m.c.id)
            .limit(limit)
        )
        return [_message(row) for row in self._conn.execute(stmt)]

    def set_due(self, message_id: int, due_at: datetime | None, expected: datetime | None) -> bool:
        where = [m.c.id == message_id]
        where.append(m.c.due_at.is_(None) if expected is None else m.c.due_at == expected)
        stmt = update(m).where(*where).values(due_at=due_at, overdue_notified_at=None)
        return self._conn.execute(stmt).rowcount == 1

    # ------------------------------------------------------------------ attachments
    def add_attachment(self, new: NewAttachment) -> Attachment:
        values = {
            "message_id": new.message_id,
            "kind": new.kind,
            "filename": new.filename,
            "content_type": new.content_type,
            "size": new.size,
            "storage_key": new.storage_key,
            "sha256": new.sha256,
            "created_at": new.created_at,
        }
        new_id = self._conn.execute(insert(att).values(values).returning(att.c.id)).scalar_one()
        return Attachment(
            id=new_id,
            message_id=new.message_id,
            kind=new.kind,
            filename=new.filename,
            content_type=new.content_type,
            size=new.size,
            storage_key=new.storage_key,
            sha256=new.sha256,
            created_at=new.created_at,
        )

    def attachment(self, attachment_id: int) -> Attachment | None:
        row = self._conn.execute(_GET_ATTACHMENT, {"id": attachment_id}).first()
        return _attachment(row) if row else None

    def attachments_for(self, message_ids: Sequence[int]) -> dict[int, list[Attachment]]:
        """Every attachment (both kinds, removed ones too) of these messages, by id;
        every id is a key."""
        ids = list(dict.fromkeys(message_ids))
        found: dict[int, list[Attachment]] = {i: [] for i in ids}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            stmt = select(att).where(att.c.message_id.in_(chunk)).order_by(att.c.id)
            for row in self._conn.execute(stmt):
                found[row.message_id].append(_attachment(row))
        return found

    def stored_attachments_of_author(
        self, author_id: int, kind: str, *, anonymous: bool | None = None
    ) -> list[Attachment]:
        """The attachments of ``kind`` on the author's messages whose file is still
        stored; only on anonymous (or only on signed) messages when ``anonymous`` is
        given."""
        stmt = (
            select(att)
            .select_from(att.join(m, m.c.id == att.c.message_id))
            .where(m.c.author_id == author_id, att.c.kind == kind, att.c.removed_at.is_(None))
            .order_by(att.c.id)
        )
        if anonymous is not None:
            stmt = stmt.where(m.c.anonymous == anonymous)
        return [_attachment(row) for row in self._conn.execute(stmt)]

    def expired_attachments(self, closed_before: datetime, *, limit: int) -> list[Attachment]:
        """Attachments still stored whose message is ``done`` or ``rejected`` since
        before ``closed_before`` (its last change), oldest first."""
        stmt = (
            select(att)
            .select_from(att.join(m, m.c.id == att.c.message_id))
            .where(
                att.c.removed_at.is_(None),
                m.c.status.in_(_CLOSED_STATUSES),
                m.c.updated_at < closed_before,
            )
            .order_by(att.c.id)
            .limit(limit)
        )
        return [_attachment(row) for row in self._conn.execute(stmt)]

    def mark_attachment_removed(
        self, attachment_id: int, *, reason: str, now: datetime, erase_details: bool = False
    ) -> bool:
        """Record that the file is to be deleted (compare-and-set: False when it
        already was). The storage key stays until the file is gone
        (:meth:`forget_attachment_file`); ``erase_details`` empties the file name
        and checksum."""
        values: dict[str, Any] = {"removed_at": now, "removed_reason": reason}
        if erase_details:
            values.update(filename="", sha256="")
        stmt = (
            update(att)
            .where(att.c.id == attachment_id, att.c.removed_at.is_(None))
            .values(**values)
        )
        return self._conn.execute(stmt).rowcount == 1

    def removed_attachment_files(self, *, after_id: int = 0, limit: int) -> list[Attachment]:
        """Attachments marked removed whose file may still be stored (their storage
        key is not yet emptied), by id. Few: only those whose file deletion failed
        or was cut short; the scan reads the removed rows (index on ``removed_at``)."""
        stmt = (
            select(att)
            .where(att.c.removed_at.is_not(None), att.c.storage_key != "", att.c.id > after_id)
            .order_by(att.c.id)
            .limit(limit)
        )
        return [_attachment(row) for row in self._conn.execute(stmt)]

    def forget_attachment_file(self, attachment_id: int, storage_key: str) -> bool:
        """Empty the storage key of a removed attachment whose file is deleted
        (compare-and-set on the key: False when it changed or the row is not removed)."""
        stmt = (
            update(att)
            .where(
                att.c.id == attachment_id,
                att.c.storage_key == storage_key,
                att.c.removed_at.is_not(None),
            )
            .values(storage_key="")
        )
        return self._conn.execute(stmt).rowcount == 1

    def deidentify_author(self, author_id: int, mask: Callable[[str], str]) -> int:
        """See the port: each changed text is one UPDATE (a citizen's messages
        are few); ``updated_at`` and ``version`` stay, so that nothing dates the
        change (an anonymous message would be tied to the account deletion)."""
        changed = 0
        rows = self._conn.execute(
            select(m.c.id, m.c.subject, m.c.body).where(m.c.author_id == author_id)
        ).all()
        for row in rows:
            subject, body = mask(row.subject), mask(row.body)
            if (subject, body) == (row.subject, row.body):
                continue
            changed += (subject != row.subject) + (body != row.body)
            self._conn.execute(
                update(m)
                .where(m.c.id == row.id)
                .values(subject=subject, body=body, subject_public=None, body_public=None)
            )
        comments = self._conn.execute(
            select(ratings.c.message_id, ratings.c.comment)
            .select_from(ratings.join(m, m.c.id == ratings.c.message_id))
            .where(m.c.author_id == author_id, ratings.c.comment != "")
        ).all()
        for comment in comments:
            masked = mask(comment.comment)
            if masked != comment.comment:
                changed += 1
                self._conn.execute(
                    update(ratings)
                    .where(ratings.c.message_id == comment.message_id)
                    .values(comment=masked)
                )
        return changed

    def refresh_public_copies(
        self, *, after_id: int, limit: int, copy: Callable[[str], str | None]
    ) -> tuple[int, int]:
        """See the port: one UPDATE per message whose copies change."""
        rows = self._conn.execute(
            select(m.c.id, m.c.subject, m.c.body, m.c.subject_public, m.c.body_public)
            .where(m.c.id > after_id)
            .order_by(m.c.id)
            .limit(limit)
        ).all()
        changed = 0
        for row in rows:
            subject, body = copy(row.subject), copy(row.body)
            if (subject, body) != (row.subject_public, row.body_public):
                changed += 1
                self._conn.execute(
                    update(m)
                    .where(m.c.id == row.id)
                    .values(subject_public=subject, body_public=body)
                )
        return (rows[-1].id if rows else after_id), changed

    def storage_keys_in(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that an attachment row names (the attachment sweep's
        question, asked only about files left pending for an hour: rare, and
        without an index on the column)."""
        if not keys:
            return set()
        stmt = select(att.c.storage_key).where(att.c.storage_key.in_(list(keys)))
        return set(self._conn.execute(stmt).scalars())

    # ------------------------------------------------------------------ log
    def add_log(self, entry: LogEntry) -> LogEntry:
        new_id = self._conn.execute(_INSERT_LOG, _log_values(entry)).scalar_one()
        return attrs.evolve(
            entry,
            id=new_id,
            action=str(entry.action),
            from_status=Status(entry.from_status) if entry.from_status is not None else None,
            to_status=Status(entry.to_status),
        )

    def log(self, message_id: int) -> list[LogEntry]:
        """Oldest first."""
        return [_log_entry(row) for row in self._conn.execute(_LOG, {"message_id": message_id})]

    def logs_for(self, message_ids: Sequence[int]) -> dict[int, list[LogEntry]]:
        """The logs of several messages (oldest first each); every id is a key."""
        ids = list(dict.fromkeys(message_ids))
        found: dict[int, list[LogEntry]] = {i: [] for i in ids}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            stmt = select(lg).where(lg.c.message_id.in_(chunk)).order_by(lg.c.message_id, lg.c.id)
            for row in self._conn.execute(stmt):
                found[row.message_id].append(_log_entry(row))
        return found

    # ------------------------------------------------------------------ reply and rating
    def add_reply(
        self,
        message_id: int,
        author_id: int,
        answer: str,
        created_at: datetime,
        attachment_id: int | None,
        visibility: Visibility = Visibility.INTERNAL,
    ) -> Reply:
        """Raises ``Conflict`` (code ``reply_exists``) when the message has a reply."""
        values = {
            "message_id": message_id,
            "author_id": author_id,
            "answer": answer,
            "attachment_id": attachment_id,
            "created_at": created_at,
            "visibility": str(visibility),
        }

        def conflict() -> Conflict | None:
            if self.reply(message_id) is None:
                return None
            return Conflict("The message already has a reply.", code="reply_exists")

        rows = execute_unique(
            self._conn, insert(replies).values(values).returning(replies.c.id), conflict=conflict
        )
        return Reply(
            id=rows[0].id,
            message_id=message_id,
            author_id=author_id,
            answer=answer,
            created_at=created_at,
            attachment=self.attachment(attachment_id) if attachment_id is not None else None,
            visibility=visibility,
        )

    def reply(self, message_id: int) -> Reply | None:
        """With its attachment (a LEFT JOIN, one query)."""
        stmt = (
            select(
                replies,
                att.c.id.label("att_id"),
                att.c.kind,
                att.c.filename,
                att.c.content_type,
                att.c.size,
                att.c.storage_key,
                att.c.sha256,
                att.c.created_at.label("att_created_at"),
                att.c.removed_at,
                att.c.removed_reason,
            )
            .select_from(replies.outerjoin(att, att.c.id == replies.c.attachment_id))
            .where(replies.c.message_id == message_id)
        )
        row = self._conn.execute(stmt).first()
        if row is None:
            return None
        attachment = None
        if row.att_id is not None:
            attachment = Attachment(
                id=row.att_id,
                message_id=row.message_id,
                kind=row.kind,
                filename=row.filename,
                content_type=row.content_type,
                size=row.size,
                storage_key=row.storage_key,
                sha256=row.sha256,
                created_at=row.att_created_at,
                removed_at=row.removed_at,
                removed_reason=row.removed_reason,
            )
        return Reply(
            id=row.id,
            message_id=row.message_id,
            author_id=row.author_id,
            answer=row.answer,
            created_at=row.created_at,
            attachment=attachment,
            visibility=Visibility(row.visibility),
        )

    def add_rating(self, rating: Rating) -> None:
        """Raises ``Conflict`` (code ``rating_exists``) when already rated."""
        values = {
            "message_id": rating.message_id,
            "stars": rating.stars,
            "comment": rating.comment,
            "created_at": rating.created_at,
        }

        def conflict() -> Conflict | None:
            if self.rating(rating.message_id) is None:
                return None
            return Conflict("The message has already been rated.", code="rating_exists")

        execute_unique(
            self._conn,
            insert(ratings).values(values).returning(ratings.c.message_id),
            conflict=conflict,
        )

    def rating(self, message_id: int) -> Rating | None:
        row = self._conn.execute(select(ratings).where(ratings.c.message_id == message_id)).first()
        return _rating(row) if row else None

    # ------------------------------------------------------------------ lists
    def _list(self, stmt: Any, params: dict[str, Any]) -> list[Message]:
        return [_message(row) for row in self._conn.execute(stmt, params).all()]

    def all_by_author(self, author_id: int, *, after_id: int, limit: int) -> list[Message]:
        """Every message of the author, withdrawn ones too, oldest first (by id,
        after ``after_id``), without their attachments."""
        stmt = (
            select(m)
            .where(m.c.author_id == author_id, m.c.id > after_id)
            .order_by(m.c.id)
            .limit(limit)
        )
        return [_message(row) for row in self._conn.execute(stmt)]

    def list_by_author(self, author_id: int, *, before_id: int | None, limit: int) -> list[Message]:
        """The author's messages except withdrawn ones, newest first."""
        stmt = author_statement(before_id is not None)
        return self._list(stmt, page_params(before_id, limit, author_id=author_id))

    def list_public(
        self, *, before_id: int | None, limit: int, text: str | None = None
    ) -> list[PublicMessage]:
        """Not confidential, status forwarded/in_progress/done, newest first;
        ``text`` matches subject or body, case-insensitively."""
        params = page_params(before_id, limit)
        if text:
            params["text"] = like_pattern(text)
        stmt = public_statement(bool(text), before_id is not None)
        status_of = STATUS_OF
        return [
            PublicMessage(
                id=r.id,
                ticket=r.ticket,
                subject=r.subject,
                body=r.body,
                status=status_of[r.status],
                created_at=r.created_at,
                category_id=r.category_id,
                agency_id=r.agency_id,
            )
            for r in self._conn.execute(stmt, params).all()
        ]

    def list_backoffice(
        self, flt: BackofficeFilter, *, before_id: int | None, limit: int
    ) -> list[Message]:
        """Never withdrawn; newest first.

        Filters are ANDed; ``created_from`` is inclusive and ``created_to`` exclusive;
        ``text`` matches ticket, subject or body. ``restrict_agency_id`` and
        ``scopes`` are ANDed with the rest (and with each other); a message matches
        ``scopes`` when it matches any one of them, so an empty tuple matches nothing.
        """
        return self._list(*backoffice_query(flt, before_id, limit))

    def list_backoffice_by_due(
        self, flt: BackofficeFilter, *, after: tuple[datetime, int] | None, limit: int
    ) -> list[Message]:
        """Open messages matching ``flt``, earliest deadline first (keyset ``after``)."""
        return self._list(*backoffice_query(flt, None, limit, due_after=after, by_due=True))

    def tracking(self, nik_index: bytes, *, limit: int) -> list[TrackedMessage]:
        """One statement: the messages with their log entries (see the port)."""
        out: list[TrackedMessage] = []
        current: list[Any] | None = None
        log: list[TrackedLogEntry] = []
        status_of = STATUS_OF
        for row in self._conn.execute(_TRACK, {"nik_index": nik_index, "limit": limit}).all():
            if current is None or current[0] != row.id:
                if current is not None:
                    out.append(_tracked(current, log))
                current, log = list(row), []
            if row.to_status is not None:
                log.append(
                    TrackedLogEntry(
                        at=row.at,
                        from_status=status_of[row.from_status] if row.from_status else None,
                        to_status=status_of[row.to_status],
                    )
                )
        if current is not None:
            out.append(_tracked(current, log))
        return out

    def list_by_authors(self, author_ids: Sequence[int], *, limit: int) -> list[Message]:
        """Tracking: the messages of these accounts except withdrawn, newest first."""
        ids = sorted(set(author_ids))
        if not ids or limit <= 0:
            return []
        return self._list(AUTHORS_STATEMENT, page_params(None, limit, author_ids=ids))
