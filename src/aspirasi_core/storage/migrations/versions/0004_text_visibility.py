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
  addresses masked; NULL when nothing was masked. Filled here for the existing
  messages by a masker frozen in this file (a migration must not change with the
  application): it masks every run of 8 or more digits and every e-mail address,
  more than the application's masker does (dates too), never less. Run
  ``aspirasi privacy recompute-public`` after upgrading to compute the copies with
  the application's current masker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_text_visibility"
down_revision: str | Sequence[str] | None = "0003_audit_anonymous"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Messages read and updated per round while filling the public copies.
BATCH = 1000

#: Frozen with this revision (do not import the application's masker here).
_DIGITS = re.compile(r"(?<![0-9+])\+?[0-9](?:[ .\-]?[0-9]){7,}(?![0-9])")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
    r"\.([A-Za-z]{2,24})(?![A-Za-z0-9\-])"
)


def _masked_digits(found: re.Match[str]) -> str:
    value = found.group(0)
    digits = re.sub(r"[^0-9]", "", value)
    keep_end = 4 if len(digits) == 16 else 3  # a NIK keeps its serial, as the app shows it
    plus = "+" if value.startswith("+") else ""
    return plus + digits[:4] + "*" * max(0, len(digits) - 4 - keep_end) + digits[-keep_end:]


def _public_copy(text: str) -> str | None:
    """``text`` with digit runs and e-mail addresses masked; None when unchanged."""
    masked = _EMAIL.sub(lambda m: m.group(0)[0] + "***@***." + m.group(1), text)
    masked = _DIGITS.sub(_masked_digits, masked)
    return None if masked == text else masked


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
            subject, body = _public_copy(row.subject), _public_copy(row.body)
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
