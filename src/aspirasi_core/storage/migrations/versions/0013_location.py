"""Where a message happened (issue 23, part 2).

Revision ID: 0013_location
Revises: 0012_sop_kept
Create Date: 2026-12-07

* ``messages.regency_code``, ``district_code``: the Kemendagri codes of the
  regency or city and of its district (``64.72``, ``64.72.06``) the sender chose
  from the regions file (``aspirasi_core.domain.regions``); NULL for a message
  without a location (every message sent before this revision).
* ``messages.latitude``, ``longitude``: WGS84 decimal degrees, both or neither.
* ``ix_messages_regency_code_id``: the staff lists' regency filter, newest first.

Adding nullable columns rewrites no row, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_location"
down_revision: str | Sequence[str] | None = "0012_sop_kept"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_messages_regency_code_id"


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("regency_code", sa.String(16), nullable=True))
        batch.add_column(sa.Column("district_code", sa.String(16), nullable=True))
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
    op.create_index(INDEX, "messages", ["regency_code", "id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="messages")
    with op.batch_alter_table("messages") as batch:
        for column in ("longitude", "latitude", "district_code", "regency_code"):
            batch.drop_column(column)
