"""Follow-ups and oversight reviews: the use cases that let work continue.

- :class:`FollowupService`: while a message is open, its sender and the staff who
  handle it (the agency's operators, the admin) write to each other in a thread
  on the message's page. A staff follow-up is always meant for the sender (the
  staff's own notes are the internal progress notes); an anonymous sender stays
  anonymous to the staff (their follow-ups carry no author).
- :class:`ReviewService`: a rating of 1–2 stars opens an oversight review
  (:func:`open_review`, in the rating's transaction); the admin and the
  evaluators list the open ones, and either reopen the message for the agency
  (``MessageService.act(…, "reopen", reason=…)``, which closes the review) or
  dismiss it.

Each write runs in one transaction with its in-app notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs
import structlog

from ..domain.errors import NotFound, Unauthenticated
from ..domain.events import FollowupWritten
from ..domain.followups import (
    Followup,
    OversightReview,
    ReviewOutcome,
    Side,
    check_open,
    check_review_open,
    side_of,
)
from ..domain.model import Actor, Message, Page, Role
from ..domain.policy import Perm
from ..domain.privacy import author_of, sender_hidden
from ..domain.validation import LIMITS, check_id, clean_text
from . import transitions
from .context import Context
from .core import CoreDeps, EventRecorder, run_write
from .cursor import decode_cursor, encode_cursor, page_size
from .ports import UnitOfWork

log = structlog.get_logger("aspirasi.followups")


def _actor(ctx: Context) -> Actor:
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


def overseers(deps: CoreDeps, uow: UnitOfWork) -> list[int]:
    """Who sees the oversight reviews: the admins and the holders of a
    permission that brings :data:`~aspirasi_core.domain.policy.Perm.OVERSIGHT`
    (the evaluators)."""
    ids = {a.id for a in uow.accounts.recipients(role=Role.ADMIN)}
    for permission in sorted(deps.policy.implied_by.get(Perm.OVERSIGHT, ())):
        ids |= {a.id for a in uow.accounts.recipients(permission=permission)}
    return sorted(ids)


def open_review(
    deps: CoreDeps, uow: UnitOfWork, message: Message, stars: int, now: datetime
) -> OversightReview:
    """Open the oversight review of a poorly rated ``message`` and tell the overseers."""
    review = uow.reviews.open(message.id, stars, now)
    transitions.notify(
        uow,
        overseers(deps, uow),
        kind="review_opened",
        message=message,
        text="Message %(ticket)s was rated poorly and awaits your review: %(subject)s",
        now=now,
    )
    return review


class FollowupService:
    """The follow-up thread of a message."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    async def post(self, ctx: Context, message_id: object, body: object) -> Followup:
        """Add a follow-up to an open message: by its sender, or by the staff
        who handle it. The other side gets an in-app notice (the agency's
        operators, or the admins while no agency has it); the sender reads it on
        their message's page."""
        actor = _actor(ctx)
        wanted = check_id(message_id, "id")
        text = clean_text(body, "body", max_length=LIMITS["note"], multiline=True)
        deps = self._d

        def script(uow: UnitOfWork, events: EventRecorder) -> Followup:
            message = transitions.load_for_change(deps, uow, actor, wanted, None)
            side = side_of(actor, message, deps.policy)
            check_open(message)
            now = deps.clock.now()
            followup = uow.followups.add(
                message.id,
                side=side,
                author_id=actor.account_id,
                agency_id=actor.agency_id if side is Side.STAFF else None,
                body=text,
                created_at=now,
            )
            if side is Side.STAFF:
                events.record(
                    FollowupWritten(
                        message_id=message.id,
                        ticket=message.ticket,
                        author_id=author_of(message),
                        actor_id=actor.account_id,
                        agency_id=followup.agency_id,
                        at=now,
                    )
                )
            if side is Side.SENDER:
                if message.agency_id is not None:
                    staff = uow.accounts.recipients(role=Role.OPERATOR, agency_id=message.agency_id)
                else:
                    staff = uow.accounts.recipients(role=Role.ADMIN)
                transitions.notify(
                    uow,
                    [a.id for a in staff],
                    kind="followup_from_sender",
                    message=message,
                    text="The sender of %(ticket)s wrote a follow-up: %(subject)s",
                    now=now,
                )
            return followup

        followup = await run_write(deps, script, idempotency=ctx.idempotency)
        log.info("followup_posted", message_id=followup.message_id, side=str(followup.side))
        return self.for_reader(actor, followup, hidden=False)

    async def thread(self, ctx: Context, message_id: object) -> list[Followup]:
        """A readable message's follow-ups, oldest first, as the reader may see
        them (the sender of an anonymous message has no author for the staff)."""
        actor = _actor(ctx)
        wanted = check_id(message_id, "id")
        deps = self._d

        def script(uow: UnitOfWork) -> list[Followup]:
            message = uow.messages.get(wanted)
            if message is None or not deps.policy.can_read(
                actor, message, deps.scopes_for(actor, uow)
            ):
                raise NotFound("The message was not found.", code="message_not_found")
            hidden = sender_hidden(message, actor)
            return [self.for_reader(actor, f, hidden=hidden) for f in uow.followups.thread(wanted)]

        return await deps.db.transaction(script, write=False)

    @staticmethod
    def for_reader(actor: Actor, followup: Followup, *, hidden: bool) -> Followup:
        """``followup`` without its author when it is the hidden sender's."""
        if hidden and followup.side is Side.SENDER:
            return attrs.evolve(followup, author_id=None)
        return followup


class ReviewService:
    """Oversight reviews of poorly rated messages (permission ``oversight.review``:
    the admins, and the evaluators through ``evaluator.evaluate``)."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    def _overseer(self, ctx: Context) -> Actor:
        actor = _actor(ctx)
        self._d.policy.require(actor, Perm.OVERSIGHT)
        return actor

    def may_review(self, actor: Actor | None) -> bool:
        return actor is not None and self._d.policy.allows(actor, Perm.OVERSIGHT)

    async def list(
        self,
        ctx: Context,
        *,
        open_only: bool = True,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[OversightReview]:
        """Reviews newest first (the open ones by default), keyset-paginated."""
        self._overseer(ctx)
        before = decode_cursor(cursor)
        size = page_size(limit)

        def script(uow: UnitOfWork) -> Sequence[OversightReview]:
            return uow.reviews.listing(open_only=open_only, before_id=before, limit=size + 1)

        rows = await self._d.db.transaction(script, write=False)
        items = tuple(rows[:size])
        more = len(rows) > size
        return Page(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)

    async def count_open(self, ctx: Context) -> int:
        self._overseer(ctx)
        return await self._d.db.transaction(lambda uow: uow.reviews.count_open(), write=False)

    async def of_message(self, ctx: Context, message_id: object) -> OversightReview | None:
        """The open review of a message (None when there is none, or for a
        reader who does not review)."""
        actor = _actor(ctx)
        if not self.may_review(actor):
            return None
        wanted = check_id(message_id, "id")
        return await self._d.db.transaction(lambda uow: uow.reviews.open_for(wanted), write=False)

    async def dismiss(self, ctx: Context, message_id: object) -> OversightReview:
        """Close a message's open review without reopening it (the answer stands)."""
        actor = self._overseer(ctx)
        wanted = check_id(message_id, "id")
        deps = self._d

        def script(uow: UnitOfWork, events: EventRecorder) -> OversightReview:
            message = transitions.load_for_change(deps, uow, actor, wanted, None)
            review = check_review_open(uow.reviews.open_for(message.id, for_update=True))
            now = deps.clock.now()
            if not uow.reviews.close(
                review.id,
                outcome=ReviewOutcome.DISMISSED,
                closed_by=actor.account_id,
                closed_at=now,
            ):
                check_review_open(None)
            return attrs.evolve(
                review, closed_at=now, closed_by=actor.account_id, outcome=ReviewOutcome.DISMISSED
            )

        review = await run_write(deps, script, idempotency=ctx.idempotency)
        log.info("review_dismissed", message_id=review.message_id, review_id=review.id)
        return review


__all__ = ["FollowupService", "ReviewService", "open_review", "overseers"]
