"""The outbox: side effects stored in the transaction of the change, delivered later."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, or_, select, update

from ...security.crypto import Crypto
from ...services.ports import OutboxItem
from ..tables import outbox
from ._util import insert_statement

o = outbox
log = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
DONE = "done"
DEAD = "dead"
STATUSES = (PENDING, SENDING, DONE, DEAD)

#: Longest ``last_error`` kept.
MAX_ERROR_LENGTH = 2000

_ITEM_COLUMNS = (
    o.c.id,
    o.c.topic,
    o.c.payload,
    o.c.attempts,
    o.c.status,
    o.c.created_at,
    o.c.available_at,
    o.c.last_error,
)


def _filters(status: str | None, topic: str | None, error: str | None) -> list[ColumnElement[bool]]:
    """Conditions of a listing: a status, a topic, words of the last error."""
    found: list[ColumnElement[bool]] = []
    if status is not None:
        found.append(o.c.status == status)
    if topic:
        found.append(o.c.topic == topic)
    if error:
        found.append(o.c.last_error.contains(error, autoescape=True))
    return found


_INSERT_ITEM = insert_statement(
    o, "topic", "payload", "status", "attempts", "created_at", "available_at"
)


class SqlOutboxRepository:
    """:class:`~aspirasi_core.services.ports.OutboxRepository`.

    Payloads are sealed with :meth:`Crypto.encrypt_payload` (they may hold links
    with tokens, e-mail addresses) and erased once the item is done.
    """

    __slots__ = ("_conn", "_crypto")

    def __init__(self, conn: Connection, crypto: Crypto) -> None:
        self._conn = conn
        self._crypto = crypto

    def add(self, topic: str, payload: Mapping[str, Any], *, created_at: datetime) -> int:
        """Queue a side effect in the current transaction; returns its id."""
        values = {
            "topic": topic,
            "payload": self._crypto.encrypt_payload(payload),
            "status": PENDING,
            "attempts": 0,
            "created_at": created_at,
            "available_at": created_at,
        }
        return int(self._conn.execute(_INSERT_ITEM, values).scalar_one())

    def claim(self, now: datetime, *, limit: int, lease_seconds: int) -> list[OutboxItem]:
        """Take up to ``limit`` due items for this worker, oldest due first.

        Due: pending and available, or ``sending`` with an expired lease (its
        worker died). Claimed items become ``sending`` until ``now + lease_seconds``
        and count one more attempt. Several workers never get the same item:
        ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write transaction
        (``BEGIN IMMEDIATE``) on SQLite. Call it in a write transaction.
        """
        if limit <= 0:
            return []
        due = or_(
            and_(o.c.status == PENDING, o.c.available_at <= now),
            and_(o.c.status == SENDING, o.c.locked_until < now),
        )
        pick = select(o.c.id).where(due).order_by(o.c.available_at, o.c.id).limit(limit)
        if self._conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            update(o)
            .where(o.c.id.in_(pick.scalar_subquery()))
            .values(
                status=SENDING,
                locked_until=now + timedelta(seconds=lease_seconds),
                attempts=o.c.attempts + 1,
            )
            .returning(*_ITEM_COLUMNS)
        )
        rows = sorted(self._conn.execute(stmt).all(), key=lambda r: (r.available_at, r.id))
        items = []
        for row in rows:
            try:
                items.append(self._item(row))
            except Exception:  # a key change or a corrupt row: never retry it
                log.exception("outbox item %s cannot be decrypted; moved to dead", row.id)
                self.fail(row.id, "the payload cannot be decrypted", retry_at=None)
        return items

    def complete(self, item_id: int, now: datetime) -> None:
        """Mark delivered and erase the payload."""
        self._conn.execute(
            update(o)
            .where(o.c.id == item_id)
            .values(status=DONE, done_at=now, payload=b"", locked_until=None)
        )

    def fail(self, item_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Record a failure; ``retry_at`` None moves the item to the dead letters."""
        values: dict[str, Any] = {"last_error": error[:MAX_ERROR_LENGTH], "locked_until": None}
        if retry_at is None:
            values["status"] = DEAD
        else:
            values.update(status=PENDING, available_at=retry_at)
        self._conn.execute(update(o).where(o.c.id == item_id).values(values))

    def list(
        self,
        *,
        status: str | None = None,
        limit: int = 100,
        topic: str | None = None,
        error: str | None = None,
    ) -> list[OutboxItem]:
        """Oldest first (queue order), filtered like :meth:`count`. Done items have an
        empty payload; an undecryptable one shows as empty too."""
        stmt = select(*_ITEM_COLUMNS).where(*_filters(status, topic, error))
        stmt = stmt.order_by(o.c.id).limit(max(0, limit))
        items = []
        for row in self._conn.execute(stmt):
            try:
                items.append(self._item(row))
            except Exception:
                items.append(self._item(row, payload={}))
        return items

    def count(
        self, *, status: str | None = None, topic: str | None = None, error: str | None = None
    ) -> int:
        """How many items :meth:`list` would show without a limit."""
        stmt = select(func.count()).select_from(o).where(*_filters(status, topic, error))
        return int(self._conn.execute(stmt).scalar_one())

    def totals(self) -> dict[str, int]:
        """Items per status (every status, 0 for none)."""
        stmt = select(o.c.status, func.count()).group_by(o.c.status)
        found = {status: 0 for status in STATUSES}
        for status, count in self._conn.execute(stmt):
            found[status] = int(count)
        return found

    def retry(self, item_id: int, now: datetime) -> bool:
        """Put a dead item back in the queue (attempts start again from 0)."""
        return self.retry_dead(now, ids=[item_id]) == 1

    def retry_dead(
        self,
        now: datetime,
        *,
        ids: Sequence[int] | None = None,
        topic: str | None = None,
        error: str | None = None,
    ) -> int:
        """Put dead letters back in the queue in one statement — those of ``ids``,
        or every one matching ``topic`` and ``error`` (all when both are None) —
        with their attempts starting again from 0. Returns how many."""
        conditions = _filters(DEAD, topic, error)
        if ids is not None:
            if not ids:
                return 0
            conditions.append(o.c.id.in_(list(ids)))
        stmt = (
            update(o)
            .where(*conditions)
            .values(status=PENDING, attempts=0, available_at=now, locked_until=None)
        )
        return int(self._conn.execute(stmt).rowcount)

    def drop_addressed_to(self, address: str) -> int:
        """Delete the items not yet sent (pending, or dead and so retryable) whose
        payload names ``address`` as ``to`` (case-insensitive); returns how many.
        Decrypts each such item: for an account deletion, not a hot path."""
        wanted = address.strip().lower()
        if not wanted:
            return 0
        rows = self._conn.execute(
            select(o.c.id, o.c.payload).where(o.c.status.in_((PENDING, DEAD)))
        ).all()
        doomed = []
        for row in rows:
            try:
                payload = self._crypto.decrypt_payload(row.payload)
            except Exception:  # claim() moves an undecryptable item to the dead letters
                log.warning("outbox item %s cannot be decrypted; left as it is", row.id)
                continue
            to = payload.get("to")
            if isinstance(to, str) and to.strip().lower() == wanted:
                doomed.append(row.id)
        for start in range(0, len(doomed), 500):
            self._conn.execute(delete(o).where(o.c.id.in_(doomed[start : start + 500])))
        return len(doomed)

    def _item(self, row: Any, payload: Mapping[str, Any] | None = None) -> OutboxItem:
        if payload is None:
            blob = row.payload
            payload = self._crypto.decrypt_payload(blob) if blob else {}
        return OutboxItem(
            id=row.id,
            topic=row.topic,
            payload=payload,
            attempts=row.attempts,
            status=row.status,
            created_at=row.created_at,
            available_at=row.available_at,
            last_error=row.last_error,
        )
