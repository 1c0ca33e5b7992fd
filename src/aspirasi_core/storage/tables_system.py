"""The core's tables of accounts' tokens, mail, the outbox, the audit log and
idempotency keys (see :mod:`aspirasi_core.storage.tables`, which exports them too)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)

from .schema_base import fk, metadata, pk
from .types import UTCDateTime

auth_tokens = Table(
    "auth_tokens",
    metadata,
    pk(),
    fk("account_id", "accounts.id", nullable=False, ondelete="CASCADE"),
    Column("purpose", String(32), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("used_at", UTCDateTime, nullable=True),
    Column("auth_version", Integer, nullable=False),
    # Tokens issued by one log-in (a bearer token and the session cookie of the
    # same JSON log-in) share it, so logging out ends them all. Since 0005.
    Column("login_id", String(32), nullable=True),
    Index("ix_auth_tokens_account_id_purpose", "account_id", "purpose"),
    Index("ix_auth_tokens_login_id", "login_id"),
)

#: Mails about registering sent to one address per day (since 0005), keyed by an
#: HMAC of the address (never the address): caps what anyone can make the
#: service send to somebody else's mailbox.
mail_quota = Table(
    "mail_quota",
    metadata,
    Column("address_key", LargeBinary(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("sent", Integer, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    pk(),
    Column("topic", String(100), nullable=False),
    # AES-GCM sealed JSON (Crypto.encrypt_payload); emptied once delivered.
    Column("payload", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("available_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("done_at", UTCDateTime, nullable=True),
    Index("ix_outbox_status_available_at", "status", "available_at"),
)

#: Staff reads of a citizen's personal data and other audited acts (since
#: 0003_audit_anonymous; see ``aspirasi_core.domain.audit``). Append-only: the core
#: never updates a row, and deletes only those older than
#: ``ASPIRASI_AUDIT_RETENTION_DAYS`` (the periodic sweep). Accounts are referenced without blocking their
#: removal (the id becomes NULL). Each filter of the super admin's list walks an
#: index ending in ``id`` (keyset, newest first).
audit_log = Table(
    "audit_log",
    metadata,
    pk(),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    fk("actor_id", "accounts.id", nullable=True, ondelete="SET NULL"),
    fk("subject_account_id", "accounts.id", nullable=True, ondelete="SET NULL"),
    fk("subject_message_id", "messages.id", nullable=True, ondelete="SET NULL"),
    Column("reason", Text, nullable=False, server_default=""),
    Column("client_ip", String(64), nullable=True),
    Column("details", JSON, nullable=False),
    Index("ix_audit_log_actor_id_id", "actor_id", "id"),
    Index("ix_audit_log_action_id", "action", "id"),
    Index("ix_audit_log_subject_account_id_id", "subject_account_id", "id"),
    Index("ix_audit_log_subject_message_id_id", "subject_message_id", "id"),
    Index("ix_audit_log_at", "at"),
)

#: Idempotency keys of the requests that create something (a message, a reply, a
#: rating, a registration, a workflow step): the first answer is kept for 24 hours
#: and given again to a resend with the same key. ``key_hash`` is a keyed digest
#: (HMAC-SHA-256) of who sent it (account, or an anonymous client's fingerprint)
#: and the key; ``request_hash`` that of the request, to refuse the key for another
#: request.
#: A row is ``in_progress`` (claimed by ``claim_token`` until ``locked_until``)
#: until the creating transaction marks it ``done`` with the answer. Since
#: 0007_concurrency.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    pk(),
    Column("key_hash", LargeBinary(32), nullable=False, unique=True),
    fk("account_id", "accounts.id", nullable=True, ondelete="CASCADE"),
    Column("request_hash", LargeBinary(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("claim_token", LargeBinary(16), nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("response_status", Integer, nullable=True),
    Column("response_headers", JSON, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
    Index("ix_idempotency_keys_account_id", "account_id"),
)
