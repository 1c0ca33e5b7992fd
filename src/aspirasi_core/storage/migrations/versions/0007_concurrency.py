"""Concurrency: a version on messages and the idempotency keys.

Revision ID: 0007_concurrency
Revises: 0006_data_rights
Create Date: 2026-12-07

``messages.version`` counts the changes people make to a message (transitions and
the rating); existing messages start at 1. ``idempotency_keys`` keeps the first
answer to a request sent with an ``Idempotency-Key`` for 24 hours.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_concurrency"
down_revision: str | Sequence[str] | None = "0006_data_rights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("account_id", ID, nullable=True),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claim_token", sa.LargeBinary(length=16), nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_idempotency_keys_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_idempotency_keys_key_hash")),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    op.create_index("ix_idempotency_keys_account_id", "idempotency_keys", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_account_id", table_name="idempotency_keys")
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("version")
