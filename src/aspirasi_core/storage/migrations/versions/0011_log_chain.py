"""The tamper-evident record: hash-chained message logs and daily roots.

Revision ID: 0011_log_chain
Revises: 0008_milestones
Create Date: 2026-12-07

* ``message_log.seq``, ``prev_hash``, ``entry_hash``: each message's log becomes a
  hash chain (:mod:`aspirasi_core.domain.log_chain`); a unique index on
  ``(message_id, seq)`` keeps two writers from forking a chain; an index on
  ``entry_hash`` serves the public page that verifies a hash, one on ``at`` the
  entries of a day (the daily roots).
* ``log_roots``: the daily roots, written by the periodic sweep.
* Existing entries are chained here, a batch of messages at a time (their
  entries in id order), with version 1 of the serialisation the core writes,
  frozen here (a migration never imports the application; a test checks that
  both give the same hashes). The daily roots of past days are written by the
  sweep afterwards.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011_log_chain"
down_revision: str | Sequence[str] | None = "0008_milestones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Messages whose entries are chained per statement batch.
BATCH = 1000

GENESIS = ""


def entry_hash(ticket: str, seq: int, prev: str, row: Any) -> str:
    """Version 1 of ``aspirasi_core.domain.log_chain.entry_hash``, frozen."""
    at: datetime = row.at
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    content = {
        "v": 1,
        "ticket": ticket,
        "seq": seq,
        "prev": prev,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": row.actor_id,
        "action": row.action,
        "from": row.from_status,
        "to": row.to_status,
        "note": row.note,
        "note_visibility": row.note_visibility,
        "agency": row.agency_id,
    }
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


_messages = sa.table("messages", sa.column("id", sa.Integer), sa.column("ticket", sa.String))
_log = sa.table(
    "message_log",
    *(sa.column(name, sa.Integer) for name in ("id", "message_id", "actor_id", "agency_id", "seq")),
    *(
        sa.column(name, sa.String)
        for name in (
            "action",
            "from_status",
            "to_status",
            "note",
            "note_visibility",
            "prev_hash",
            "entry_hash",
        )
    ),
    sa.column("at", sa.DateTime(timezone=True)),
)


def _chain_existing(conn: sa.Connection) -> None:
    after = 0
    update = (
        sa.update(_log)
        .where(_log.c.id == sa.bindparam("entry_id"))
        .values(
            seq=sa.bindparam("new_seq"),
            prev_hash=sa.bindparam("new_prev"),
            entry_hash=sa.bindparam("new_hash"),
        )
    )
    while True:
        batch = conn.execute(
            sa.select(_messages.c.id, _messages.c.ticket)
            .where(_messages.c.id > after)
            .order_by(_messages.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        tickets = {row.id: row.ticket for row in batch}
        rows = conn.execute(
            sa.select(_log)
            .where(_log.c.message_id.in_(list(tickets)))
            .order_by(_log.c.message_id, _log.c.id)
        ).all()
        changes = []
        current, seq, prev = None, 0, GENESIS
        for row in rows:
            if row.message_id != current:
                current, seq, prev = row.message_id, 0, GENESIS
            seq += 1
            digest = entry_hash(tickets[row.message_id], seq, prev, row)
            changes.append(
                {"entry_id": row.id, "new_seq": seq, "new_prev": prev, "new_hash": digest}
            )
            prev = digest
        if changes:
            conn.execute(update, changes)
        after = batch[-1].id


def upgrade() -> None:
    with op.batch_alter_table("message_log") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("entry_hash", sa.String(64), nullable=True))
    _chain_existing(op.get_bind())
    op.create_index(
        "uq_message_log_message_id_seq", "message_log", ["message_id", "seq"], unique=True
    )
    op.create_index("ix_message_log_entry_hash", "message_log", ["entry_hash"])
    op.create_index("ix_message_log_at", "message_log", ["at"])
    op.create_table(
        "log_roots",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("prev_root", sa.String(64), nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_log_roots")),
    )


def downgrade() -> None:
    op.drop_table("log_roots")
    op.drop_index("ix_message_log_at", table_name="message_log")
    op.drop_index("ix_message_log_entry_hash", table_name="message_log")
    op.drop_index("uq_message_log_message_id_seq", table_name="message_log")
    with op.batch_alter_table("message_log") as batch:
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
