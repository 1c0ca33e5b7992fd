"""Read-side use cases: the lists (one's own messages, the back office, a plugin
scope, the public list) and public tracking; part of
:class:`.queries.QueryService`. Lists are keyset-paginated, and their messages
go through the privacy rule of :mod:`aspirasi_core.domain.privacy` like every
read (see :mod:`.queries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from ..domain.errors import Invalid, NotAllowed, Unauthenticated
from ..domain.model import Actor, Message, Page, Status
from ..domain.nik import normalize_nik
from ..domain.policy import MessageScope, Perm
from ..domain.privacy import redact_message
from ..domain.validation import check_flag, clean_text
from ..domain.workflow import rating_stands
from .context import Context
from .core import CoreDeps
from .cursor import decode_cursor, decode_due_cursor, encode_cursor, encode_due_cursor, page_size
from .ports import BackofficeFilter, PublicMessage, TrackedMessage, UnitOfWork

#: How many of one NIK's messages tracking shows.
TRACKING_LIMIT = 50
#: The digits of a NIK that rate limits of tracking count by: region and birth
#: date, which a caller guessing serial numbers keeps fixed.
NIK_PREFIX = 12


#: The orders of the back-office list.
SORTS = ("newest", "due")


@attrs.frozen
class BackofficeQuery:
    """What a back-office user filters by (all optional)."""

    status: str | None = None
    agency_id: int | None = None
    category_id: int | None = None
    subcategory_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    #: Only messages past their SOP deadline.
    overdue: bool = False
    #: ``newest`` (default) or ``due``: open messages, earliest deadline first.
    sort: str = "newest"
    #: Only messages located in this regency or city (its Kemendagri code, one of
    #: ``ASPIRASI_REGIONS_FILE``; another code is refused: ``regency_unknown``).
    regency: str | None = None


def _page(rows: Sequence[Any], limit: int) -> Page[Any]:
    items = tuple(rows[:limit])
    next_cursor = encode_cursor(items[-1].id) if len(rows) > limit and items else None
    return Page(items=items, next_cursor=next_cursor)


def _require_actor(ctx: Context) -> Actor:
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


class ListQueries:
    """The list reads of :class:`.queries.QueryService`."""

    _d: CoreDeps

    async def my_messages(
        self, ctx: Context, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Message]:
        """The signed-in citizen's messages (withdrawn ones excluded), newest first."""
        actor = _require_actor(ctx)
        before = decode_cursor(cursor)
        size = page_size(limit)
        rows = await self._d.db.transaction(
            lambda uow: uow.messages.list_by_author(
                actor.account_id, before_id=before, limit=size + 1
            ),
            write=False,
        )
        return _page(rows, size)

    async def awaiting_rating(self, ctx: Context, messages: Sequence[Message]) -> list[Message]:
        """Those of ``messages`` that are the signed-in citizen's own, done and not rated
        yet — or rated before oversight reopened them and they were done again —
        (the dashboard asks for their rating), in the given order."""
        actor = _require_actor(ctx)
        done = [m for m in messages if m.status is Status.DONE and m.author_id == actor.account_id]
        if not done:
            return []
        rated = await self._d.db.transaction(
            lambda uow: {m.id for m in done if rating_stands(m, uow.messages.rating(m.id))},
            write=False,
        )
        return [m for m in done if m.id not in rated]

    def _base_filter(self, query: BackofficeQuery) -> BackofficeFilter:
        """The user's filters, validated (no access rule yet)."""
        statuses = None
        if query.status:
            try:
                status = Status(query.status)
            except ValueError:
                status = Status.WITHDRAWN
            if status is Status.WITHDRAWN:
                raise Invalid.field("status", "status_unknown", "Choose a known status.")
            statuses = frozenset({status})
        text = clean_text(query.text, "text", max_length=200, required=False) or None
        if query.sort not in SORTS:
            raise Invalid.field("sort", "sort_unknown", "Choose a known order.")
        overdue = check_flag(query.overdue, "overdue")
        regency = query.regency.strip() if isinstance(query.regency, str) else None
        if regency and self._d.regions.regency(regency) is None:
            raise Invalid.field(
                "regency", "regency_unknown", "Choose a regency or city from the list."
            )
        return BackofficeFilter(
            statuses=statuses,
            agency_id=query.agency_id,
            category_id=query.category_id,
            subcategory_id=query.subcategory_id,
            created_from=query.created_from,
            created_to=query.created_to,
            text=text,
            due_before=self._d.clock.now() if overdue else None,
            regency_code=regency or None,
        )

    def _filter(self, actor: Actor, query: BackofficeQuery) -> BackofficeFilter:
        """The user's filters plus the access rule of the reader's level."""
        policy = self._d.policy
        base = self._base_filter(query)
        if policy.allows(actor, Perm.MESSAGE_READ_ALL):
            return base
        if policy.allows(actor, Perm.MESSAGE_READ_AGENCY) and actor.agency_id is not None:
            return attrs.evolve(base, restrict_agency_id=actor.agency_id)
        raise NotAllowed("You are not allowed to do this.", code="forbidden")

    async def backoffice(
        self,
        ctx: Context,
        query: BackofficeQuery,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Message]:
        """The back-office list: every message for admins, the agency's for operators."""
        actor = _require_actor(ctx)
        if not self._d.policy.allows(actor, Perm.BACKOFFICE):
            raise NotAllowed("You are not allowed to do this.", code="forbidden")
        flt = self._filter(actor, query)
        return await self._list(actor, flt, query, cursor, limit)

    async def _list(
        self,
        actor: Actor,
        flt: BackofficeFilter,
        query: BackofficeQuery,
        cursor: str | None,
        limit: int | None,
    ) -> Page[Message]:
        page = await self._list_stored(flt, query, cursor, limit)
        if not any(m.anonymous for m in page.items):
            return page
        return attrs.evolve(page, items=tuple(redact_message(m, actor) for m in page.items))

    async def _list_stored(
        self, flt: BackofficeFilter, query: BackofficeQuery, cursor: str | None, limit: int | None
    ) -> Page[Message]:
        size = page_size(limit)
        db = self._d.db
        if query.sort == "due":
            after = decode_due_cursor(cursor)

            def by_due(uow: UnitOfWork) -> list[Message]:
                return uow.messages.list_backoffice_by_due(flt, after=after, limit=size + 1)

            rows = await db.transaction(by_due, write=False)
            items = tuple(rows[:size])
            next_cursor = None
            if len(rows) > size and items and items[-1].due_at is not None:
                next_cursor = encode_due_cursor(items[-1].due_at, items[-1].id)
            return Page(items=items, next_cursor=next_cursor)
        before = decode_cursor(cursor)

        def newest(uow: UnitOfWork) -> list[Message]:
            return uow.messages.list_backoffice(flt, before_id=before, limit=size + 1)

        rows = await db.transaction(newest, write=False)
        return _page(rows, size)

    async def scoped(
        self,
        ctx: Context,
        scope_name: str,
        query: BackofficeQuery | None = None,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Message]:
        """Messages inside one plugin visibility scope of the reader (e.g. the
        land-issue monitor's list); NotAllowed when the reader has no such scope."""
        actor = _require_actor(ctx)
        deps = self._d
        scopes: tuple[MessageScope, ...] = tuple(
            s for s in deps.scopes_for(actor) if s.name == scope_name
        )
        if not scopes:
            raise NotAllowed("You are not allowed to do this.", code="forbidden")
        query = query or BackofficeQuery()
        flt = attrs.evolve(self._base_filter(query), scopes=scopes)
        return await self._list(actor, flt, query, cursor, limit)

    async def public(
        self, *, cursor: str | None = None, limit: int | None = None, text: str | None = None
    ) -> Page[PublicMessage]:
        """Public messages: not confidential, already handled by the admin; no sender data."""
        before = decode_cursor(cursor)
        size = page_size(limit)
        search = clean_text(text, "q", max_length=200, required=False) or None

        def script(uow: UnitOfWork) -> list[PublicMessage]:
            return uow.messages.list_public(before_id=before, limit=size + 1, text=search)

        public = await self._d.db.transaction(script, write=False)
        return _page(public, size)

    async def track(self, ctx: Context, nik: str) -> list[TrackedMessage]:
        """Public tracking, the minimum: the messages of the account registered with
        ``nik`` that are neither confidential nor anonymous, with ticket, date sent,
        status, SOP deadline and dated status steps, and the (masked) subject of
        those on the public list; never a text the staff wrote. An unknown NIK
        answers an empty list.

        Rate limits see the first 12 digits (region and birth date) as the call's
        subject, so the serial numbers of one prefix cannot be walked from many
        addresses either."""
        value = normalize_nik(nik)
        deps = self._d
        await deps.before("track", ctx, subject=value[:NIK_PREFIX])
        index = deps.crypto.nik_index(value)

        def script(uow: UnitOfWork) -> list[TrackedMessage]:
            return uow.messages.tracking(index, limit=TRACKING_LIMIT)

        return await deps.db.transaction(script, write=False)
