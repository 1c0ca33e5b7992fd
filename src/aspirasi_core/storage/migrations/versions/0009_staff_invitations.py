"""Staff invitations and the forced first password change.

Revision ID: 0009_staff_invitations
Revises: 0011_log_chain
Create Date: 2026-12-07

* ``accounts.must_change_password``: the password was typed by a super admin;
  its owner must choose their own at the first log-in before doing anything else.
  Existing accounts keep working as they do (false).

The invitation link itself is an ``auth_tokens`` row of purpose
``staff_invitation`` (hashed, single-use, expiring), like a reset link: no
new table.

It was assigned ``0008_milestones`` as its parent; ``0011_log_chain`` reached
main first from that same parent, so this one follows it (one head, as the
core's migrations keep; ids are names, not an order).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_staff_invitations"
down_revision: str | Sequence[str] | None = "0011_log_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("must_change_password")
