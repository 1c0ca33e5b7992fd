"""Domain events: facts the use cases record and hand to plugins.

Events are produced inside a transaction. Plugins turn them into outbox items
(``aspirasi_outbox_items``, same transaction) or react to them after the
commit (``aspirasi_after_*``). Fields marked ``repr=False`` are secrets (tokens):
they never reach a log line.
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from .model import Action, Status, Visibility


@attrs.frozen
class Event:
    """Base class of every domain event."""

    @property
    def name(self) -> str:
        return type(self).__name__


@attrs.frozen
class FollowupWritten(Event):
    """The staff who handle a message wrote a follow-up to its sender (who is told
    by mail; the text itself is on the message's page)."""

    message_id: int
    ticket: str
    author_id: int
    actor_id: int
    agency_id: int | None
    at: datetime


@attrs.frozen
class MessageSubmitted(Event):
    message_id: int
    ticket: str
    author_id: int
    subject: str
    confidential: bool
    anonymous: bool
    at: datetime


@attrs.frozen
class StatusChanged(Event):
    message_id: int
    ticket: str
    author_id: int
    action: Action
    from_status: Status
    to_status: Status
    actor_id: int
    agency_id: int | None
    previous_agency_id: int | None
    note: str
    at: datetime
    #: The classification after the move (set by the admin when forwarding).
    category_id: int | None = None
    subcategory_id: int | None = None
    #: The SOP deadline of the stage the message is now in (None once final).
    due_at: datetime | None = None
    #: Who may read ``note``: only a note for the sender may go to the sender.
    note_visibility: Visibility = Visibility.INTERNAL


@attrs.frozen
class MessageOverdue(Event):
    """A message's current stage passed its SOP deadline (announced once per deadline).

    ``stage`` is ``triage`` (the admin has not forwarded it), ``confirm`` (the
    agency has not confirmed it) or ``reply`` (the agency has not replied).
    """

    message_id: int
    ticket: str
    subject: str
    status: Status
    stage: str
    agency_id: int | None
    category_id: int | None
    subcategory_id: int | None
    due_at: datetime
    at: datetime
    #: The last allowed day of the deadline, in the province's time zone.
    due_date: date | None = None


@attrs.frozen
class MessageRated(Event):
    message_id: int
    ticket: str
    author_id: int
    agency_id: int | None
    stars: int
    at: datetime


@attrs.frozen
class AccountRegistered(Event):
    account_id: int
    email: str
    language: str
    at: datetime


@attrs.frozen
class VerificationRequested(Event):
    """A verification link was issued; ``token`` is the raw secret for the mail."""

    account_id: int
    email: str
    language: str
    token: str = attrs.field(repr=False)
    expires_at: datetime | None = None
    at: datetime | None = None


@attrs.frozen
class EmailVerified(Event):
    account_id: int
    at: datetime


@attrs.frozen
class PasswordResetRequested(Event):
    """A reset link was issued; ``token`` is the raw secret for the mail."""

    account_id: int
    email: str
    language: str
    token: str = attrs.field(repr=False)
    expires_at: datetime | None = None
    at: datetime | None = None


@attrs.frozen
class PasswordChanged(Event):
    account_id: int
    reason: str  # "change", "reset" or "invitation"
    at: datetime


@attrs.frozen
class AccountDeleted(Event):
    """A citizen deleted their account: the row is emptied of personal data and
    their attachments are gone; their messages stay, without a sender. A plugin
    that keeps personal data of its own about the account erases it here."""

    account_id: int
    at: datetime


@attrs.frozen
class StaffAccountCreated(Event):
    account_id: int
    role: str
    agency_id: int | None
    created_by: int
    at: datetime


@attrs.frozen
class StaffInvited(Event):
    """A super admin invited a staff member: ``token`` is the raw secret of the
    link (for the mail) with which they set their first password."""

    account_id: int
    email: str
    language: str
    full_name: str
    role: str
    token: str = attrs.field(repr=False)
    expires_at: datetime | None = None
    at: datetime | None = None


@attrs.frozen
class DuplicateRegistrationAttempted(Event):
    """Someone tried to register with the e-mail of an existing account.

    The caller is answered as if the registration had worked; the owner of the
    address is told (notify_email sends a mail) — nobody learns whether an
    address is registered."""

    account_id: int
    email: str
    language: str
    at: datetime
    #: Whether the existing account's address is verified (else the mail says
    #: that a registration waits for confirmation, and when it will be removed).
    verified: bool = True


@attrs.frozen
class RegistrationNikTaken(Event):
    """Someone registered with a NIK that a verified account already holds.

    No account is made; the caller is answered as if it had been, and the address
    typed is told by mail what the owner of a NIK can do (write to the super admin,
    who can release it) — nobody learns from the answer whether a NIK has an
    account. There is no account: the mail goes to ``email`` in ``language``."""

    email: str
    language: str
    at: datetime


@attrs.frozen
class NikReleased(Event):
    """A super admin took a NIK away from the verified account that held it, after
    checking that it belongs to someone else (who may then register with it)."""

    account_id: int
    released_by: int
    reason: str
    at: datetime
