"""Mails about registering sent per address per day (``mail_quota``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite

from ..tables import mail_quota

q = mail_quota


class SqlMailQuotaRepository:
    """:class:`~aspirasi_core.services.ports.MailQuotaRepository`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def take(self, address_key: bytes, day: date, limit: int) -> bool:
        """One ``INSERT … ON CONFLICT DO UPDATE … WHERE sent < limit RETURNING``:
        atomic on both databases (the row lock orders concurrent callers)."""
        if limit < 1:
            return False
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(q).values(address_key=address_key, day=day, sent=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[q.c.address_key, q.c.day],
            set_={"sent": q.c.sent + 1},
            where=q.c.sent < limit,
        ).returning(q.c.sent)
        return self._conn.execute(stmt).first() is not None

    def forget_before(self, day: date) -> int:
        return int(self._conn.execute(delete(q).where(q.c.day < day)).rowcount)
