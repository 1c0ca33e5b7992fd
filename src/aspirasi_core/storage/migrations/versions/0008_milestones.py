"""Milestones on messages: when each was last forwarded, started and closed.

Revision ID: 0008_milestones
Revises: 0005_account_privacy
Create Date: 2026-12-07

* ``messages.forwarded_at``, ``started_at``, ``closed_at``: set by the transition
  that reaches them, in the same write (:func:`aspirasi_core.domain.workflow.milestones`),
  so a report on how long each stage took reads the message row instead of its
  log (issue 21: the evaluator's medians).
* Existing messages get them from ``message_log``, one set-based ``UPDATE`` per
  column: the last ``forward``/``reforward``, the first ``start``, the entry into
  a final status.
* ``ix_messages_agency_id_status_created_at_milestones``: the messages of an
  agency, status and date range with their milestones (and, on PostgreSQL, the
  id as an ``INCLUDE`` column), from the index alone.

At 1M messages the backfill reads ~3.4M log entries once per column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_milestones"
down_revision: str | Sequence[str] | None = "0005_account_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
INDEX = "ix_messages_agency_id_status_created_at_milestones"
#: column → (aggregate over the log, the log entries that set it, the statuses
#: a message with it can have)
BACKFILL: dict[str, tuple[str, str, str]] = {
    "forwarded_at": (
        "max",
        "action IN ('forward', 'reforward')",
        "'forwarded', 'in_progress', 'done'",
    ),
    "started_at": ("min", "action = 'start'", "'in_progress', 'done'"),
    "closed_at": (
        "max",
        "to_status IN ('done', 'rejected', 'withdrawn')",
        "'done', 'rejected', 'withdrawn'",
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        for column in BACKFILL:
            batch.add_column(sa.Column(column, TIMESTAMP, nullable=True))
    for column, (aggregate, entries, statuses) in BACKFILL.items():
        op.execute(
            f"UPDATE messages SET {column} = ("  # noqa: S608 (constants above)
            f"SELECT {aggregate}(message_log.at) FROM message_log "
            f"WHERE message_log.message_id = messages.id AND message_log.{entries}"
            f") WHERE messages.status IN ({statuses})"
        )
    op.create_index(
        INDEX,
        "messages",
        ["agency_id", "status", "created_at", "forwarded_at", "started_at", "closed_at"],
        postgresql_include=["id"],
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="messages")
    with op.batch_alter_table("messages") as batch:
        for column in reversed(list(BACKFILL)):
            batch.drop_column(column)
