"""open311: what a POST requests carried beyond the message, and its token.

Revision ID: o002_requests
Revises: o001_api_keys
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aspirasi_core.plugin_api import Id, UTCDateTime

revision: str = "o002_requests"
down_revision: str | Sequence[str] | None = "o001_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open311_requests",
        sa.Column("message_id", Id, nullable=False),
        sa.Column("api_key_id", Id, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("service_code", Id, nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("long", sa.Float, nullable=True),
        sa.Column("address_string", sa.Text, nullable=True),
        sa.Column("media_url", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_open311_requests_message_id_messages"
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["open311_api_keys.id"],
            name="fk_open311_requests_api_key_id_open311_api_keys",
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_open311_requests"),
        sa.UniqueConstraint("token", name="uq_open311_requests_token"),
    )
    op.create_index("ix_open311_requests_api_key_id", "open311_requests", ["api_key_id"])


def downgrade() -> None:
    op.drop_index("ix_open311_requests_api_key_id", table_name="open311_requests")
    op.drop_table("open311_requests")
