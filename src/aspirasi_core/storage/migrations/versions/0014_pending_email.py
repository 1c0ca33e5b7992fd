"""The address an unverified account asked its links to go to (issue 22).

Revision ID: 0014_pending_email
Revises: 0013_location
Create Date: 2026-12-07

* ``accounts.pending_email``: set when the owner of an unverified account corrects
  their address on the waiting page, whether or not another account has it (the
  waiting page and ``/api/v1/me`` show it, so that nobody learns from them that
  an address is taken); it becomes the account's ``email`` when the link mailed
  to it is used, and is emptied then, when the owner erases the account, and
  with the row by the sweep of unverified accounts. NULL for every account
  before this revision. Personal data: never logged.

Adding a nullable column rewrites no row, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_pending_email"
down_revision: str | Sequence[str] | None = "0013_location"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("pending_email", sa.String(254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("pending_email")
