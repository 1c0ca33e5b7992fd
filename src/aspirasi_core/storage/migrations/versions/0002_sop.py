"""SOP deadlines: the stage clock on messages, per-sub-category SOP days, days off.

Revision ID: 0002_sop
Revises: 0001_initial
Create Date: 2026-11-28

Open messages get their deadlines from ``aspirasi db upgrade`` right after the
migration (the working-day calendar is application logic, not SQL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_sop"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("subcategories") as batch:
        batch.add_column(sa.Column("sop_confirm_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sop_reply_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("stage_started_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("due_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("overdue_notified_at", TIMESTAMP, nullable=True))
    op.create_index("ix_messages_due_at_id", "messages", ["due_at", "id"])
    op.create_index("ix_messages_agency_id_due_at_id", "messages", ["agency_id", "due_at", "id"])
    op.create_index(
        "ix_messages_overdue_notified_at_due_at", "messages", ["overdue_notified_at", "due_at"]
    )
    # The stage of an existing open message began at its last change at the latest.
    op.execute(
        "UPDATE messages SET stage_started_at = updated_at"
        " WHERE status IN ('submitted', 'forwarded', 'in_progress')"
    )
    op.create_table(
        "days_off",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
            name=op.f("fk_days_off_created_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_days_off")),
        sa.UniqueConstraint("day", name=op.f("uq_days_off_day")),
    )


def downgrade() -> None:
    op.drop_table("days_off")
    op.drop_index("ix_messages_overdue_notified_at_due_at", table_name="messages")
    op.drop_index("ix_messages_agency_id_due_at_id", table_name="messages")
    op.drop_index("ix_messages_due_at_id", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("overdue_notified_at")
        batch.drop_column("due_at")
        batch.drop_column("stage_started_at")
    with op.batch_alter_table("subcategories") as batch:
        batch.drop_column("sop_reply_days")
        batch.drop_column("sop_confirm_days")
