"""evaluator: the report's roll-up tables (dropped again by ``e004``).

Creates ``evaluator_rollup_state``, ``evaluator_message_facts``,
``evaluator_counts``, ``evaluator_totals``, ``evaluator_ratings``,
``evaluator_duration_bins``, ``evaluator_duration_fine`` and the partial index
``ix_evaluator_messages_open_due`` on the core's ``messages`` (open messages
only), which the plugin's ``aspirasi_in_transaction`` kept in step with every
change until ``e004_evaluator_drop_rollups`` replaced them with live
aggregates. It used to back-fill them from the core's rows with the roll-up
code; that code is gone, and the next revision drops the tables anyway, so the
tables are created empty.

Revision ID: e003_evaluator_rollups
Revises: e002_evaluator_message_log_index
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from aspirasi_evaluator.core_tables import Id, UTCDateTime

revision: str = "e003_evaluator_rollups"
down_revision: str | Sequence[str] | None = "e002_evaluator_message_log_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_DUE_INDEX = "ix_evaluator_messages_open_due"
OPEN_CONDITION = "status IN ('submitted', 'forwarded', 'in_progress')"


def _key(name: str, type_: Any) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, type_, nullable=False)


def upgrade() -> None:
    op.create_table(
        "evaluator_rollup_state",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("rebuilt_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evaluator_rollup_state"),
    )
    op.create_table(
        "evaluator_message_facts",
        sa.Column("message_id", Id, nullable=False, autoincrement=False),
        _key("day", sa.Integer),
        _key("month", sa.Integer),
        _key("agency_id", Id),
        _key("category_id", Id),
        _key("subcategory_id", Id),
        _key("status", sa.String(16)),
        sa.PrimaryKeyConstraint("message_id", name="pk_evaluator_message_facts"),
    )
    op.create_table(
        "evaluator_counts",
        _key("grain", sa.String(1)),
        _key("period", sa.Integer),
        _key("agency_id", Id),
        _key("category_id", Id),
        _key("subcategory_id", Id),
        _key("status", sa.String(16)),
        _key("n", sa.BigInteger),
        sa.PrimaryKeyConstraint(
            "grain",
            "period",
            "agency_id",
            "category_id",
            "subcategory_id",
            "status",
            name="pk_evaluator_counts",
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "evaluator_totals",
        _key("grain", sa.String(1)),
        _key("period", sa.Integer),
        _key("submitted", sa.BigInteger),
        _key("closed", sa.BigInteger),
        sa.PrimaryKeyConstraint("grain", "period", name="pk_evaluator_totals"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "evaluator_ratings",
        _key("grain", sa.String(1)),
        _key("period", sa.Integer),
        _key("agency_id", Id),
        _key("stars", sa.BigInteger),
        _key("n", sa.BigInteger),
        sa.PrimaryKeyConstraint("grain", "period", "agency_id", name="pk_evaluator_ratings"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "evaluator_duration_bins",
        _key("grain", sa.String(1)),
        _key("period", sa.Integer),
        _key("kind", sa.String(8)),
        _key("agency_id", Id),
        _key("coarse", sa.Integer),
        _key("n", sa.BigInteger),
        sa.PrimaryKeyConstraint(
            "grain", "period", "kind", "agency_id", "coarse", name="pk_evaluator_duration_bins"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "evaluator_duration_fine",
        _key("kind", sa.String(8)),
        _key("coarse", sa.Integer),
        _key("grain", sa.String(1)),
        _key("period", sa.Integer),
        _key("agency_id", Id),
        _key("fine", sa.BigInteger),
        _key("n", sa.BigInteger),
        _key("total_us", sa.BigInteger),
        sa.PrimaryKeyConstraint(
            "kind",
            "coarse",
            "grain",
            "period",
            "agency_id",
            "fine",
            name="pk_evaluator_duration_fine",
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        OPEN_DUE_INDEX,
        "messages",
        ["due_at", "created_at", "agency_id", "category_id", "subcategory_id"],
        sqlite_where=sa.text(OPEN_CONDITION),
        postgresql_where=sa.text(OPEN_CONDITION),
    )


def downgrade() -> None:
    op.drop_index(OPEN_DUE_INDEX, table_name="messages")
    for table in (
        "evaluator_duration_fine",
        "evaluator_duration_bins",
        "evaluator_ratings",
        "evaluator_totals",
        "evaluator_counts",
        "evaluator_message_facts",
        "evaluator_rollup_state",
    ):
        op.drop_table(table)
