"""evaluator: reprimands (teguran) and the messages they are about.

Revision ID: e001_evaluator_reprimands
Depends on: 0002_sop (the core's SOP deadlines: ``messages.due_at``)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aspirasi_evaluator.core_tables import Id, UTCDateTime

revision: str = "e001_evaluator_reprimands"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("evaluator",)
depends_on: str | Sequence[str] | None = "0002_sop"


def upgrade() -> None:
    op.create_table(
        "evaluator_reprimands",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("agency_id", Id, nullable=False),
        sa.Column("issued_by", Id, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("acknowledged_by", Id, nullable=True),
        sa.Column("acknowledged_at", UTCDateTime, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_evaluator_reprimands_agency_id_agencies"
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["accounts.id"], name="fk_evaluator_reprimands_issued_by_accounts"
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["accounts.id"],
            name="fk_evaluator_reprimands_acknowledged_by_accounts",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evaluator_reprimands"),
    )
    op.create_index(
        "ix_evaluator_reprimands_agency_id_id", "evaluator_reprimands", ["agency_id", "id"]
    )
    op.create_index(
        "ix_evaluator_reprimands_created_at_agency_id",
        "evaluator_reprimands",
        ["created_at", "agency_id"],
    )
    op.create_table(
        "evaluator_reprimand_messages",
        sa.Column("reprimand_id", Id, nullable=False),
        sa.Column("message_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["reprimand_id"],
            ["evaluator_reprimands.id"],
            name="fk_evaluator_reprimand_messages_reprimand_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_evaluator_reprimand_messages_message_id",
        ),
        sa.PrimaryKeyConstraint(
            "reprimand_id", "message_id", name="pk_evaluator_reprimand_messages"
        ),
    )
    op.create_index(
        "ix_evaluator_reprimand_messages_message_id",
        "evaluator_reprimand_messages",
        ["message_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_evaluator_reprimand_messages_message_id", table_name="evaluator_reprimand_messages"
    )
    op.drop_table("evaluator_reprimand_messages")
    op.drop_index("ix_evaluator_reprimands_created_at_agency_id", table_name="evaluator_reprimands")
    op.drop_index("ix_evaluator_reprimands_agency_id_id", table_name="evaluator_reprimands")
    op.drop_table("evaluator_reprimands")
