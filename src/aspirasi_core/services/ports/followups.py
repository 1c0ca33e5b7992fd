"""The repositories of follow-ups and oversight reviews (part of the
:class:`~aspirasi_core.services.ports.UnitOfWork`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ...domain.followups import Followup, OversightReview, ReviewOutcome, Side


class FollowupRepository(Protocol):
    """The follow-up thread of each message."""

    def add(
        self,
        message_id: int,
        *,
        side: Side,
        author_id: int,
        agency_id: int | None,
        body: str,
        created_at: datetime,
    ) -> Followup:
        """Store one follow-up and return it with its id."""

    def thread(self, message_id: int) -> list[Followup]:
        """A message's follow-ups, oldest first."""

    def deidentify_author(self, account_id: int, mask: object) -> int:
        """Mask personal data in the follow-ups ``account_id`` wrote (``mask``: a
        ``str → str`` function) and forget their author; how many changed."""


class ReviewRepository(Protocol):
    """Oversight reviews of poorly rated messages."""

    def open(self, message_id: int, stars: int, opened_at: datetime) -> OversightReview:
        """Open a review of ``message_id``."""

    def open_for(self, message_id: int, *, for_update: bool = False) -> OversightReview | None:
        """The open review of a message, if any (locked until the end of the
        transaction with ``for_update``)."""

    def close(
        self, review_id: int, *, outcome: ReviewOutcome, closed_by: int, closed_at: datetime
    ) -> bool:
        """Close an open review; False when it was closed already."""

    def listing(
        self, *, open_only: bool, before_id: int | None, limit: int
    ) -> Sequence[OversightReview]:
        """Reviews newest first (with their message's ticket, subject, agency and
        status), only the open ones with ``open_only``, ids below ``before_id``."""

    def count_open(self) -> int:
        """How many reviews are open."""

    def retire_reply(self, message_id: int) -> None:
        """Drop the reply of a message being reopened, so that the agency can
        answer again (the answer stays in the message's log, as the reply's note)."""


__all__ = ["FollowupRepository", "ReviewRepository"]
