"""evaluator: reprimands name their reason and escalate (issue 22).

Revision ID: e006_escalation
Revises: e004_evaluator_drop_rollups

* ``evaluator_reprimands.reason``: why (``overdue``, ``not_followed_up``,
  ``poor_answer``, ``other``); existing reprimands were all about overdue
  messages.
* ``evaluator_reprimands.level``: the escalation when it was issued (1 first
  notice, 2 warning, 3 report to the governor's office), from the agency's
  reprimands of the period before it; existing ones stay first notices.
* ``evaluator_reprimand_messages.overdue``: whether each message was past its
  SOP deadline when the reprimand was issued (a reprimand may now name any open
  message); existing rows were all overdue.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e006_escalation"
down_revision: str | Sequence[str] | None = "e004_evaluator_drop_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evaluator_reprimands") as batch:
        batch.add_column(
            sa.Column("reason", sa.String(32), nullable=False, server_default="overdue")
        )
        batch.add_column(sa.Column("level", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("evaluator_reprimand_messages") as batch:
        batch.add_column(
            sa.Column("overdue", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluator_reprimand_messages") as batch:
        batch.drop_column("overdue")
    with op.batch_alter_table("evaluator_reprimands") as batch:
        batch.drop_column("level")
        batch.drop_column("reason")
