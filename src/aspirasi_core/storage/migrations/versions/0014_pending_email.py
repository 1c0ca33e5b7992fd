"""The address an unverified account asked its links to go to, and the ratings
a new one replaced (issue 22).

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

* ``replaced_ratings``: a message reopened by oversight, done again and rated
  anew keeps its earlier rating (stars, comment, when given, when replaced), seen
  by whoever sees the rating; its comment is masked like the current one's when
  the sender erases the account. Empty at first (an earlier rating replaced
  before this revision is gone).

One migration for both (the one id this work had). Adding a nullable column
rewrites no row, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_pending_email"
down_revision: str | Sequence[str] | None = "0013_location"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEX = "ix_replaced_ratings_message_id_id"
#: As in 0001_initial: BIGINT keys, INTEGER on SQLite (the rowid).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("pending_email", sa.String(254), nullable=True))
    op.create_table(
        "replaced_ratings",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column(
            "message_id",
            ID,
            sa.ForeignKey("messages.id", name="fk_replaced_ratings_message_id_messages"),
            nullable=False,
        ),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("replaced_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_replaced_ratings"),
    )
    op.create_index(INDEX, "replaced_ratings", ["message_id", "id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="replaced_ratings")
    op.drop_table("replaced_ratings")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("pending_email")
