"""The plugin's own tables (SQLAlchemy Core), created by its Alembic branch
``evaluator`` (``migrations/e001_reprimands.py``; keep both in step).

They live in their own ``MetaData``, never in the core's: they refer to the
core's tables by foreign key only. The branch also adds one index to the core's
``message_log`` (:data:`MESSAGE_LOG_INDEX`, ``migrations/e002_message_log_index.py``)
for the report's trend; it is not declared here, so the core's metadata stays
the core's.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, MetaData, Table, Text

from aspirasi_core.storage.tables import NAMING_CONVENTION, accounts, agencies, messages
from aspirasi_core.storage.types import Id, UTCDateTime

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: ``message_log (to_status, at)``: the trend's "closed" count by range.
MESSAGE_LOG_INDEX = "ix_evaluator_message_log_to_status_at"

#: A reprimand (teguran) issued by an evaluator to one agency.
reprimands = Table(
    "evaluator_reprimands",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("agency_id", Id, ForeignKey(agencies.c.id), nullable=False),
    Column("issued_by", Id, ForeignKey(accounts.c.id), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("acknowledged_by", Id, ForeignKey(accounts.c.id), nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("response", Text, nullable=True),
    Index("ix_evaluator_reprimands_agency_id_id", "agency_id", "id"),
    Index("ix_evaluator_reprimands_created_at_agency_id", "created_at", "agency_id"),
)

#: The overdue messages a reprimand is about.
reprimand_messages = Table(
    "evaluator_reprimand_messages",
    metadata,
    Column(
        "reprimand_id",
        Id,
        ForeignKey(
            reprimands.c.id,
            ondelete="CASCADE",
            # explicit: the convention's name is longer than PostgreSQL's 63 characters
            name="fk_evaluator_reprimand_messages_reprimand_id",
        ),
        primary_key=True,
        autoincrement=False,
    ),
    Column(
        "message_id",
        Id,
        ForeignKey(messages.c.id, name="fk_evaluator_reprimand_messages_message_id"),
        primary_key=True,
        autoincrement=False,
    ),
    Index("ix_evaluator_reprimand_messages_message_id", "message_id"),
)
