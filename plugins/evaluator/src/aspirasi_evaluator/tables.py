"""The plugin's own tables (SQLAlchemy Core), created by its Alembic branch
``evaluator`` (``migrations/e001_reprimands.py``; keep them in step).

They live in their own ``MetaData``, never in the core's: they refer to the
core's tables by foreign key only (:mod:`aspirasi_evaluator.core_tables`). The
branch also adds indexes to the core's ``messages`` and ``message_log`` for the
report (:data:`REPORT_INDEXES`, ``migrations/e002_message_log_index.py`` and
``e004_drop_rollups.py``); they are not declared here, so the core's metadata
stays the core's.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    true,
)

from .core_tables import Id, UTCDateTime, accounts, agencies, messages

#: The core's constraint and index names, for the plugin's tables too.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: ``message_log (to_status, at)``: the trend's "closed" count by period.
MESSAGE_LOG_INDEX = "ix_evaluator_message_log_to_status_at"
#: ``messages (agency_id, status, created_at, due_at)``: counts and overdue
#: counts per agency, status and period; the started messages of a range.
AGENCY_INDEX = "ix_evaluator_messages_agency_status_created"
#: ``messages (category_id, subcategory_id, status, created_at, due_at)``:
#: counts and overdue counts per sub-category and status.
CLASSIFICATION_INDEX = "ix_evaluator_messages_classification"
#: ``message_log (message_id, to_status, at)``: when a message was forwarded,
#: started and replied to. The medians read the core's milestones on the
#: message row since ``0008_milestones``; the index stays (dropping it needs a
#: revision of this branch) and serves look-ups of a message's log by status.
STAGES_INDEX = "ix_evaluator_message_log_message_status_at"
#: The indexes the branch keeps on the core's tables: (table, columns) by name.
REPORT_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    MESSAGE_LOG_INDEX: ("message_log", ("to_status", "at")),
    AGENCY_INDEX: ("messages", ("agency_id", "status", "created_at", "due_at")),
    CLASSIFICATION_INDEX: (
        "messages",
        ("category_id", "subcategory_id", "status", "created_at", "due_at"),
    ),
    STAGES_INDEX: ("message_log", ("message_id", "to_status", "at")),
}

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
    # Why (a code of reprimands.REASONS) and the escalation level (1 first
    # notice, 2 warning, 3 report to the governor's office). Since e006_escalation.
    Column("reason", String(32), nullable=False, server_default="overdue"),
    Column("level", Integer, nullable=False, server_default="1"),
    Index("ix_evaluator_reprimands_agency_id_id", "agency_id", "id"),
    Index("ix_evaluator_reprimands_created_at_agency_id", "created_at", "agency_id"),
)

#: The open messages a reprimand is about; ``overdue``: past their SOP deadline
#: when it was issued (every message of a reprimand before e006_escalation was).
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
    Column("overdue", Boolean, nullable=False, server_default=true()),
    Index("ix_evaluator_reprimand_messages_message_id", "message_id"),
)
