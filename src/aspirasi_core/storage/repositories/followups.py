"""Follow-ups and oversight reviews on SQLAlchemy Core
(:class:`~aspirasi_core.services.ports.followups.FollowupRepository`,
:class:`~aspirasi_core.services.ports.followups.ReviewRepository`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Connection, delete, func, insert, select, update

from ...domain.followups import Followup, OversightReview, ReviewOutcome, Side
from ...domain.model import Status
from ..tables import message_followups, messages, oversight_reviews, replies

f = message_followups
r = oversight_reviews


def _followup(row: Any) -> Followup:
    return Followup(
        id=row.id,
        message_id=row.message_id,
        side=Side(row.side),
        author_id=row.author_id,
        agency_id=row.agency_id,
        body=row.body,
        created_at=row.created_at,
    )


class SqlFollowupRepository:
    """The follow-up threads."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

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
        values = {
            "message_id": message_id,
            "side": str(side),
            "author_id": author_id,
            "agency_id": agency_id,
            "body": body,
            "created_at": created_at,
        }
        new_id = self._conn.execute(insert(f).values(**values).returning(f.c.id)).scalar_one()
        return Followup(
            id=new_id,
            message_id=message_id,
            side=side,
            author_id=author_id,
            agency_id=agency_id,
            body=body,
            created_at=created_at,
        )

    def thread(self, message_id: int) -> list[Followup]:
        stmt = select(f).where(f.c.message_id == message_id).order_by(f.c.id)
        return [_followup(row) for row in self._conn.execute(stmt)]

    def deidentify_author(self, account_id: int, mask: object) -> int:
        masker: Callable[[str], str] = mask  # type: ignore[assignment]
        rows = self._conn.execute(select(f.c.id, f.c.body).where(f.c.author_id == account_id))
        changed = 0
        for row in rows.all():
            self._conn.execute(
                update(f).where(f.c.id == row.id).values(body=masker(row.body), author_id=None)
            )
            changed += 1
        return changed


_REVIEW_COLUMNS = (
    r,
    messages.c.ticket,
    messages.c.subject,
    messages.c.agency_id,
    messages.c.status,
)


def _review(row: Any, *, with_message: bool = False) -> OversightReview:
    review = OversightReview(
        id=row.id,
        message_id=row.message_id,
        stars=row.stars,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        outcome=ReviewOutcome(row.outcome) if row.outcome else None,
    )
    if not with_message:
        return review
    return attrs.evolve(
        review,
        ticket=row.ticket,
        subject=row.subject,
        agency_id=row.agency_id,
        status=Status(row.status),
    )


class SqlReviewRepository:
    """Oversight reviews."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def open(self, message_id: int, stars: int, opened_at: datetime) -> OversightReview:
        new_id = self._conn.execute(
            insert(r)
            .values(message_id=message_id, stars=stars, opened_at=opened_at)
            .returning(r.c.id)
        ).scalar_one()
        return OversightReview(id=new_id, message_id=message_id, stars=stars, opened_at=opened_at)

    def open_for(self, message_id: int, *, for_update: bool = False) -> OversightReview | None:
        stmt = (
            select(r)
            .where(r.c.message_id == message_id, r.c.closed_at.is_(None))
            .order_by(r.c.id.desc())
            .limit(1)
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = self._conn.execute(stmt).first()
        return _review(row) if row is not None else None

    def close(
        self, review_id: int, *, outcome: ReviewOutcome, closed_by: int, closed_at: datetime
    ) -> bool:
        stmt = (
            update(r)
            .where(r.c.id == review_id, r.c.closed_at.is_(None))
            .values(outcome=str(outcome), closed_by=closed_by, closed_at=closed_at)
        )
        return bool(self._conn.execute(stmt).rowcount == 1)

    def listing(
        self, *, open_only: bool, before_id: int | None, limit: int
    ) -> Sequence[OversightReview]:
        stmt = (
            select(*_REVIEW_COLUMNS)
            .select_from(r.join(messages, messages.c.id == r.c.message_id))
            .order_by(r.c.id.desc())
            .limit(limit)
        )
        if open_only:
            stmt = stmt.where(r.c.closed_at.is_(None))
        if before_id is not None:
            stmt = stmt.where(r.c.id < before_id)
        return [_review(row, with_message=True) for row in self._conn.execute(stmt)]

    def count_open(self) -> int:
        stmt = select(func.count()).select_from(r).where(r.c.closed_at.is_(None))
        return int(self._conn.execute(stmt).scalar_one())

    def retire_reply(self, message_id: int) -> None:
        self._conn.execute(delete(replies).where(replies.c.message_id == message_id))


__all__ = ["SqlFollowupRepository", "SqlReviewRepository"]
