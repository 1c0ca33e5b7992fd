"""In-app notifications of staff members."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, literal, select, update

from ...domain.model import Notification
from ..tables import notifications
from ._util import insert_statement, keyset

n = notifications


def _notification(row: Any) -> Notification:
    return Notification(
        id=row.id,
        account_id=row.account_id,
        kind=row.kind,
        message_id=row.message_id,
        text=row.text,
        created_at=row.created_at,
        read_at=row.read_at,
        params=dict(row.params or {}),
    )


_INSERT_NOTIFICATION = insert_statement(
    n, "account_id", "kind", "message_id", "text", "params", "created_at", returning=None
)


class SqlNotificationRepository:
    """:class:`~aspirasi_core.services.ports.NotificationRepository`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_many(
        self,
        account_ids: Iterable[int],
        *,
        kind: str,
        message_id: int | None,
        text: str,
        params: Mapping[str, str],
        created_at: datetime,
    ) -> int:
        """One notification per distinct account; returns how many were added."""
        rows = [
            {
                "account_id": account_id,
                "kind": kind,
                "message_id": message_id,
                "text": text,
                "params": dict(params),
                "created_at": created_at,
            }
            for account_id in dict.fromkeys(account_ids)
        ]
        if rows:  # one executemany: a multi-row INSERT (insertmanyvalues)
            self._conn.execute(_INSERT_NOTIFICATION, rows)
        return len(rows)

    def list_for(
        self, account_id: int, *, before_id: int | None, limit: int, unread_only: bool = False
    ) -> list[Notification]:
        """Newest first."""
        stmt = select(n).where(n.c.account_id == account_id)
        if unread_only:
            stmt = stmt.where(n.c.read_at.is_(None))
        stmt = keyset(stmt, n.c.id, before_id, limit)
        return [_notification(row) for row in self._conn.execute(stmt)]

    def unread_count(self, account_id: int) -> int:
        stmt = (
            select(func.count())
            .select_from(n)
            .where(n.c.account_id == account_id, n.c.read_at.is_(None))
        )
        return int(self._conn.execute(stmt).scalar_one())

    def mark_read(self, account_id: int, notification_id: int, now: datetime) -> bool:
        """False when the notification is not the account's. Reading it again keeps
        the first ``read_at``."""
        stmt = (
            update(n)
            .where(n.c.id == notification_id, n.c.account_id == account_id)
            .values(read_at=func.coalesce(n.c.read_at, literal(now, n.c.read_at.type)))
        )
        return self._conn.execute(stmt).rowcount == 1

    def mark_all_read(self, account_id: int, now: datetime) -> int:
        """Returns how many were unread."""
        stmt = (
            update(n).where(n.c.account_id == account_id, n.c.read_at.is_(None)).values(read_at=now)
        )
        return self._conn.execute(stmt).rowcount
