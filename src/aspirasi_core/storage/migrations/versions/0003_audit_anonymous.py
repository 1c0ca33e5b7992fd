"""The audit log of staff reads of personal data (and other audited acts); the
attachments of anonymous messages lose the file names their senders gave them
(new ones are stored as ``lampiran.jpg`` / ``lampiran.pdf`` from now on).

Revision ID: 0003_audit_anonymous
Revises: 0002_sop
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_audit_anonymous"
down_revision: str | Sequence[str] | None = "0002_sop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("subject_account_id", ID, nullable=True),
        sa.Column("subject_message_id", ID, nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["accounts.id"],
            name=op.f("fk_audit_log_actor_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_account_id"],
            ["accounts.id"],
            name=op.f("fk_audit_log_subject_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_message_id"],
            ["messages.id"],
            name=op.f("fk_audit_log_subject_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_actor_id_id", "audit_log", ["actor_id", "id"])
    op.create_index("ix_audit_log_action_id", "audit_log", ["action", "id"])
    op.create_index("ix_audit_log_subject_account_id_id", "audit_log", ["subject_account_id", "id"])
    op.create_index("ix_audit_log_subject_message_id_id", "audit_log", ["subject_message_id", "id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    # A file name often names its owner ("KTP Budi Santoso.jpg").
    for content_type, name in (("image/jpeg", "lampiran.jpg"), ("application/pdf", "lampiran.pdf")):
        op.execute(
            sa.text(
                "UPDATE attachments SET filename = :name"
                " WHERE kind = 'message' AND content_type = :content_type"
                " AND message_id IN (SELECT id FROM messages WHERE anonymous = :yes)"
            ).bindparams(name=name, content_type=content_type, yes=True)
        )


def downgrade() -> None:
    # The old file names are gone for good.
    op.drop_table("audit_log")
