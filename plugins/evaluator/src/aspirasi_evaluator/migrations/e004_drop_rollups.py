"""evaluator: the report reads live aggregates; the roll-ups go.

Drops the roll-up tables of ``e003`` and its partial index
``ix_evaluator_messages_open_due``: the plugin no longer writes anything inside
the core's transactions (its roll-up rows were where concurrent changes
deadlocked on PostgreSQL, issue 19). Adds the indexes the live report reads
through (:data:`aspirasi_evaluator.tables.REPORT_INDEXES`):

- ``ix_evaluator_messages_agency_status_created`` on ``messages (agency_id,
  status, created_at, due_at)`` (on PostgreSQL with ``INCLUDE (id)``, so the
  started messages of a range are read from the index alone): counts and
  overdue counts per agency, status and period;
- ``ix_evaluator_messages_classification`` on ``messages (category_id,
  subcategory_id, status, created_at, due_at)``: the same per sub-category;
- ``ix_evaluator_message_log_message_status_at`` on ``message_log (message_id,
  to_status, at)``: when a message was forwarded, started and replied to (the
  medians).

At 1M messages the revision took 30 s on SQLite and 10 s on PostgreSQL on the
benchmark's (busy) machine; it locks the tables it indexes meanwhile.
Downgrading drops them and creates the roll-up tables again, empty: the code of
``e003``'s time reads the core's tables until its ``rollup.rebuild`` fills them.

Revision ID: e004_evaluator_drop_rollups
Revises: e003_evaluator_rollups
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from aspirasi_evaluator.core_tables import Id, UTCDateTime

revision: str = "e004_evaluator_drop_rollups"
down_revision: str | Sequence[str] | None = "e003_evaluator_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_DUE_INDEX = "ix_evaluator_messages_open_due"
OPEN_CONDITION = "status IN ('submitted', 'forwarded', 'in_progress')"
#: name: (table, columns, PostgreSQL's INCLUDE columns)
INDEXES: dict[str, tuple[str, list[str], list[str]]] = {
    "ix_evaluator_messages_agency_status_created": (
        "messages",
        ["agency_id", "status", "created_at", "due_at"],
        ["id"],
    ),
    "ix_evaluator_messages_classification": (
        "messages",
        ["category_id", "subcategory_id", "status", "created_at", "due_at"],
        [],
    ),
    "ix_evaluator_message_log_message_status_at": (
        "message_log",
        ["message_id", "to_status", "at"],
        [],
    ),
}
#: The roll-up tables of e003: name → (key columns, value columns), all NOT NULL.
ROLLUPS: dict[str, tuple[list[tuple[str, sa.types.TypeEngine]], list[str]]] = {  # type: ignore[type-arg]
    "evaluator_message_facts": (
        [("message_id", Id)],
        ["day", "month", "agency_id", "category_id", "subcategory_id", "status"],
    ),
    "evaluator_counts": (
        [
            ("grain", sa.String(1)),
            ("period", sa.Integer()),
            ("agency_id", Id),
            ("category_id", Id),
            ("subcategory_id", Id),
            ("status", sa.String(16)),
        ],
        ["n"],
    ),
    "evaluator_totals": (
        [("grain", sa.String(1)), ("period", sa.Integer())],
        ["submitted", "closed"],
    ),
    "evaluator_ratings": (
        [("grain", sa.String(1)), ("period", sa.Integer()), ("agency_id", Id)],
        ["stars", "n"],
    ),
    "evaluator_duration_bins": (
        [
            ("grain", sa.String(1)),
            ("period", sa.Integer()),
            ("kind", sa.String(8)),
            ("agency_id", Id),
            ("coarse", sa.Integer()),
        ],
        ["n"],
    ),
    "evaluator_duration_fine": (
        [
            ("kind", sa.String(8)),
            ("coarse", sa.Integer()),
            ("grain", sa.String(1)),
            ("period", sa.Integer()),
            ("agency_id", Id),
            ("fine", sa.BigInteger()),
        ],
        ["n", "total_us"],
    ),
}
#: Column types of the facts' values (the other tables' values are BIGINT).
FACT_TYPES: dict[str, Any] = {
    "day": sa.Integer(),
    "month": sa.Integer(),
    "status": sa.String(16),
    "agency_id": Id,
    "category_id": Id,
    "subcategory_id": Id,
}


def upgrade() -> None:
    op.drop_index(OPEN_DUE_INDEX, table_name="messages")
    for table in (*reversed(ROLLUPS), "evaluator_rollup_state"):
        op.drop_table(table)
    for name, (table, columns, include) in INDEXES.items():
        op.create_index(name, table, columns, postgresql_include=include)


def downgrade() -> None:
    for name, (table, _columns, _include) in INDEXES.items():
        op.drop_index(name, table_name=table)
    op.create_table(
        "evaluator_rollup_state",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("rebuilt_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evaluator_rollup_state"),
    )
    for table, (keys, values) in ROLLUPS.items():
        facts = table == "evaluator_message_facts"
        op.create_table(
            table,
            *(sa.Column(k, t, nullable=False, autoincrement=False) for k, t in keys),
            *(
                sa.Column(v, FACT_TYPES[v] if facts else sa.BigInteger(), nullable=False)
                for v in values
            ),
            sa.PrimaryKeyConstraint(*(k for k, _ in keys), name=f"pk_{table}"),
            sqlite_with_rowid=facts,
        )
    op.create_index(
        OPEN_DUE_INDEX,
        "messages",
        ["due_at", "created_at", "agency_id", "category_id", "subcategory_id"],
        sqlite_where=sa.text(OPEN_CONDITION),
        postgresql_where=sa.text(OPEN_CONDITION),
    )
