"""The plugin's own tables (SQLAlchemy Core), created by its Alembic branch
``evaluator`` (``migrations/e001_reprimands.py``, ``e003_rollups.py``; keep them in step).

They live in their own ``MetaData``, never in the core's: they refer to the
core's tables by foreign key only. The branch also adds one index to the core's
``message_log`` (:data:`MESSAGE_LOG_INDEX`, ``migrations/e002_message_log_index.py``)
for the report's trend; it is not declared here, so the core's metadata stays
the core's. ``e003`` adds another, partial one (:data:`OPEN_DUE_INDEX`) on
``messages`` for the report's overdue counts.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

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


# ----------------------------------------------------------------------------- roll-ups
# The report's roll-ups (``migrations/e003_rollups.py``; maintained by
# :mod:`aspirasi_evaluator.rollup`). "None" ids are stored as 0 so that every key
# column is NOT NULL (primary keys, upserts). ``grain`` is ``d`` (``period`` =
# the local day's ``date.toordinal()``) or ``m`` (``period`` = year * 12 +
# month - 1); every change is written at both grains.

#: ``messages (due_at, created_at, agency_id, category_id, subcategory_id)`` for
#: the open messages only: the "not (yet) overdue" count of the report.
OPEN_DUE_INDEX = "ix_evaluator_messages_open_due"
#: The partial index's condition, and the query's: SQLite uses a partial index
#: only when the query repeats its condition literally.
OPEN_CONDITION = "status IN ('submitted', 'forwarded', 'in_progress')"

#: One row: the time zone the days of the roll-ups are in, and when they were rebuilt.
rollup_state = Table(
    "evaluator_rollup_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("timezone", String(64), nullable=False),
    Column("rebuilt_at", UTCDateTime, nullable=False),
)

#: What the roll-ups count each message as (its key when it was last counted).
message_facts = Table(
    "evaluator_message_facts",
    metadata,
    Column("message_id", Id, primary_key=True, autoincrement=False),
    Column("day", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("agency_id", Id, nullable=False),
    Column("category_id", Id, nullable=False),
    Column("subcategory_id", Id, nullable=False),
    Column("status", String(16), nullable=False),
)

#: Messages (not withdrawn) by submission day/month, agency, classification, status.
rollup_counts = Table(
    "evaluator_counts",
    metadata,
    Column("grain", String(1), primary_key=True),
    Column("period", Integer, primary_key=True, autoincrement=False),
    Column("agency_id", Id, primary_key=True, autoincrement=False),
    Column("category_id", Id, primary_key=True, autoincrement=False),
    Column("subcategory_id", Id, primary_key=True, autoincrement=False),
    Column("status", String(16), primary_key=True),
    Column("n", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

#: The trend: messages submitted (not withdrawn) by submission day, and ``done``
#: log entries (closed) by the day of the entry.
rollup_totals = Table(
    "evaluator_totals",
    metadata,
    Column("grain", String(1), primary_key=True),
    Column("period", Integer, primary_key=True, autoincrement=False),
    Column("submitted", BigInteger, nullable=False),
    Column("closed", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

#: Ratings by submission day/month and agency: the sum of the stars and their number.
rollup_ratings = Table(
    "evaluator_ratings",
    metadata,
    Column("grain", String(1), primary_key=True),
    Column("period", Integer, primary_key=True, autoincrement=False),
    Column("agency_id", Id, primary_key=True, autoincrement=False),
    Column("stars", BigInteger, nullable=False),
    Column("n", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

#: Durations (``kind`` ``confirm`` or ``close``) by submission day/month and
#: agency, in coarse bins (about 12 % wide; see :mod:`aspirasi_evaluator.rollup`).
rollup_duration_bins = Table(
    "evaluator_duration_bins",
    metadata,
    Column("grain", String(1), primary_key=True),
    Column("period", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(8), primary_key=True),
    Column("agency_id", Id, primary_key=True, autoincrement=False),
    Column("coarse", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

#: The same durations in one-minute bins inside each coarse bin, with the sum of
#: their exact values in microseconds (a bin stands for its mean).
rollup_duration_fine = Table(
    "evaluator_duration_fine",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("coarse", Integer, primary_key=True, autoincrement=False),
    Column("grain", String(1), primary_key=True),
    Column("period", Integer, primary_key=True, autoincrement=False),
    Column("agency_id", Id, primary_key=True, autoincrement=False),
    Column("fine", BigInteger, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
    Column("total_us", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

#: Every roll-up table, in the order :func:`aspirasi_evaluator.rollup.rebuild` fills them.
ROLLUP_TABLES = (
    message_facts,
    rollup_counts,
    rollup_totals,
    rollup_ratings,
    rollup_duration_bins,
    rollup_duration_fine,
)
