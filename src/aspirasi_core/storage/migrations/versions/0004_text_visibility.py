"""Texts for the sender and texts for the staff; masked public copies of messages.

Revision ID: 0004_text_visibility
Revises: 0003_audit_anonymous
Create Date: 2026-12-06

- ``message_log.note_visibility`` and ``replies.visibility``: ``internal`` (the
  staff with access) or ``sender`` (the citizen too). Existing forwarding notes
  were written for the agency and become internal; every other existing text
  (rejection reasons, confirmation and progress notes, replies) stays visible to
  the sender, as it was.
- ``messages.subject_public`` and ``messages.body_public``: the text as the public
  list, its search and tracking show it, with NIKs, phone numbers and e-mail
  addresses masked (``aspirasi_core.domain.pii``); NULL when nothing was masked.
  Filled here for the existing messages.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aspirasi_core.domain.pii import public_copy

revision: str = "0004_text_visibility"
down_revision: str | Sequence[str] | None = "0003_audit_anonymous"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Messages read and updated per round while filling the public copies.
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("message_log") as batch:
        batch.add_column(
            sa.Column(
                "note_visibility", sa.String(length=16), nullable=False, server_default="internal"
            )
        )
    with op.batch_alter_table("replies") as batch:
        batch.add_column(
            sa.Column("visibility", sa.String(length=16), nullable=False, server_default="internal")
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("subject_public", sa.Text(), nullable=True))
        batch.add_column(sa.Column("body_public", sa.Text(), nullable=True))
    op.execute(
        "UPDATE message_log SET note_visibility = 'sender'"
        " WHERE action NOT IN ('forward', 'reforward')"
    )
    op.execute("UPDATE replies SET visibility = 'sender'")
    _fill_public_copies(op.get_bind())


def _fill_public_copies(conn: sa.Connection) -> None:
    messages = sa.table(
        "messages",
        sa.column("id", sa.BigInteger()),
        sa.column("subject", sa.Text()),
        sa.column("body", sa.Text()),
        sa.column("subject_public", sa.Text()),
        sa.column("body_public", sa.Text()),
    )
    select = (
        sa.select(messages.c.id, messages.c.subject, messages.c.body)
        .where(messages.c.id > sa.bindparam("after"))
        .order_by(messages.c.id)
        .limit(BATCH)
    )
    update = (
        sa.update(messages)
        .where(messages.c.id == sa.bindparam("message_id"))
        .values(subject_public=sa.bindparam("s"), body_public=sa.bindparam("b"))
    )
    after = 0
    while True:
        rows = conn.execute(select, {"after": after}).all()
        if not rows:
            return
        after = rows[-1].id
        changed = []
        for row in rows:
            subject, body = public_copy(row.subject), public_copy(row.body)
            if subject is not None or body is not None:
                changed.append({"message_id": row.id, "s": subject, "b": body})
        if changed:
            conn.execute(update, changed)


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("body_public")
        batch.drop_column("subject_public")
    with op.batch_alter_table("replies") as batch:
        batch.drop_column("visibility")
    with op.batch_alter_table("message_log") as batch:
        batch.drop_column("note_visibility")
