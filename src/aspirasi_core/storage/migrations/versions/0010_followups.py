"""Follow-ups on open messages and oversight reviews of poorly rated ones (issue 22).

Revision ID: 0010_followups
Revises: 0009_staff_invitations
Create Date: 2026-12-07

* ``message_followups``: what the sender and the agency write to each other while
  a message is open (``side``: "sender" or "staff"; ``agency_id``: the agency a
  staff follow-up speaks for), read per message in ``id`` order.
* ``oversight_reviews``: opened by a rating of 1–2 stars, closed by the admin or
  an evaluator (``outcome``: "reopened" or "dismissed"); the open ones are listed
  newest first (``closed_at IS NULL`` then ``id``).

The new workflow actions (``return``, ``reopen``) need no schema change:
``messages.status`` and ``message_log.action`` are plain strings.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_followups"
down_revision: str | Sequence[str] | None = "0009_staff_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As in 0001_initial: BIGINT keys, INTEGER on SQLite (the rowid).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, *, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        ID,
        sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "message_followups",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _fk("message_followups", "message_id", "messages", nullable=False),
        _fk("message_followups", "author_id", "accounts", nullable=True),
        sa.Column("side", sa.String(16), nullable=False),
        _fk("message_followups", "agency_id", "agencies", nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_followups"),
    )
    op.create_index("ix_message_followups_message_id_id", "message_followups", ["message_id", "id"])
    op.create_table(
        "oversight_reviews",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _fk("oversight_reviews", "message_id", "messages", nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        _fk("oversight_reviews", "closed_by", "accounts", nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_oversight_reviews"),
    )
    op.create_index("ix_oversight_reviews_closed_at_id", "oversight_reviews", ["closed_at", "id"])
    op.create_index("ix_oversight_reviews_message_id", "oversight_reviews", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_oversight_reviews_message_id", table_name="oversight_reviews")
    op.drop_index("ix_oversight_reviews_closed_at_id", table_name="oversight_reviews")
    op.drop_table("oversight_reviews")
    op.drop_index("ix_message_followups_message_id_id", table_name="message_followups")
    op.drop_table("message_followups")
