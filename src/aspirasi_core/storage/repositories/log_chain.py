"""The hash chains of the message logs and their daily roots.

:func:`chain_values` is the one place an entry's chain columns are computed; the
message repository calls it for every entry it writes. Appending to a chain
reads its head and writes the next place: the use cases hold the message's row
(the version compare-and-set, ``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
write transaction holds the whole file) while they do, so appends to one message
queue, and the unique index on ``(message_id, seq)`` refuses a second entry at the
same place should a writer ever skip that lock: a chain cannot fork.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, func, or_, select, type_coerce

from ...domain.log_chain import GENESIS, ChainLink, entry_hash
from ...services.ports import FoundEntry, LogRoot, StoredChain
from ..tables import log_roots, message_log, messages

lg = message_log
m = messages
lr = log_roots

#: The head of a message's chain (its ticket with no entry yet).
_HEAD = (
    select(m.c.ticket, lg.c.seq, lg.c.entry_hash)
    .select_from(m.outerjoin(lg, and_(lg.c.message_id == m.c.id, lg.c.seq.isnot(None))))
    .where(m.c.id == bindparam("message_id"))
    .order_by(lg.c.seq.desc())
    .limit(1)
)
#: Read as stored: a time that is not one comes back as text instead of failing.
_RAW_AT = type_coerce(lg.c.at, String).label("at")
_STORED = select(
    lg.c.id,
    lg.c.message_id,
    lg.c.seq,
    lg.c.prev_hash,
    lg.c.entry_hash,
    _RAW_AT,
    lg.c.actor_id,
    lg.c.action,
    lg.c.from_status,
    lg.c.to_status,
    lg.c.note,
    lg.c.note_visibility,
    lg.c.agency_id,
)
_DAY_HEADS = (
    select(m.c.ticket, lg.c.seq, lg.c.entry_hash)
    .select_from(lg.join(m, m.c.id == lg.c.message_id))
    .where(lg.c.at >= bindparam("start"), lg.c.at < bindparam("end"))
)
_FIND = (
    select(lg.c.at, lg.c.action, lg.c.seq, m.c.ticket, m.c.confidential, m.c.anonymous)
    .select_from(lg.join(m, m.c.id == lg.c.message_id))
    .where(lg.c.entry_hash == bindparam("entry_hash"))
    .order_by(lg.c.id)
    .limit(1)
)


def link_of(ticket: str, seq: Any, prev_hash: Any, values: dict[str, Any]) -> ChainLink:
    """The content hashed for an entry whose columns are ``values``."""
    return ChainLink(
        ticket=ticket,
        seq=seq,
        prev_hash=prev_hash,
        at=values["at"],
        actor_id=values["actor_id"],
        action=values["action"],
        from_status=values["from_status"],
        to_status=values["to_status"],
        note=values["note"],
        note_visibility=values["note_visibility"],
        agency_id=values["agency_id"],
    )


def first_chain_values(ticket: str, values: dict[str, Any]) -> dict[str, Any]:
    """The chain columns of a new message's first entry."""
    link = link_of(ticket, 1, GENESIS, values)
    return {"seq": 1, "prev_hash": GENESIS, "entry_hash": entry_hash(link)}


def chain_values(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """The chain columns of the entry ``values`` appended to its message's chain."""
    head = conn.execute(_HEAD, {"message_id": values["message_id"]}).one()
    seq = (head.seq or 0) + 1
    prev = head.entry_hash if head.entry_hash is not None else GENESIS
    link = link_of(head.ticket, seq, prev, values)
    return {"seq": seq, "prev_hash": prev, "entry_hash": entry_hash(link)}


def _root(row: Any) -> LogRoot:
    return LogRoot(
        day=row.day,
        root=row.root,
        prev_root=row.prev_root,
        chains=row.chains,
        created_at=row.created_at,
    )


@functools.cache
def _insert_root(dialect: str) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    module: Any = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(lr)
        .values({c.name: bindparam(c.name, type_=c.type) for c in lr.c})
        .on_conflict_do_nothing(index_elements=[lr.c.day])
        .returning(lr.c.day)
    )


class SqlLogChainRepository:
    """:class:`~aspirasi_core.services.ports.LogChainRepository`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def chains(self, *, after_message_id: int, limit: int) -> list[StoredChain]:
        found = self._conn.execute(
            select(m.c.id, m.c.ticket)
            .where(m.c.id > after_message_id)
            .order_by(m.c.id)
            .limit(limit)
        ).all()
        if not found:
            return []
        tickets = {row.id: row.ticket for row in found}
        entries: dict[int, list[tuple[int, ChainLink, Any]]] = {i: [] for i in tickets}
        rows = self._conn.execute(
            _STORED.where(lg.c.message_id.in_(list(tickets))).order_by(lg.c.message_id, lg.c.id)
        ).mappings()
        for row in rows:
            link = link_of(tickets[row["message_id"]], row["seq"], row["prev_hash"], dict(row))
            entries[row["message_id"]].append((row["id"], link, row["entry_hash"]))
        return [StoredChain(i, tickets[i], tuple(entries[i])) for i in tickets]

    def day_heads(self, start: datetime, end: datetime) -> list[tuple[str, Any, Any]]:
        rows = self._conn.execute(_DAY_HEADS, {"start": start, "end": end})
        return [(r.ticket, r.seq, r.entry_hash) for r in rows]

    def first_entry_at(self) -> datetime | None:
        value: datetime | None = self._conn.execute(select(func.min(lg.c.at))).scalar()
        return value

    def last_root(self) -> LogRoot | None:
        row = self._conn.execute(select(lr).order_by(lr.c.day.desc()).limit(1)).first()
        return _root(row) if row else None

    def roots(self, *, after: date | None, limit: int) -> list[LogRoot]:
        stmt = select(lr).order_by(lr.c.day).limit(limit)
        if after is not None:
            stmt = stmt.where(lr.c.day > after)
        return [_root(r) for r in self._conn.execute(stmt)]

    def recent_roots(self, limit: int) -> list[LogRoot]:
        stmt = select(lr).order_by(lr.c.day.desc()).limit(limit)
        return [_root(r) for r in self._conn.execute(stmt)]

    def add_root(self, root: LogRoot) -> bool:
        values = {
            "day": root.day,
            "root": root.root,
            "prev_root": root.prev_root,
            "chains": root.chains,
            "created_at": root.created_at,
        }
        return bool(self._conn.execute(_insert_root(self._conn.dialect.name), values).all())

    def find(self, entry_hash: str) -> FoundEntry | None:
        row = self._conn.execute(_FIND, {"entry_hash": entry_hash}).first()
        if row is None:
            return None
        return FoundEntry(
            ticket=row.ticket,
            at=row.at,
            action=row.action,
            seq=row.seq,
            restricted=bool(row.confidential or row.anonymous),
        )

    def entry_hashes(self, message_id: int, actions: Sequence[str]) -> list[str]:
        rows = self._conn.execute(
            select(lg.c.entry_hash)
            .where(
                lg.c.message_id == message_id,
                or_(*(lg.c.action == a for a in actions)),
                lg.c.entry_hash.isnot(None),
            )
            .order_by(lg.c.id)
        ).scalars()
        return list(rows)


__all__ = [
    "SqlLogChainRepository",
    "chain_values",
    "first_chain_values",
    "link_of",
]
