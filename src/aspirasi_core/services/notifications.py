"""In-app notifications of staff: new messages for admins, forwarded ones for operators."""

from __future__ import annotations

from ..domain.errors import NotFound, Unauthenticated
from ..domain.model import Actor, Notification, Page
from ..domain.validation import check_id
from .context import Context
from .core import CoreDeps
from .cursor import decode_cursor, encode_cursor, page_size


def _actor(ctx: Context) -> Actor:
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


class NotificationService:
    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    async def list(
        self,
        ctx: Context,
        *,
        unread_only: bool = False,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Notification]:
        """The signed-in account's notifications, newest first."""
        actor = _actor(ctx)
        before = decode_cursor(cursor)
        size = page_size(limit)
        rows = await self._d.db.transaction(
            lambda uow: uow.notifications.list_for(
                actor.account_id, before_id=before, limit=size + 1, unread_only=unread_only
            ),
            write=False,
        )
        items = tuple(rows[:size])
        return Page(
            items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
        )

    async def unread_count(self, ctx: Context) -> int:
        actor = _actor(ctx)
        # Counted on the (account_id, read_at) index.
        return await self._d.db.read(lambda uow: uow.notifications.unread_count(actor.account_id))

    async def mark_read(self, ctx: Context, notification_id: int) -> None:
        """Mark one of one's own notifications read; someone else's is not found."""
        actor = _actor(ctx)
        nid = check_id(notification_id, "id")
        now = self._d.clock.now()
        ok = await self._d.db.transaction(
            lambda uow: uow.notifications.mark_read(actor.account_id, nid, now), write=True
        )
        if not ok:
            raise NotFound("The notification was not found.", code="notification_not_found")

    async def mark_all_read(self, ctx: Context) -> int:
        actor = _actor(ctx)
        now = self._d.clock.now()
        return await self._d.db.transaction(
            lambda uow: uow.notifications.mark_all_read(actor.account_id, now), write=True
        )
