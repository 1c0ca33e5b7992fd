"""Work that continues after the first answer: follow-ups between the sender and
the agency while a message is open, and oversight reviews of poorly rated ones.

Pure values and rules; the use cases are in
:mod:`aspirasi_core.services.followups`.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from .errors import Conflict
from .model import Actor, Message, Status
from .policy import Perm, Policy
from .workflow import CLOSED

#: A rating of at most this many stars opens an oversight review.
REVIEW_STARS = 2


class Side(enum.StrEnum):
    """Who wrote a follow-up: the message's sender, or the staff (for the agency)."""

    SENDER = "sender"
    STAFF = "staff"


@attrs.frozen
class Followup:
    """One follow-up of a message's thread. ``author_id`` is None for a reader
    who may not know the sender (anonymous message); ``agency_id``: the agency a
    staff follow-up speaks for (None for the admin's)."""

    id: int
    message_id: int
    side: Side
    author_id: int | None
    agency_id: int | None
    body: str
    created_at: datetime


class ReviewOutcome(enum.StrEnum):
    REOPENED = "reopened"
    DISMISSED = "dismissed"


@attrs.frozen
class OversightReview:
    """A review opened by a poor rating: open until the admin or an evaluator
    reopens the message (``reopened``) or dismisses it."""

    id: int
    message_id: int
    stars: int
    opened_at: datetime
    closed_at: datetime | None = None
    closed_by: int | None = None
    outcome: ReviewOutcome | None = None
    #: For lists: the message's ticket, subject, agency and status.
    ticket: str = ""
    subject: str = ""
    agency_id: int | None = None
    status: Status | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def side_of(actor: Actor, message: Message, policy: Policy) -> Side:
    """Which side ``actor`` writes a follow-up for: its own message's sender, or
    the staff who handle it (the agency's operators, the admin); anyone else
    (a read-only evaluator, another citizen) gets :class:`NotFound` or
    :class:`~.errors.NotAllowed` from the policy."""
    if message.author_id == actor.account_id:
        policy.check_permission_on(actor, message, Perm.MESSAGE_READ_OWN)
        return Side.SENDER
    if policy.allows(actor, Perm.MESSAGE_CLASSIFY):
        return Side.STAFF
    policy.check_permission_on(actor, message, Perm.MESSAGE_HANDLE)
    return Side.STAFF


def check_open(message: Message) -> None:
    """Follow-ups are written while the message is open (not done, rejected or withdrawn)."""
    if message.status in CLOSED:
        raise Conflict(
            "Follow-ups are possible only while the message is open.",
            code="followup_closed",
        )


def check_review_open(review: OversightReview | None) -> OversightReview:
    """The open review of a message, or a conflict: nothing to decide."""
    if review is None or not review.is_open:
        raise Conflict(
            "There is no open review of this message.",
            code="review_not_open",
        )
    return review


__all__ = [
    "REVIEW_STARS",
    "Followup",
    "OversightReview",
    "ReviewOutcome",
    "Side",
    "check_open",
    "check_review_open",
    "side_of",
]
