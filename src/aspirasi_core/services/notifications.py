"""In-app notifications of staff: new messages for admins, forwarded ones for operators.

A notification is read through the access rules of the moment it is read: one
about a message the reader can no longer see (re-forwarded to another agency,
withdrawn) keeps only its ticket, without the subject or the link.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..domain.errors import NotFound, Unauthenticated
from ..domain.model import Actor, Notification, Page
from ..domain.validation import check_id
from .context import Context
from .core import CoreDeps
from .cursor import decode_cursor, encode_cursor, page_size
from .ports import UnitOfWork

#: The text of a notification about a message the reader can no longer see.
OUT_OF_VIEW = "Message %(ticket)s is no longer in your view."


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

        def script(uow: UnitOfWork) -> Sequence[Notification]:
            found = uow.notifications.list_for(
                actor.account_id, before_id=before, limit=size + 1, unread_only=unread_only
            )
            return self._as_now(uow, actor, found)

        rows = await self._d.db.transaction(script, write=False)
        items = tuple(rows[:size])
        return Page(
            items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
        )

    def _as_now(
        self, uow: UnitOfWork, actor: Actor, found: Sequence[Notification]
    ) -> Sequence[Notification]:
        """``found`` with what the reader may no longer see taken out."""
        ids = sorted({n.message_id for n in found if n.message_id is not None})
        if not ids:
            return list(found)
        deps = self._d
        scopes = deps.scopes_for(actor, uow)
        visible = {
            m.id for m in uow.messages.get_many(ids) if deps.policy.can_read(actor, m, scopes)
        }
        return [
            n
            if n.message_id is None or n.message_id in visible
            else attrs.evolve(
                n,
                message_id=None,
                text=OUT_OF_VIEW,
                params={"ticket": str(n.params.get("ticket", ""))},
            )
            for n in found
        ]

    async def unread_count(self, ctx: Context) -> int:
        actor = _actor(ctx)
        # Counted on the (account_id, read_at) index.
        return await self._d.db.transaction(
            lambda uow: uow.notifications.unread_count(actor.account_id), write=False
        )

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
