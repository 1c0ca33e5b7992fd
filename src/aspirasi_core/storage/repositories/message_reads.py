"""The message lists (author, public, back office) and public tracking by NIK."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, false, func, select

from ...domain.model import Message, Status
from ...services.ports import BackofficeFilter, PublicMessage, TrackedLogEntry, TrackedMessage
from ..tables import accounts
from ._util import like_pattern
from .message_lists import (
    AUTHORS_STATEMENT,
    PUBLIC_STATUSES,
    author_statement,
    backoffice_query,
    page_params,
    public_statement,
)
from .message_rows import STATUS_OF, lg, m, message_from_row

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


class MessageListReads:
    """The lists and tracking part of :class:`~.messages.SqlMessageRepository`."""

    __slots__ = ()
    _conn: Connection

    def _list(self, stmt: Any, params: dict[str, Any]) -> list[Message]:
        return [message_from_row(row) for row in self._conn.execute(stmt, params).all()]

    def all_by_author(self, author_id: int, *, after_id: int, limit: int) -> list[Message]:
        """Every message of the author, withdrawn ones too, oldest first (by id,
        after ``after_id``), without their attachments."""
        stmt = (
            select(m)
            .where(m.c.author_id == author_id, m.c.id > after_id)
            .order_by(m.c.id)
            .limit(limit)
        )
        return [message_from_row(row) for row in self._conn.execute(stmt)]

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
                regency_code=r.regency_code,
                district_code=r.district_code,
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
