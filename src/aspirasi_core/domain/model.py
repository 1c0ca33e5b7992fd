"""Entities and values of the domain (attrs, frozen).

Nothing here touches a database or the web: storage converts rows into these
classes and the use cases return them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Generic, TypeVar

import attrs


class Role:
    """The built-in account levels; plugins may declare more (see hookspecs)."""

    SUPER_ADMIN = "super_admin"
    ADMIN = "admin"
    OPERATOR = "operator"
    USER = "user"

    BUILTIN: tuple[str, ...] = (SUPER_ADMIN, ADMIN, OPERATOR, USER)
    STAFF: frozenset[str] = frozenset({SUPER_ADMIN, ADMIN, OPERATOR})


class Status(enum.StrEnum):
    """Status codes of a message (SPEC.md, "The message workflow")."""

    SUBMITTED = "submitted"
    FORWARDED = "forwarded"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Action(enum.StrEnum):
    """What an actor can do to a message's status."""

    SUBMIT = "submit"
    FORWARD = "forward"
    REFORWARD = "reforward"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    START = "start"
    PROGRESS = "progress"
    REPLY = "reply"
    #: The agency sends a misrouted message back to the admin, with a reason.
    RETURN = "return"
    #: Oversight (admin, evaluator) reopens a done message for its agency after a poor rating.
    REOPEN = "reopen"


class Visibility(enum.StrEnum):
    """Who may read a text the staff write (a forwarding note, a progress note, a
    rejection reason, a reply): the staff with access to the message only, or
    the sender too. The status steps themselves are always the sender's to see."""

    INTERNAL = "internal"
    SENDER = "sender"


#: The visibility of a staff text when the writer does not choose one: the
#: forwarding note is written for the agency; what the workflow addresses to the
#: citizen (rejection reason, confirmation and progress notes, the reply) is for them.
DEFAULT_VISIBILITY: dict[Action, Visibility] = {
    Action.FORWARD: Visibility.INTERNAL,
    Action.REFORWARD: Visibility.INTERNAL,
    Action.REJECT: Visibility.SENDER,
    Action.START: Visibility.SENDER,
    Action.PROGRESS: Visibility.SENDER,
    Action.REPLY: Visibility.SENDER,
    # Between the staff: the sender sees the status step, not the reason.
    Action.RETURN: Visibility.INTERNAL,
    Action.REOPEN: Visibility.INTERNAL,
}


class CategoryCode:
    """The two categories the first migration creates."""

    ASPIRASI = "aspirasi"
    ADUAN = "aduan"


@attrs.frozen
class Actor:
    """Who is acting: the parts of an account that access decisions need."""

    account_id: int
    role: str
    agency_id: int | None = None
    permissions: frozenset[str] = frozenset()
    verified: bool = True
    active: bool = True

    @property
    def is_staff(self) -> bool:
        return self.role in Role.STAFF


@attrs.frozen
class Account:
    """A person: citizen or staff, in the one account table."""

    id: int
    email: str
    username: str
    full_name: str
    role: str
    agency_id: int | None
    permissions: frozenset[str]
    is_active: bool
    email_verified_at: datetime | None
    language: str
    created_at: datetime
    password_hash: str = attrs.field(repr=False)
    nik_masked: str | None = None
    # Bumped whenever the password changes or a reset happens: every session
    # or token issued under an older value is dead.
    auth_version: int = 1
    #: When the owner deleted the account: the row stays, without personal data,
    #: so that its messages keep a sender (see ``DataRightsService.delete_account``).
    deleted_at: datetime | None = None
    #: The password was typed by a super admin: its owner must choose their own
    #: before doing anything else (since 0009_staff_invitations).
    must_change_password: bool = False
    #: The address the owner of an unverified account asked its links to go to
    #: (the waiting page's correction), whether or not another account has it;
    #: it becomes ``email`` when such a link is used (since 0014_pending_email).
    pending_email: str | None = None

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def requested_email(self) -> str:
        """The address its owner is told the verification links go to: the one
        they asked for last (shown alike whether or not another account has it)."""
        return self.pending_email or self.email

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def awaiting_password(self) -> bool:
        """Invited, and the invitation not accepted yet: no password to log in with."""
        return not self.password_hash and not self.deleted

    def actor(self) -> Actor:
        """The :class:`Actor` that acts on behalf of this account."""
        return Actor(
            account_id=self.id,
            role=self.role,
            agency_id=self.agency_id,
            permissions=self.permissions,
            verified=self.verified,
            active=self.is_active,
        )


@attrs.frozen
class Agency:
    """A government agency (Perangkat Daerah)."""

    id: int
    code: str
    name: str
    is_active: bool = True


@attrs.frozen
class Category:
    """aspirasi or aduan."""

    id: int
    code: str
    name: str


@attrs.frozen
class Subcategory:
    """A sub-category under one category, chosen by the admin when forwarding."""

    id: int
    category_id: int
    code: str
    name: str
    is_active: bool = True
    #: SOP overrides in working days (None: the default of the settings).
    sop_confirm_days: int | None = None
    sop_reply_days: int | None = None


@attrs.frozen
class DayOff:
    """An extra non-working day of the SOP calendar, added by a super admin."""

    id: int
    day: date
    name: str
    created_at: datetime
    created_by: int | None = None


@attrs.frozen
class Attachment:
    """A stored file belonging to a message (citizen) or a reply (operator)."""

    id: int
    message_id: int
    kind: str  # "message" or "reply"
    filename: str
    content_type: str
    size: int
    storage_key: str = attrs.field(repr=False)
    sha256: str = ""
    created_at: datetime | None = None
    #: The file was deleted: when, and why (:class:`RemovalReason`); the row stays
    #: so that pages say so instead of showing a broken link. For
    #: :attr:`RemovalReason.REMOVED` the time is the attachment's ``created_at``:
    #: the real one would date the sender's account deletion.
    removed_at: datetime | None = None
    removed_reason: str | None = None

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


class RemovalReason:
    """Why an attachment's file was deleted."""

    #: ``ASPIRASI_ATTACHMENT_RETENTION_DAYS`` after its message was closed.
    RETENTION = "retention"
    #: Its sender deleted their account (a signed message).
    ACCOUNT_DELETED = "account_deleted"
    #: The file is no longer kept, for no reason given: an anonymous message's files
    #: when its sender deleted their account. Naming the deletion (or its time, see
    #: ``Attachment.removed_at``) would tie the message to the deleted account.
    REMOVED = "removed"


@attrs.frozen
class Message:
    """An aspiration or complaint sent by a citizen.

    ``author_id`` is None in what a reader gets who may not know the sender (an
    anonymous message read by anyone but its sender, see
    :mod:`aspirasi_core.domain.privacy`); storage always fills it.
    """

    id: int
    ticket: str
    author_id: int | None
    subject: str
    body: str
    status: Status
    confidential: bool
    anonymous: bool
    created_at: datetime
    updated_at: datetime
    category_id: int | None = None
    subcategory_id: int | None = None
    agency_id: int | None = None
    attachments: tuple[Attachment, ...] = ()
    #: The SOP clock of the current stage (:mod:`aspirasi_core.domain.sop`): when
    #: it began and when it is due; both None once the message is final.
    stage_started_at: datetime | None = None
    due_at: datetime | None = None
    #: Its milestones, set by the transition that reaches them
    #: (:func:`aspirasi_core.domain.workflow.transition`), for reports on how long
    #: each stage took: when it was last forwarded (a forward or re-forward), when
    #: its agency started on it, and when it reached a final status (a reply,
    #: rejection or withdrawal). None until then.
    forwarded_at: datetime | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    #: Whether its agency ended a stage (confirm: ``start``; reply: ``reply``) at
    #: or after that stage's deadline since the message was last forwarded
    #: (:func:`aspirasi_core.domain.sop.sop_missed_after`). A ``done`` message
    #: without it was completed within the SOP.
    sop_missed: bool = False
    #: How many changes people made to it (1 when sent; every transition and the
    #: rating add one). A client passes the version it saw as ``expected_version``
    #: and loses with ``message_changed`` when someone changed it meanwhile.
    version: int = 1
    #: Where it happened (since 0013_location; :mod:`aspirasi_core.domain.regions`):
    #: the Kemendagri codes of a regency or city and of one of its districts, and
    #: WGS84 coordinates (both or neither). Coordinates are for the staff: a reader
    #: who is not (its sender too) gets the message without them.
    regency_code: str | None = None
    district_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def is_overdue(self, now: datetime) -> bool:
        """Whether the current stage's SOP deadline has passed."""
        return self.due_at is not None and now >= self.due_at


@attrs.frozen
class LogEntry:
    """One line of a message's history, written in the same transaction as the change.

    The same type goes in (``MessageRepository.add_log``, with ``id`` 0) and
    comes out (with the id storage gave it)."""

    message_id: int
    actor_id: int | None
    action: str
    from_status: Status | None
    to_status: Status
    note: str
    at: datetime
    agency_id: int | None = None
    #: Who may read ``note`` (the step itself is always shown to the sender).
    note_visibility: Visibility = Visibility.INTERNAL
    #: Its id once stored (0 before).
    id: int = 0
    #: Its place in the message's hash chain and its hash, once stored
    #: (``aspirasi_core.domain.log_chain``; None in an unchained row).
    seq: int | None = None
    entry_hash: str | None = None


@attrs.frozen
class Reply:
    """The agency's answer that closes a message."""

    id: int
    message_id: int
    author_id: int
    answer: str
    created_at: datetime
    attachment: Attachment | None = None
    #: Who may read the answer and its attachment.
    visibility: Visibility = Visibility.INTERNAL


@attrs.frozen
class Rating:
    """The citizen's satisfaction with a done message: one per outcome (a message
    reopened by oversight and done again may be rated anew; the new rating takes
    the old one's place, and the old one is kept as a :class:`ReplacedRating`)."""

    message_id: int
    stars: int
    comment: str
    created_at: datetime


@attrs.frozen
class ReplacedRating:
    """A rating of an earlier outcome, kept when the message, reopened by
    oversight and done again, was rated anew (since 0014_pending_email). Whoever
    may see the message's rating sees these too."""

    message_id: int
    stars: int
    comment: str
    #: When it was given, and when the new rating took its place.
    created_at: datetime
    replaced_at: datetime


@attrs.frozen
class Notification:
    """An in-app notice for a staff member."""

    id: int
    account_id: int
    kind: str
    message_id: int | None
    text: str
    created_at: datetime
    read_at: datetime | None = None
    params: dict[str, str] = attrs.field(factory=dict)


T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a keyset-paginated list; ``next_cursor`` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None = None
