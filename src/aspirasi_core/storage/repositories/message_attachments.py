"""A message's attachments, and the passes over the texts of messages that
remove personal data (deidentification, the public copies).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...domain.model import Attachment
from ...services.ports import NewAttachment
from ..tables import ratings, replaced_ratings
from .message_rows import CHUNK, CLOSED_STATUSES, GET_ATTACHMENT, att, attachment_from_row, m


class MessageAttachmentRows:
    """The attachments part of :class:`~.messages.SqlMessageRepository`."""

    __slots__ = ()
    _conn: Connection

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
        row = self._conn.execute(GET_ATTACHMENT, {"id": attachment_id}).first()
        return attachment_from_row(row) if row else None

    def attachments_for(self, message_ids: Sequence[int]) -> dict[int, list[Attachment]]:
        """Every attachment (both kinds, removed ones too) of these messages, by id;
        every id is a key."""
        ids = list(dict.fromkeys(message_ids))
        found: dict[int, list[Attachment]] = {i: [] for i in ids}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            stmt = select(att).where(att.c.message_id.in_(chunk)).order_by(att.c.id)
            for row in self._conn.execute(stmt):
                found[row.message_id].append(attachment_from_row(row))
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
        return [attachment_from_row(row) for row in self._conn.execute(stmt)]

    def expired_attachments(self, closed_before: datetime, *, limit: int) -> list[Attachment]:
        """Attachments still stored whose message is ``done`` or ``rejected`` since
        before ``closed_before`` (its last change), oldest first."""
        stmt = (
            select(att)
            .select_from(att.join(m, m.c.id == att.c.message_id))
            .where(
                att.c.removed_at.is_(None),
                m.c.status.in_(CLOSED_STATUSES),
                m.c.updated_at < closed_before,
            )
            .order_by(att.c.id)
            .limit(limit)
        )
        return [attachment_from_row(row) for row in self._conn.execute(stmt)]

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
        return [attachment_from_row(row) for row in self._conn.execute(stmt)]

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
        changed += self._mask_comments(ratings, ratings.c.message_id, author_id, mask)
        changed += self._mask_comments(replaced_ratings, replaced_ratings.c.id, author_id, mask)
        return changed

    def _mask_comments(
        self, table: Any, key: Any, author_id: int, mask: Callable[[str], str]
    ) -> int:
        """Pass the non-empty ``comment`` of every row of ``table`` (a rating, a
        replaced one) on the author's messages through ``mask``; one UPDATE per
        changed comment, by ``key``. Returns how many changed."""
        rows = self._conn.execute(
            select(key.label("key"), table.c.comment)
            .select_from(table.join(m, m.c.id == table.c.message_id))
            .where(m.c.author_id == author_id, table.c.comment != "")
        ).all()
        changed = 0
        for row in rows:
            masked = mask(row.comment)
            if masked != row.comment:
                changed += 1
                self._conn.execute(update(table).where(key == row.key).values(comment=masked))
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
