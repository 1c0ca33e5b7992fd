"""The core's tables as SQLAlchemy Core ``Table`` objects (no ORM mapping).

The first migration (``migrations/versions/0001_initial.py``) creates exactly this
schema; a test compares the two with ``alembic.autogenerate.compare_metadata`` on
SQLite and PostgreSQL. Change both together.

Indexes follow the hot paths: every list is keyset-paginated on ``id`` (newest
first), so each filter's columns come first and ``id`` last.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)

from .schema_base import fk, metadata, partial_index, pk
from .tables_system import (  # noqa: F401 - one place to import every table from
    audit_log,
    auth_tokens,
    idempotency_keys,
    mail_quota,
    outbox,
)
from .types import Id, UTCDateTime

agencies = Table(
    "agencies",
    metadata,
    pk(),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true()),
)

categories = Table(
    "categories",
    metadata,
    pk(),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

subcategories = Table(
    "subcategories",
    metadata,
    pk(),
    fk("category_id", "categories.id", nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    # SOP overrides in working days (NULL: the settings' default). Since 0002_sop.
    Column("sop_confirm_days", Integer, nullable=True),
    Column("sop_reply_days", Integer, nullable=True),
    UniqueConstraint("category_id", "code"),
)

accounts = Table(
    "accounts",
    metadata,
    pk(),
    Column("email", String(254), nullable=False, unique=True),
    # Unique among verified accounts only (since 0005_account_privacy): an
    # unverified registration reserves neither its username nor its NIK.
    Column("username", String(64), nullable=False, index=True),
    Column("full_name", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    fk("agency_id", "agencies.id", nullable=True),
    # A JSON list of extra permission names, sorted (see repositories.recipients).
    Column("permissions", Text, nullable=False, server_default="[]"),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("email_verified_at", UTCDateTime, nullable=True),
    Column("language", String(8), nullable=False, server_default="id"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("nik_encrypted", LargeBinary, nullable=True),
    Column("nik_index", LargeBinary(32), nullable=True, index=True),
    Column("nik_masked", String(32), nullable=True),
    Column("auth_version", Integer, nullable=False, server_default=text("1")),
    # When the owner deleted the account (since 0006_data_rights): the row stays,
    # emptied of personal data, so that its messages keep a sender.
    Column("deleted_at", UTCDateTime, nullable=True),
    # A password typed by a super admin, to be changed at the first log-in (since
    # 0009_staff_invitations).
    Column("must_change_password", Boolean, nullable=False, server_default=false()),
    # The address an unverified account asked its links to go to (since
    # 0014_pending_email): it becomes ``email`` when such a link is used.
    Column("pending_email", String(254), nullable=True),
    Index("ix_accounts_role_agency_id_id", "role", "agency_id", "id"),
    partial_index("uq_accounts_username_verified", "username", "email_verified_at IS NOT NULL"),
    partial_index("uq_accounts_nik_index_verified", "nik_index", "email_verified_at IS NOT NULL"),
    # The sweep of unverified accounts.
    partial_index(
        "ix_accounts_unverified_created_at", "created_at", "email_verified_at IS NULL", unique=False
    ),
)

messages = Table(
    "messages",
    metadata,
    pk(),
    Column("ticket", String(32), nullable=False, unique=True),
    fk("author_id", "accounts.id", nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("confidential", Boolean, nullable=False, server_default=false()),
    Column("anonymous", Boolean, nullable=False, server_default=false()),
    fk("category_id", "categories.id", nullable=True),
    fk("subcategory_id", "subcategories.id", nullable=True),
    fk("agency_id", "agencies.id", nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The SOP clock of the current stage (since 0002_sop): when the stage began,
    # when it is due (NULL once final) and when its lateness was announced.
    Column("stage_started_at", UTCDateTime, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),
    Column("overdue_notified_at", UTCDateTime, nullable=True),
    # Subject and body as the public sees them, with personal data masked
    # (domain/pii.py); NULL when there was nothing to mask. Since 0004_text_visibility.
    Column("subject_public", Text, nullable=True),
    Column("body_public", Text, nullable=True),
    # Counts the changes people made (every transition, the rating), so a client can
    # say which state it acted on and lose with 409 when it is stale. Since
    # 0007_concurrency.
    Column("version", Integer, nullable=False, server_default=text("1")),
    # Its milestones (since 0008_milestones), set by the transition that reaches
    # them: last forwarded, started by its agency, final (domain/workflow.py).
    Column("forwarded_at", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    # Whether its agency ended a stage after the stage's deadline since it was
    # last forwarded (since 0012_sop_kept), set by the transition that ends the
    # stage (domain/sop.py, sop_missed_after): a done message without it was
    # completed within the SOP.
    Column("sop_missed", Boolean, nullable=False, server_default=false()),
    # Where it happened (since 0013_location): Kemendagri codes of the regency or
    # city and of the district (domain/regions.py), and WGS84 coordinates.
    Column("regency_code", String(16), nullable=True),
    Column("district_code", String(16), nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Index("ix_messages_author_id_id", "author_id", "id"),
    Index("ix_messages_agency_id_status_id", "agency_id", "status", "id"),
    Index("ix_messages_status_id", "status", "id"),
    Index("ix_messages_confidential_status_id", "confidential", "status", "id"),
    Index("ix_messages_category_id_subcategory_id_id", "category_id", "subcategory_id", "id"),
    Index("ix_messages_created_at", "created_at"),
    # The staff lists' regency filter, newest first.
    Index("ix_messages_regency_code_id", "regency_code", "id"),
    Index("ix_messages_due_at_id", "due_at", "id"),
    Index("ix_messages_agency_id_due_at_id", "agency_id", "due_at", "id"),
    Index("ix_messages_overdue_notified_at_due_at", "overdue_notified_at", "due_at"),
    # Reports on the stages' durations per agency (the evaluator's medians): the
    # messages of an agency, status and date range with their milestones, read
    # from the index alone (with the id: SQLite's indexes hold the rowid anyway,
    # PostgreSQL's hold it as an INCLUDE column).
    Index(
        "ix_messages_agency_id_status_created_at_milestones",
        "agency_id",
        "status",
        "created_at",
        "forwarded_at",
        "started_at",
        "closed_at",
        postgresql_include=["id"],
    ),
    # The messages that missed an SOP deadline, per agency, status and date
    # range (the completed ones a report does not count as within the SOP):
    # partial, so it holds only those rows; with the flag itself as the last
    # column, so a count reads the index alone. The condition is written as
    # SQLAlchemy renders a boolean column in a WHERE on each database, or
    # SQLite's planner does not recognise it.
    Index(
        "ix_messages_sop_missed",
        "agency_id",
        "status",
        "created_at",
        "sop_missed",
        sqlite_where=text("sop_missed = 1"),
        postgresql_where=text("sop_missed"),
    ),
)

#: Extra days off (cuti bersama, local holidays) a super admin adds to the SOP
#: calendar, on top of weekends and the country's public holidays. Since 0002_sop.
days_off = Table(
    "days_off",
    metadata,
    pk(),
    Column("day", Date, nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    fk("created_by", "accounts.id", nullable=True, ondelete="SET NULL"),
    Column("created_at", UTCDateTime, nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    pk(),
    fk("message_id", "messages.id", nullable=False),
    Column("kind", String(16), nullable=False),  # "message" | "reply"
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("storage_key", String(255), nullable=False),
    Column("sha256", String(64), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    # The file was deleted (since 0006_data_rights): when, and why ("retention"
    # after the message was closed, or "account_deleted"); the row stays.
    Column("removed_at", UTCDateTime, nullable=True),
    Column("removed_reason", String(32), nullable=True),
    Index("ix_attachments_message_id_kind", "message_id", "kind"),
    Index("ix_attachments_removed_at_message_id", "removed_at", "message_id"),
)

message_log = Table(
    "message_log",
    metadata,
    pk(),
    fk("message_id", "messages.id", nullable=False),
    fk("actor_id", "accounts.id", nullable=True),
    Column("action", String(32), nullable=False),
    Column("from_status", String(32), nullable=True),
    Column("to_status", String(32), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("at", UTCDateTime, nullable=False),
    fk("agency_id", "agencies.id", nullable=True),
    # Who may read the note: "internal" (staff with access) or "sender" (the
    # citizen too). Since 0004_text_visibility.
    Column("note_visibility", String(16), nullable=False, server_default="internal"),
    # The hash chain of the message's log (since 0011_log_chain; see
    # ``aspirasi_core.domain.log_chain``): its place (from 1), the hash of the entry
    # before it (empty for the first) and its own. NULL only in rows written around
    # the core (a bulk load), which ``aspirasi audit verify`` reports as unchained.
    Column("seq", Integer, nullable=True),
    Column("prev_hash", String(64), nullable=True),
    Column("entry_hash", String(64), nullable=True),
    Index("ix_message_log_message_id_id", "message_id", "id"),
    # One entry per place: two writers appending to one chain cannot fork it.
    Index("uq_message_log_message_id_seq", "message_id", "seq", unique=True),
    # The public page that verifies a hash, and the daily roots (entries of a day).
    Index("ix_message_log_entry_hash", "entry_hash"),
    Index("ix_message_log_at", "at"),
)

#: The daily roots over all chains (since 0011_log_chain): one row per day (in
#: ``ASPIRASI_TIMEZONE``) from the first log entry on, written by the periodic
#: sweep once the day is over, each naming the root before it.
log_roots = Table(
    "log_roots",
    metadata,
    Column("day", Date, primary_key=True),
    Column("root", String(64), nullable=False),
    Column("prev_root", String(64), nullable=False),
    Column("chains", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

replies = Table(
    "replies",
    metadata,
    pk(),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=False, unique=True),
    fk("author_id", "accounts.id", nullable=False),
    Column("answer", Text, nullable=False),
    fk("attachment_id", "attachments.id", nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Who may read the answer and its file, as message_log.note_visibility.
    Column("visibility", String(16), nullable=False, server_default="internal"),
)

ratings = Table(
    "ratings",
    metadata,
    Column("message_id", Id, ForeignKey("messages.id"), primary_key=True, autoincrement=False),
    Column("stars", Integer, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

#: The ratings a new one replaced (a message reopened by oversight, done again and
#: rated anew), oldest first. Since 0014_pending_email.
replaced_ratings = Table(
    "replaced_ratings",
    metadata,
    pk(),
    fk("message_id", "messages.id", nullable=False),
    Column("stars", Integer, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("replaced_at", UTCDateTime, nullable=False),
    Index("ix_replaced_ratings_message_id_id", "message_id", "id"),
)

notifications = Table(
    "notifications",
    metadata,
    pk(),
    fk("account_id", "accounts.id", nullable=False, ondelete="CASCADE"),
    Column("kind", String(64), nullable=False),
    fk("message_id", "messages.id", nullable=True),
    Column("text", Text, nullable=False),
    Column("params", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
    Index("ix_notifications_account_id_read_at_id", "account_id", "read_at", "id"),
    Index("ix_notifications_account_id_id", "account_id", "id"),
)

#: Follow-ups on an open message: the sender and the agency write to each other
#: (``side``: "sender" or "staff"). Since 0010_followups.
message_followups = Table(
    "message_followups",
    metadata,
    pk(),
    fk("message_id", "messages.id", nullable=False),
    fk("author_id", "accounts.id", nullable=True),
    Column("side", String(16), nullable=False),
    fk("agency_id", "agencies.id", nullable=True),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_message_followups_message_id_id", "message_id", "id"),
)

#: Oversight reviews: a rating of 1–2 stars opens one; the admin or an evaluator
#: closes it by reopening the message (``outcome`` "reopened") or dismissing it.
oversight_reviews = Table(
    "oversight_reviews",
    metadata,
    pk(),
    fk("message_id", "messages.id", nullable=False),
    Column("stars", Integer, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    fk("closed_by", "accounts.id", nullable=True),
    Column("outcome", String(16), nullable=True),
    Index("ix_oversight_reviews_closed_at_id", "closed_at", "id"),
    Index("ix_oversight_reviews_message_id", "message_id"),
)
