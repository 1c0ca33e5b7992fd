"""The ports the use cases depend on: small Protocols, no concrete database.

``aspirasi_core.storage`` implements them with SQLAlchemy Core on SQLite and
PostgreSQL. Every repository method is synchronous and runs inside one
transaction opened by :meth:`Database.transaction`, which executes the whole
transaction script in a worker thread so the event loop never waits on the
database or on a lock.

Lists use keyset pagination on the message id (newest first): callers pass
``before_id`` (exclusive) and ``limit``; repositories return up to ``limit``
rows and the services ask for one more to know whether a next page exists.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

import attrs

from ..domain.audit import AuditEntry
from ..domain.model import (
    Account,
    Agency,
    Attachment,
    Category,
    DayOff,
    LogEntry,
    Message,
    Notification,
    Rating,
    Reply,
    Status,
    Subcategory,
    Visibility,
)
from ..domain.policy import MessageScope

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class PasswordHashing(Protocol):
    """Password hashes (:class:`aspirasi_core.security.passwords.PasswordHasher`:
    argon2id); the ``_async`` forms run off the event loop."""

    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with None, burns the same time and says False."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...
    async def hash_async(self, password: str) -> str: ...
    async def verify_async(self, password_hash: str | None, password: str) -> bool: ...


class KeyedCrypto(Protocol):
    """Keyed indexes and encryption with the installation's secret
    (:class:`aspirasi_core.security.crypto.Crypto`)."""

    def nik_index(self, nik: str) -> bytes:
        """A keyed index of a NIK (looked up, never reversed)."""
        ...

    def encrypt_nik(self, nik: str) -> bytes: ...
    def decrypt_nik(self, blob: bytes) -> str: ...
    def address_index(self, email: str) -> bytes: ...
    def device_mac(self, data: str) -> bytes: ...
    def encrypt_payload(self, payload: Mapping[str, Any]) -> bytes: ...
    def decrypt_payload(self, blob: bytes) -> dict[str, Any]: ...
    def idempotency_digest(self, data: bytes) -> bytes: ...


# --------------------------------------------------------------------------- values


@attrs.frozen
class NewAccount:
    email: str
    username: str
    full_name: str
    role: str
    password_hash: str = attrs.field(repr=False)
    created_at: datetime
    language: str = "id"
    agency_id: int | None = None
    permissions: frozenset[str] = frozenset()
    email_verified_at: datetime | None = None
    nik_encrypted: bytes | None = attrs.field(default=None, repr=False)
    nik_index: bytes | None = attrs.field(default=None, repr=False)
    nik_masked: str | None = None


@attrs.frozen
class TokenRecord:
    """A stored token (only its hash is stored)."""

    account_id: int
    purpose: str
    created_at: datetime
    expires_at: datetime
    auth_version: int
    last_used_at: datetime | None = None
    used_at: datetime | None = None


@attrs.frozen
class NewMessage:
    ticket: str
    author_id: int
    subject: str
    body: str
    confidential: bool
    anonymous: bool
    created_at: datetime
    status: Status = Status.SUBMITTED
    #: The SOP deadline of the first stage (triage).
    due_at: datetime | None = None


@attrs.frozen
class NewAttachment:
    message_id: int
    kind: str
    filename: str
    content_type: str
    size: int
    storage_key: str
    sha256: str
    created_at: datetime


@attrs.frozen
class BackofficeFilter:
    """Filters of the back-office list. ``restrict_agency_id`` and ``scopes`` are
    access rules set by the service, not by the user: when ``scopes`` is not
    None a message must match at least one of them."""

    statuses: frozenset[Status] | None = None
    agency_id: int | None = None
    category_id: int | None = None
    subcategory_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    restrict_agency_id: int | None = None
    scopes: tuple[MessageScope, ...] | None = None
    #: Only messages whose SOP deadline is at or before this instant (overdue ones
    #: when it is "now"; final messages have no deadline).
    due_before: datetime | None = None


@attrs.frozen
class PublicMessage:
    """A message as anyone may see it: nothing about its sender, and subject and
    body with personal data masked (:mod:`aspirasi_core.domain.pii`)."""

    id: int
    ticket: str
    subject: str
    body: str
    status: Status
    created_at: datetime
    category_id: int | None
    agency_id: int | None


@attrs.frozen
class TrackedLogEntry:
    """A dated status step; tracking shows no text the staff wrote."""

    at: datetime
    from_status: Status | None
    to_status: Status


@attrs.frozen
class TrackedMessage:
    """A message as public tracking by NIK shows it: the minimum. Confidential
    and anonymous messages are never tracked."""

    ticket: str
    created_at: datetime
    status: Status
    #: Only for a message on the public list, masked as the list shows it.
    subject: str | None
    log: tuple[TrackedLogEntry, ...]
    #: The SOP deadline of the current stage: by when the next step is expected
    #: (None once the message is final).
    due_at: datetime | None = None


@attrs.frozen
class NewAuditEntry:
    """An audit entry to write (see :class:`~aspirasi_core.domain.audit.AuditEntry`)."""

    at: datetime
    action: str
    actor_id: int | None
    subject_account_id: int | None = None
    subject_message_id: int | None = None
    reason: str = ""
    client_ip: str | None = None
    details: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class AuditFilter:
    """Filters of the audit log (all optional, ANDed): who acted, what, on whom
    or which message, and when (``at_from`` inclusive, ``at_to`` exclusive)."""

    actor_id: int | None = None
    action: str | None = None
    subject_account_id: int | None = None
    subject_message_id: int | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None


@attrs.frozen
class OutboxItem:
    """A side effect waiting to be delivered (an e-mail, a webhook call)."""

    id: int
    topic: str
    payload: Mapping[str, Any] = attrs.field(repr=False)
    attempts: int
    status: str  # pending | sending | done | dead
    created_at: datetime
    available_at: datetime
    last_error: str | None = None


@attrs.frozen
class NewIdempotencyClaim:
    """A claim on an idempotency key: who sent it, the request's digest, and the
    random token that owns the key until ``locked_until``."""

    account_id: int | None
    request_hash: bytes = attrs.field(repr=False)
    claim_token: bytes = attrs.field(repr=False)
    created_at: datetime
    locked_until: datetime
    expires_at: datetime


@attrs.frozen
class IdempotencyRecord:
    """A stored idempotency key (see :class:`IdempotencyRepository`)."""

    id: int
    account_id: int | None
    request_hash: bytes = attrs.field(repr=False)
    #: ``in_progress`` (claimed until ``locked_until``) or ``done`` (with the answer).
    status: str
    claim_token: bytes = attrs.field(repr=False)
    locked_until: datetime | None
    response_status: int | None
    response_headers: Mapping[str, str]
    response_body: bytes | None = attrs.field(repr=False)
    created_at: datetime
    expires_at: datetime


# --------------------------------------------------------------------------- repositories


class AccountRepository(Protocol):
    def add(self, new: NewAccount) -> Account:
        """Insert; raises ``Conflict`` (code ``duplicate``) if a unique field clashes."""

    def get(self, account_id: int) -> Account | None: ...

    def find_by_login(self, login: str) -> Account | None:
        """By lower-cased username or e-mail. A username only unverified accounts
        share names the oldest of them; one a verified account holds names it."""

    def find_by_email(self, email: str) -> Account | None: ...

    def clashes(
        self,
        *,
        email: str | None = None,
        username: str | None = None,
        nik_index: bytes | None = None,
        exclude_id: int | None = None,
    ) -> set[str]:
        """Names of the given fields (``email``, ``username``, ``nik``) already taken:
        an e-mail by any account, a username or a NIK by a verified account (an
        unverified registration reserves neither)."""

    def update(self, account_id: int, **fields: Any) -> Account:
        """Change columns: email, username, full_name, language, password_hash,
        email_verified_at, role, agency_id, permissions, is_active."""

    def rehash_password(
        self, account_id: int, *, old_hash: str, new_hash: str, auth_version: int
    ) -> bool:
        """Replace the password hash ``old_hash`` by ``new_hash`` (the same password,
        hashed with today's parameters), only if the account is active and still has
        ``old_hash`` and ``auth_version``; whether it did. One conditional UPDATE:
        it waits for a concurrent password change and then leaves its hash alone."""

    def anonymise(self, account_id: int, *, auth_version: int, now: datetime) -> bool:
        """Empty the account of personal data (its owner deleted it): placeholder
        e-mail and username (``deleted:<id>``, which no real one can be), no name,
        NIK, password or permissions, inactive, ``deleted_at`` = ``now``, a new auth
        version. Only if it is active, not deleted and still has ``auth_version``
        (its password did not change since it was checked); whether it did."""

    def bump_auth_version(self, account_id: int) -> int:
        """Increment and return the account's auth version (kills older sessions)."""

    def ids_by_nik_index(self, nik_index: bytes) -> builtins.list[int]: ...

    def verified_by_nik_index(self, nik_index: bytes) -> Account | None:
        """The verified account holding the NIK (at most one can), or None."""

    def delete_unverified(self, *, created_before: datetime, limit: int) -> int:
        """Remove up to ``limit`` citizen accounts still unverified that registered
        before ``created_before`` (and their tokens and notifications); how many."""

    def nik_encrypted(self, account_id: int) -> bytes | None: ...

    def list(
        self,
        *,
        role: str | None = None,
        agency_id: int | None = None,
        text: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> builtins.list[Account]: ...

    def recipients(
        self,
        *,
        role: str | None = None,
        agency_id: int | None = None,
        permission: str | None = None,
    ) -> builtins.list[Account]:
        """Active, verified accounts with the role (and agency), or holding the
        extra permission."""


class TokenRepository(Protocol):
    def add(
        self,
        *,
        account_id: int,
        purpose: str,
        token_hash: bytes,
        created_at: datetime,
        expires_at: datetime,
        auth_version: int,
        login_id: str | None = None,
    ) -> None: ...

    def add_for_active(
        self,
        *,
        account_id: int,
        auth_version: int,
        created_at: datetime,
        tokens: Sequence[tuple[str, bytes, datetime]],
        login_id: str | None = None,
    ) -> bool:
        """Add ``tokens`` (``(purpose, token_hash, expires_at)`` each) for the account,
        in one statement, only if it exists, is active and still has ``auth_version``
        (its password has not changed since it was read); whether they were added.
        They share ``login_id`` (see :meth:`delete_login`). One statement, so a
        log-in's write transaction holds its locks for one round trip."""

    def consume(self, purpose: str, token_hash: bytes, now: datetime) -> TokenRecord | None:
        """Atomically mark an unused, unexpired token used and return it; None otherwise."""

    def lookup(self, purpose: str, token_hash: bytes, now: datetime) -> TokenRecord | None:
        """An unexpired, unused token without consuming it."""

    def lookup_with_account(
        self, purpose: str, token_hash: bytes, now: datetime
    ) -> tuple[TokenRecord, Account] | None:
        """:meth:`lookup` and the token's account, in one statement (every
        authenticated request asks); None when either is missing."""

    def touch(self, purpose: str, token_hash: bytes, now: datetime, expires_at: datetime) -> None:
        """Record use (sliding idle timeout)."""

    def delete(self, purpose: str, token_hash: bytes) -> None: ...

    def delete_login(self, purpose: str, token_hash: bytes) -> int:
        """Delete the token and every token of the same log-in (the same
        ``login_id``, whatever their purpose); how many."""

    def delete_for_account(self, account_id: int, purposes: Iterable[str] | None = None) -> int: ...

    def count_recent(self, account_id: int, purpose: str, since: datetime) -> int: ...


class MessageRepository(Protocol):
    def add(self, new: NewMessage, *, first_log: LogEntry | None = None) -> Message:
        """Insert; raises ``Conflict`` (code ``duplicate_ticket``) on a ticket collision.

        ``first_log``: a log entry written with the message (its ``message_id`` is
        ignored), in the same statement where the database allows; nothing is
        written on a collision."""

    def get(self, message_id: int, *, for_update: bool = False) -> Message | None:
        """With its attachments of kind ``message``. ``for_update``: the message is
        about to change; no other transaction may change it until this one ends
        (a row lock, or a database that runs one write transaction at a time)."""

    def get_by_ticket(self, ticket: str) -> Message | None: ...

    def get_many(self, message_ids: Sequence[int]) -> builtins.list[Message]:
        """The messages with these ids that exist (without attachments), in no
        particular order."""

    def save_transition(self, message: Message, expected_version: int) -> bool:
        """Compare-and-set: write status, classification, ``updated_at``, the SOP
        clock and ``message.version`` only if the stored version is still
        ``expected_version``. False when it changed. A new deadline clears the
        overdue notice of the previous one."""

    def bump_version(self, message_id: int, expected_version: int) -> bool:
        """Count a change that is not a transition (the rating): compare-and-set
        the version from ``expected_version`` to the next; whether it was."""

    def newly_overdue(self, now: datetime, *, limit: int) -> builtins.list[Message]:
        """Open messages whose deadline has passed and was not announced yet,
        earliest deadline first."""

    def mark_overdue_notified(self, message_id: int, due_at: datetime, now: datetime) -> bool:
        """Record that the lateness of this deadline was announced; False when the
        deadline changed or was already announced (another worker)."""

    def open_messages(self, *, after_id: int, limit: int) -> builtins.list[Message]:
        """Messages still in a stage with a clock (submitted, forwarded, in
        progress), by id, for recomputing their deadlines."""

    def set_due(self, message_id: int, due_at: datetime | None, expected: datetime | None) -> bool:
        """Compare-and-set the deadline (clears its overdue notice)."""

    def add_attachment(self, new: NewAttachment) -> Attachment: ...

    def attachment(self, attachment_id: int) -> Attachment | None: ...

    def attachments_for(self, message_ids: Sequence[int]) -> dict[int, list[Attachment]]:
        """Every attachment (both kinds, removed ones too) of these messages, by
        message id; every id is a key."""

    def stored_attachments_of_author(
        self, author_id: int, kind: str, *, anonymous: bool | None = None
    ) -> builtins.list[Attachment]:
        """The attachments of ``kind`` on the author's messages whose file is still
        stored; only on anonymous (or only on signed) messages when ``anonymous`` is
        given."""

    def expired_attachments(
        self, closed_before: datetime, *, limit: int
    ) -> builtins.list[Attachment]:
        """Attachments still stored whose message is ``done`` or ``rejected`` and
        last changed before ``closed_before``, oldest first."""

    def mark_attachment_removed(
        self, attachment_id: int, *, reason: str, now: datetime, erase_details: bool = False
    ) -> bool:
        """Record that the attachment's file is to be deleted (``removed_at``,
        ``reason``). The storage key stays until the file is gone (see
        :meth:`forget_attachment_file`). ``erase_details`` empties its file name
        and checksum. Compare-and-set: False when it was already removed."""

    def removed_attachment_files(
        self, *, after_id: int = 0, limit: int
    ) -> builtins.list[Attachment]:
        """Attachments marked removed whose storage key is not yet emptied (their
        file may still be stored), by id after ``after_id``, at most ``limit``."""

    def forget_attachment_file(self, attachment_id: int, storage_key: str) -> bool:
        """Empty the storage key of a removed attachment once its file is deleted;
        compare-and-set on ``storage_key`` (False when it no longer matches)."""

    def deidentify_author(self, author_id: int, mask: Callable[[str], str]) -> int:
        """Pass the subjects, bodies and rating comments of the author's messages
        through ``mask`` (personal data out), without changing the messages'
        ``updated_at`` or version; the public copies become NULL (nothing is left
        to mask). Returns how many texts changed."""

    def refresh_public_copies(
        self, *, after_id: int, limit: int, copy: Callable[[str], str | None]
    ) -> tuple[int, int]:
        """Set ``subject_public`` and ``body_public`` of up to ``limit`` messages
        after ``after_id`` (by id) to ``copy`` of their subject and body, where
        they differ; returns (the last id read, or ``after_id`` when none; how
        many messages changed)."""

    def storage_keys_in(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that an attachment names (see :class:`AttachmentStore`)."""

    def add_log(self, entry: LogEntry) -> LogEntry: ...

    def log(self, message_id: int) -> builtins.list[LogEntry]:
        """Oldest first."""

    def logs_for(self, message_ids: Sequence[int]) -> dict[int, list[LogEntry]]: ...

    def add_reply(
        self,
        message_id: int,
        author_id: int,
        answer: str,
        created_at: datetime,
        attachment_id: int | None,
        visibility: Visibility = Visibility.INTERNAL,
    ) -> Reply: ...

    def reply(self, message_id: int) -> Reply | None: ...

    def add_rating(self, rating: Rating) -> None:
        """Raises ``Conflict`` (code ``rating_exists``) when already rated."""

    def rating(self, message_id: int) -> Rating | None: ...

    def all_by_author(self, author_id: int, *, after_id: int, limit: int) -> builtins.list[Message]:
        """Every message of the author, withdrawn ones too, oldest first (ids after
        ``after_id``), without attachments (see :meth:`attachments_for`)."""

    def list_by_author(
        self, author_id: int, *, before_id: int | None, limit: int
    ) -> builtins.list[Message]:
        """The author's messages except withdrawn ones, newest first."""

    def list_public(
        self, *, before_id: int | None, limit: int, text: str | None = None
    ) -> builtins.list[PublicMessage]:
        """Not confidential, status forwarded/in_progress/done, newest first."""

    def list_backoffice(
        self, flt: BackofficeFilter, *, before_id: int | None, limit: int
    ) -> builtins.list[Message]:
        """Never withdrawn; newest first."""

    def list_backoffice_by_due(
        self, flt: BackofficeFilter, *, after: tuple[datetime, int] | None, limit: int
    ) -> builtins.list[Message]:
        """Open messages (with a deadline) matching ``flt``, earliest deadline first;
        ``after`` is the (deadline, id) of the last row of the previous page."""

    def list_by_authors(self, author_ids: Sequence[int], *, limit: int) -> builtins.list[Message]:
        """Tracking: the messages of these accounts except withdrawn, newest first."""

    def tracking(self, nik_index: bytes, *, limit: int) -> builtins.list[TrackedMessage]:
        """Public tracking: the newest ``limit`` messages of the accounts whose NIK
        has the blind index ``nik_index`` — neither withdrawn, confidential nor
        anonymous — each with its dated status steps (oldest first) and its masked
        subject only when it is on the public list."""


class NotificationRepository(Protocol):
    def add_many(
        self,
        account_ids: Iterable[int],
        *,
        kind: str,
        message_id: int | None,
        text: str,
        params: Mapping[str, str],
        created_at: datetime,
    ) -> int: ...

    def list_for(
        self, account_id: int, *, before_id: int | None, limit: int, unread_only: bool = False
    ) -> builtins.list[Notification]: ...

    def unread_count(self, account_id: int) -> int: ...

    def mark_read(self, account_id: int, notification_id: int, now: datetime) -> bool:
        """False when the notification is not the account's."""

    def mark_all_read(self, account_id: int, now: datetime) -> int: ...


class DirectoryRepository(Protocol):
    """Agencies, categories and sub-categories."""

    def agencies(self, *, include_inactive: bool = False) -> builtins.list[Agency]: ...
    def agency(self, agency_id: int) -> Agency | None: ...
    def agency_by_code(self, code: str) -> Agency | None: ...
    def add_agency(self, code: str, name: str) -> Agency: ...
    def update_agency(self, agency_id: int, **fields: Any) -> Agency: ...
    def categories(self) -> builtins.list[Category]: ...
    def category(self, category_id: int) -> Category | None: ...
    def category_by_code(self, code: str) -> Category | None: ...
    def add_category(self, code: str, name: str) -> Category: ...
    def update_category(self, category_id: int, **fields: Any) -> Category: ...
    def subcategories(
        self, category_id: int | None = None, *, include_inactive: bool = False
    ) -> builtins.list[Subcategory]: ...
    def subcategory(self, subcategory_id: int) -> Subcategory | None: ...
    def subcategory_by_code(self, category_id: int, code: str) -> Subcategory | None: ...
    def add_subcategory(self, category_id: int, code: str, name: str) -> Subcategory: ...
    def update_subcategory(self, subcategory_id: int, **fields: Any) -> Subcategory: ...
    def days_off(
        self, start: date | None = None, end: date | None = None
    ) -> builtins.list[DayOff]: ...
    def add_day_off(
        self, day: date, name: str, created_by: int | None, created_at: datetime
    ) -> DayOff:
        """Raises ``Conflict`` (``duplicate_day_off``) when the day is already off."""

    def remove_day_off(self, day_off_id: int) -> DayOff | None: ...


class OutboxRepository(Protocol):
    def add(self, topic: str, payload: Mapping[str, Any], *, created_at: datetime) -> int:
        """Queue a side effect in the current transaction; returns its id."""

    def claim(self, now: datetime, *, limit: int, lease_seconds: int) -> builtins.list[OutboxItem]:
        """Take up to ``limit`` due items for this worker (safe with several workers:
        ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite)."""

    def complete(self, item_id: int, now: datetime) -> None: ...

    def fail(self, item_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Record a failure; ``retry_at`` None moves the item to the dead letters."""

    def list(
        self,
        *,
        status: str | None = None,
        limit: int = 100,
        topic: str | None = None,
        error: str | None = None,
    ) -> builtins.list[OutboxItem]:
        """Oldest first; ``error`` matches part of the last error (any case)."""

    def count(
        self, *, status: str | None = None, topic: str | None = None, error: str | None = None
    ) -> int:
        """How many items :meth:`list` would show without a limit."""

    def totals(self) -> dict[str, int]:
        """Items per status."""

    def retry(self, item_id: int, now: datetime) -> bool:
        """Put a dead item back in the queue."""

    def retry_dead(
        self,
        now: datetime,
        *,
        ids: Sequence[int] | None = None,
        topic: str | None = None,
        error: str | None = None,
    ) -> int:
        """Put the dead letters of ``ids`` (or every one matching ``topic`` and
        ``error``) back in the queue, in one statement; returns how many."""

    def drop_addressed_to(self, address: str) -> int:
        """Delete the items not yet sent (pending or dead) whose payload's ``to``
        is ``address`` (case-insensitive); returns how many."""


class AuditRepository(Protocol):
    """The audit log: append-only, but for the retention sweep."""

    def add(self, entry: NewAuditEntry) -> int:
        """Write one entry in the current transaction; returns its id."""

    def list(
        self, flt: AuditFilter, *, before_id: int | None, limit: int
    ) -> builtins.list[AuditEntry]:
        """Entries matching ``flt``, newest first (keyset on the id), with the
        actor's username and the message's ticket filled in."""

    def delete_older_than(self, before: datetime, *, limit: int) -> int:
        """Remove up to ``limit`` entries written before ``before``, oldest first;
        returns how many."""


class IdempotencyRepository(Protocol):
    """Idempotency keys, by ``key_hash`` (unique: who sent it and the key)."""

    def insert_claim(self, key_hash: bytes, claim: NewIdempotencyClaim) -> int | None:
        """Store a new key as ``in_progress`` under ``claim``; its id, or None (and
        nothing written) when the key exists."""

    def get(self, key_hash: bytes, *, for_update: bool = False) -> IdempotencyRecord | None:
        """The stored key; ``for_update`` locks its row until the transaction ends."""

    def take_over(self, record_id: int, claim: NewIdempotencyClaim) -> None:
        """Claim an existing key afresh (it expired, or its claim ran out): it
        becomes ``in_progress`` under ``claim``, its old answer forgotten."""

    def complete(
        self,
        record_id: int,
        claim_token: bytes,
        *,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> bool:
        """Store the answer and mark the key ``done``, only if it is still
        ``in_progress`` under ``claim_token``; whether it was."""

    def release(self, record_id: int, claim_token: bytes) -> bool:
        """Forget a claim that created nothing (still ``in_progress`` under
        ``claim_token``); whether it was there."""

    def delete_expired(self, now: datetime, *, limit: int) -> int:
        """Remove up to ``limit`` keys whose lifetime ended; how many."""

    def delete_for_account(self, account_id: int) -> int:
        """Remove every key of the account (its answers may quote its texts); how many."""


class MailQuotaRepository(Protocol):
    """Mails sent per address per day (the address as a keyed hash)."""

    def take(self, address_key: bytes, day: date, limit: int) -> bool:
        """Count one more mail to the address on ``day`` unless ``limit`` were sent
        already; whether it was counted. Atomic against concurrent callers."""

    def forget_before(self, day: date) -> int:
        """Drop the counts of days before ``day``; how many rows."""


class UnitOfWork(Protocol):
    """The repositories of one transaction."""

    accounts: AccountRepository
    tokens: TokenRepository
    messages: MessageRepository
    notifications: NotificationRepository
    directory: DirectoryRepository
    outbox: OutboxRepository
    audit: AuditRepository
    idempotency: IdempotencyRepository
    mail_quota: MailQuotaRepository
    #: The database's SQLAlchemy dialect name: ``sqlite`` or ``postgresql``.
    dialect: str

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run a SQLAlchemy Core statement in this transaction and return its
        ``Result``: for plugins' own tables and their reads of the core's
        (:data:`aspirasi_core.plugin_api.schema`), through
        :class:`~aspirasi_core.plugin_types.Transaction`."""


class Database(Protocol):
    """Where the use cases run their transaction scripts: one ``transaction``, for
    reads (``write=False``) and writes alike, and its twin :meth:`run_sync` for code
    that already runs in a thread of its own."""

    async def transaction(
        self, fn: Callable[[UnitOfWork], T], *, write: bool = True, report: bool = False
    ) -> T:
        """Run ``fn`` in one transaction in a worker thread; commit if it returns,
        roll back if it raises. ``write=False`` opens a read-only transaction (one
        snapshot on PostgreSQL, no write lock on SQLite). Writes are serialized on
        SQLite (``BEGIN IMMEDIATE`` plus an in-process lock) so they never fail with
        "database is locked".

        ``report=True`` (with ``write=False``): a long read-only report (the
        evaluator's report, an export), which runs on PostgreSQL under
        ``ASPIRASI_DB_REPORT_STATEMENT_TIMEOUT_MS`` instead of the service's
        ``ASPIRASI_DB_STATEMENT_TIMEOUT_MS``.

        A transaction the database aborted because of others (deadlock,
        serialisation failure) is run again, ``fn`` included, a bounded number of
        times; then :class:`~aspirasi_core.domain.errors.Unavailable`
        (``database_busy``) is raised, as it is at once for a lock or statement
        timeout. ``fn`` must only work through the unit of work."""

    def run_sync(
        self, fn: Callable[[UnitOfWork], T], *, write: bool = True, report: bool = False
    ) -> T:
        """:meth:`transaction` in the calling thread (sweeps, the outbox dispatcher,
        the CLI, migrations, tests); never on the event loop."""

    def ping(self) -> None:
        """Run a trivial statement on a pooled connection (readiness probes); raise
        :class:`~aspirasi_core.domain.errors.Unavailable` when the database does not
        answer."""


class AttachmentStore(Protocol):
    """Where uploaded files live: a local folder by default, an object store later.

    A file is stored before the transaction that records it and must not outlive a
    failed one: :meth:`put` stores it as *pending*, :meth:`promote` confirms it once
    its row committed (the use cases call both, and :meth:`delete` when the
    transaction certainly rolled back), and :meth:`sweep_pending` settles what a
    killed process, or a failure that may have come after the commit, left
    pending. A pending file is readable like any other.
    """

    def put(self, data: bytes, *, suffix: str) -> str:
        """Store ``data`` (pending) under a new random key and return the key; raise
        :class:`~aspirasi_core.domain.errors.StorageFull` when there is no room."""

    def promote(self, key: str) -> None:
        """Confirm a pending file (its row committed); idempotent."""

    def sweep_pending(
        self, referenced: Callable[[list[str]], set[str]], *, older_than: float = ...
    ) -> tuple[int, int]:
        """Promote the pending files older than ``older_than`` seconds whose keys
        ``referenced`` returns, remove the others; return (promoted, removed)."""

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Remove the file, pending or not; a missing key is not an error."""
