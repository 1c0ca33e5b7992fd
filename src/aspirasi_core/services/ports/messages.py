"""The messages' port: new messages and attachments, the list filters and
public views, and :class:`MessageRepository`.

Lists use keyset pagination on the message id (newest first): callers pass
``before_id`` (exclusive) and ``limit``; repositories return up to ``limit``
rows and the services ask for one more to know whether a next page exists.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

import attrs

from ...domain.model import (
    Attachment,
    LogEntry,
    Message,
    Rating,
    ReplacedRating,
    Reply,
    Status,
    Visibility,
)
from ...domain.policy import MessageScope


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
    #: Where it happened (checked: :func:`aspirasi_core.domain.regions.check_location`).
    regency_code: str | None = None
    district_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None


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
    #: Only messages located in this regency or city (its Kemendagri code).
    regency_code: str | None = None


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
    #: Where it happened, no closer than the district (never the coordinates).
    regency_code: str | None = None
    district_code: str | None = None


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
        """Pass the subjects, bodies and rating comments (the replaced ones' too) of the author's messages
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

    def replace_rating(self, rating: Rating) -> None:
        """Put ``rating`` in the place of the message's rating (a new outcome's);
        the old one is kept among :meth:`replaced_ratings`."""

    def rating(self, message_id: int) -> Rating | None: ...

    def replaced_ratings(self, message_id: int) -> builtins.list[ReplacedRating]:
        """The message's ratings that newer ones replaced, oldest first."""

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
