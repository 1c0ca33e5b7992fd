"""evaluator: an index on the core's ``message_log (to_status, at)``.

The report's trend counts the ``done`` log entries in a date range; without
this index that query scans the whole ``message_log`` (the core only indexes
``(message_id, id)``). The index belongs to this branch: the core's own
migrations are not touched, and downgrading the branch drops it again.

Revision ID: e002_evaluator_message_log_index
Revises: e001_evaluator_reprimands
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "e002_evaluator_message_log_index"
down_revision: str | Sequence[str] | None = "e001_evaluator_reprimands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_evaluator_message_log_to_status_at"


def upgrade() -> None:
    op.create_index(INDEX, "message_log", ["to_status", "at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="message_log")
