"""open311: the API keys of Open311 clients (only their hashes).

Revision ID: o001_api_keys
Depends on: 0001_initial (accounts)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aspirasi_core.plugin_api import Id, UTCDateTime

revision: str = "o001_api_keys"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("open311",)
depends_on: str | Sequence[str] | None = "0001_initial"


def upgrade() -> None:
    op.create_table(
        "open311_api_keys",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("client_name", sa.String(120), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("rate_limit", sa.String(100), nullable=False),
        sa.Column("created_by", Id, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_by", Id, nullable=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_open311_api_keys_account_id_accounts"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["accounts.id"], name="fk_open311_api_keys_created_by_accounts"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["accounts.id"], name="fk_open311_api_keys_revoked_by_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_open311_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_open311_api_keys_key_hash"),
    )


def downgrade() -> None:
    op.drop_table("open311_api_keys")
