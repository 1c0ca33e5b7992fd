"""Rights of the data subject: deleted accounts, removed attachments.

Revision ID: 0006_data_rights
Revises: 0004_text_visibility
Create Date: 2026-12-06

``accounts.deleted_at``: when the owner deleted the account (the row stays,
emptied of personal data, so their messages keep their sender). On attachments,
``removed_at`` and ``removed_reason`` (``retention`` or ``account_deleted``): the
file is gone, the row tells the pages what to show instead of a link. The index
lets the retention sweep walk the attachments still stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_data_rights"
down_revision: str | Sequence[str] | None = "0004_text_visibility"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("deleted_at", TIMESTAMP, nullable=True))
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("removed_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("removed_reason", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_attachments_removed_at_message_id", "attachments", ["removed_at", "message_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_attachments_removed_at_message_id", table_name="attachments")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("removed_reason")
        batch.drop_column("removed_at")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("deleted_at")
