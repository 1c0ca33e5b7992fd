"""A message's history: its log, its reply and its rating."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs
from sqlalchemy import insert, select, update

from ...domain.errors import Conflict
from ...domain.model import (
    Attachment,
    LogEntry,
    Rating,
    ReplacedRating,
    Reply,
    Status,
    Visibility,
)
from ..tables import ratings, replaced_ratings, replies
from ._util import execute_unique
from .log_chain import chain_values
from .message_attachments import MessageAttachmentRows
from .message_rows import (
    CHUNK,
    INSERT_LOG,
    LOG,
    att,
    lg,
    log_entry_from_row,
    log_values,
    rating_from_row,
)


class MessageHistoryRows(MessageAttachmentRows):
    """The log, reply and rating part of :class:`~.messages.SqlMessageRepository`."""

    __slots__ = ()

    def add_log(self, entry: LogEntry) -> LogEntry:
        """Appends to the message's hash chain (see ``log_chain.py``)."""
        values = log_values(entry)
        values.update(chain_values(self._conn, values))
        new_id = self._conn.execute(INSERT_LOG, values).scalar_one()
        return attrs.evolve(
            entry,
            id=new_id,
            seq=values["seq"],
            entry_hash=values["entry_hash"],
            action=str(entry.action),
            from_status=Status(entry.from_status) if entry.from_status is not None else None,
            to_status=Status(entry.to_status),
        )

    def log(self, message_id: int) -> list[LogEntry]:
        """Oldest first."""
        return [
            log_entry_from_row(row) for row in self._conn.execute(LOG, {"message_id": message_id})
        ]

    def logs_for(self, message_ids: Sequence[int]) -> dict[int, list[LogEntry]]:
        """The logs of several messages (oldest first each); every id is a key."""
        ids = list(dict.fromkeys(message_ids))
        found: dict[int, list[LogEntry]] = {i: [] for i in ids}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            stmt = select(lg).where(lg.c.message_id.in_(chunk)).order_by(lg.c.message_id, lg.c.id)
            for row in self._conn.execute(stmt):
                found[row.message_id].append(log_entry_from_row(row))
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

    def replace_rating(self, rating: Rating) -> None:
        """Put ``rating`` in the place of the message's rating (a new outcome's);
        the old one is kept among :meth:`replaced_ratings`."""
        old = self.rating(rating.message_id)
        if old is not None:
            self._conn.execute(
                insert(replaced_ratings).values(
                    message_id=old.message_id,
                    stars=old.stars,
                    comment=old.comment,
                    created_at=old.created_at,
                    replaced_at=rating.created_at,
                )
            )
        self._conn.execute(
            update(ratings)
            .where(ratings.c.message_id == rating.message_id)
            .values(stars=rating.stars, comment=rating.comment, created_at=rating.created_at)
        )

    def replaced_ratings(self, message_id: int) -> list[ReplacedRating]:
        r = replaced_ratings
        rows = self._conn.execute(
            select(r).where(r.c.message_id == message_id).order_by(r.c.id)
        ).all()
        return [
            ReplacedRating(
                message_id=row.message_id,
                stars=row.stars,
                comment=row.comment,
                created_at=row.created_at,
                replaced_at=row.replaced_at,
            )
            for row in rows
        ]

    def rating(self, message_id: int) -> Rating | None:
        row = self._conn.execute(select(ratings).where(ratings.c.message_id == message_id)).first()
        return rating_from_row(row) if row else None
