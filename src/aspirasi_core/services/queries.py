"""Read-side use cases: a message's detail and log, the lists, public tracking.

Every read checks scope on the server: a message outside the reader's scope is
"not found" (no hint that the id exists). Lists are keyset-paginated.

Every message and log these reads return has gone through the privacy rule of
:mod:`aspirasi_core.domain.privacy`: the sender of an anonymous message is known
to the sender alone. A reader other than the sender who is shown a sender's
details gets an audit entry (``message.sender_read``) written before the answer
leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from ..domain.audit import AuditAction
from ..domain.errors import DomainError, Invalid, NotAllowed, NotFound, Unauthenticated
from ..domain.model import (
    Action,
    Actor,
    Agency,
    Attachment,
    Category,
    LogEntry,
    Message,
    Page,
    Rating,
    Reply,
    Status,
    Subcategory,
    Visibility,
)
from ..domain.nik import normalize_nik
from ..domain.policy import MessageScope, Perm
from ..domain.privacy import redact_log, redact_message, sender_hidden
from ..domain.validation import check_flag, check_id, clean_text
from ..domain.workflow import allowed_actions, check_can_rate
from .audit import audit_entry
from .context import Context
from .core import CoreDeps
from .cursor import decode_cursor, decode_due_cursor, encode_cursor, encode_due_cursor, page_size
from .ports import BackofficeFilter, PublicMessage, TrackedLogEntry, TrackedMessage, UnitOfWork

#: How many of one NIK's messages tracking shows.
TRACKING_LIMIT = 50
#: The digits of a NIK that rate limits of tracking count by: region and birth
#: date, which a caller guessing serial numbers keeps fixed.
NIK_PREFIX = 12


@attrs.frozen
class PersonView:
    """The sender as the reader may see them."""

    id: int
    full_name: str
    username: str
    email: str | None = None


@attrs.frozen
class MessageDetail:
    message: Message
    author: PersonView | None
    category: Category | None
    subcategory: Subcategory | None
    agency: Agency | None
    reply: Reply | None
    rating: Rating | None
    log: tuple[LogEntry, ...]
    #: What the reader may do now: withdraw, forward, reforward, reject, start, progress, reply, rate.
    actions: frozenset[str]
    #: The message is anonymous and the reader is not its sender: ``author`` is
    #: None, ``message.author_id`` too, and the sender's log entries have no actor.
    sender_hidden: bool = False
    #: The sender deleted their account (``author`` is then None).
    author_deleted: bool = False


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


def _page(rows: Sequence[Any], limit: int) -> Page[Any]:
    items = tuple(rows[:limit])
    next_cursor = encode_cursor(items[-1].id) if len(rows) > limit and items else None
    return Page(items=items, next_cursor=next_cursor)


def _require_actor(ctx: Context) -> Actor:
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


def for_sender(log: Sequence[LogEntry]) -> tuple[LogEntry, ...]:
    """The log as its sender reads it: every step, only the notes meant for them."""
    return tuple(
        e if e.note_visibility is Visibility.SENDER or not e.note else attrs.evolve(e, note="")
        for e in log
    )


def reply_for_sender(reply: Reply | None) -> Reply | None:
    """The reply as its sender may read it: itself when it is for the sender,
    None when it is internal (the staff's only)."""
    return reply if reply is not None and reply.visibility is Visibility.SENDER else None


class QueryService:
    """Reads."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    # ------------------------------------------------------------------ one message
    def _visible(self, uow: UnitOfWork, actor: Actor, message_id: int) -> Message:
        message = uow.messages.get(message_id) if 0 < message_id < 2**62 else None
        if message is None or not self._d.policy.can_read(
            actor, message, self._d.scopes_for(actor, uow)
        ):
            raise NotFound("The message was not found.", code="message_not_found")
        return message

    def _actions(self, actor: Actor, message: Message, rated: bool) -> frozenset[str]:
        possible: set[str] = set()
        for action in allowed_actions(message.status):
            try:
                self._d.policy.check_can_act(actor, message, action)
            except DomainError:
                continue
            possible.add(str(action))
        try:
            check_can_rate(message, actor, self._d.policy, rated)
            possible.add("rate")
        except DomainError:
            pass
        return frozenset(possible)

    async def message(self, ctx: Context, message_id: int) -> MessageDetail:
        """Everything the reader may see of one message."""
        actor = _require_actor(ctx)
        deps = self._d

        def script(uow: UnitOfWork) -> MessageDetail:
            message = self._visible(uow, actor, int(message_id))
            hidden = sender_hidden(message, actor)
            author_account = (
                uow.accounts.get(message.author_id)
                if not hidden and message.author_id is not None
                else None
            )
            author = None
            deleted = author_account is not None and author_account.deleted
            if author_account is not None and not deleted:
                author = PersonView(
                    id=author_account.id,
                    full_name=author_account.full_name,
                    username=author_account.username,
                    email=author_account.email if actor.is_staff else None,
                )
            rating = uow.messages.rating(message.id)
            internal = deps.policy.reads_internal(actor, message, deps.scopes_for(actor, uow))
            log: Sequence[LogEntry] = uow.messages.log(message.id)
            if not internal:
                log = for_sender(log)
            reply = uow.messages.reply(message.id)
            if not internal:
                reply = reply_for_sender(reply)
            return MessageDetail(
                message=redact_message(message, actor),
                author=author,
                category=uow.directory.category(message.category_id)
                if message.category_id
                else None,
                subcategory=(
                    uow.directory.subcategory(message.subcategory_id)
                    if message.subcategory_id
                    else None
                ),
                agency=uow.directory.agency(message.agency_id) if message.agency_id else None,
                reply=reply,
                rating=rating,
                log=redact_log(log, message, actor),
                actions=self._actions(actor, message, rating is not None),
                sender_hidden=hidden,
                author_deleted=deleted,
            )

        detail = await deps.db.transaction(script, write=False)
        if detail.author is not None and detail.author.id != actor.account_id:
            # Someone else's personal data: no audit entry, no answer.
            entry = audit_entry(
                ctx,
                AuditAction.MESSAGE_SENDER_READ,
                at=deps.clock.now(),
                subject_account_id=detail.author.id,
                subject_message_id=detail.message.id,
            )
            await deps.db.transaction(lambda uow: uow.audit.add(entry), write=True)
        return detail

    async def message_log(self, ctx: Context, message_id: int) -> list[LogEntry]:
        """The status log of a message the reader may see, oldest first (its sender
        reads only the notes meant for them)."""
        actor = _require_actor(ctx)
        deps = self._d

        def script(uow: UnitOfWork) -> list[LogEntry]:
            message = self._visible(uow, actor, int(message_id))
            log: Sequence[LogEntry] = uow.messages.log(message.id)
            if not deps.policy.reads_internal(actor, message, deps.scopes_for(actor, uow)):
                log = for_sender(log)
            return list(redact_log(log, message, actor))

        return await self._d.db.transaction(script, write=False)

    async def logs(
        self, ctx: Context, message_ids: Sequence[int]
    ) -> dict[int, tuple[LogEntry, ...]]:
        """The status logs (oldest first) of several messages, e.g. of one page of
        a list, as the reader may see them (one read transaction). Messages the
        reader may not read, or that do not exist, are left out."""
        actor = _require_actor(ctx)
        ids = [check_id(i, "id") for i in message_ids]
        deps = self._d

        def script(uow: UnitOfWork) -> dict[int, tuple[LogEntry, ...]]:
            scopes = deps.scopes_for(actor, uow)
            found = {m.id: m for m in uow.messages.get_many(ids)}
            readable = [
                found[i]
                for i in dict.fromkeys(ids)
                if i in found and deps.policy.can_read(actor, found[i], scopes)
            ]
            logs = uow.messages.logs_for([m.id for m in readable])
            return {
                m.id: redact_log(
                    logs[m.id]
                    if deps.policy.reads_internal(actor, m, scopes)
                    else for_sender(logs[m.id]),
                    m,
                    actor,
                )
                for m in readable
            }

        return await deps.db.transaction(script, write=False)

    async def attachment(
        self, ctx: Context, message_id: int, attachment_id: int
    ) -> tuple[str, str, bytes]:
        """(filename, content type, bytes) of an attachment of a message the reader may see."""
        actor = _require_actor(ctx)
        deps = self._d

        def script(uow: UnitOfWork) -> tuple[str, str, str]:
            message = self._visible(uow, actor, int(message_id))
            wanted = int(attachment_id)
            # An id no row can have (past 64 bits) is simply not there.
            found = uow.messages.attachment(wanted) if 0 < wanted < 2**62 else None
            if (
                found is None
                or found.message_id != message.id
                or not self._may_open(uow, actor, message, found)
            ):
                raise NotFound("The file was not found.", code="attachment_not_found")
            if found.removed:
                raise NotFound("This attachment was removed.", code="attachment_removed")
            return found.filename, found.content_type, found.storage_key

        filename, content_type, key = await deps.db.transaction(script, write=False)
        return filename, content_type, deps.files.get(key)

    def _may_open(
        self, uow: UnitOfWork, actor: Actor, message: Message, attachment: Attachment
    ) -> bool:
        """The file of an internal reply is the staff's only."""
        if attachment.kind != "reply":
            return True
        deps = self._d
        if deps.policy.reads_internal(actor, message, deps.scopes_for(actor, uow)):
            return True
        return reply_for_sender(uow.messages.reply(message.id)) is not None

    # ------------------------------------------------------------------ lists
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
        yet (the dashboard asks for their rating), in the given order."""
        actor = _require_actor(ctx)
        done = [m for m in messages if m.status is Status.DONE and m.author_id == actor.account_id]
        if not done:
            return []
        rated = await self._d.db.transaction(
            lambda uow: {m.id for m in done if uow.messages.rating(m.id) is not None},
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
        return BackofficeFilter(
            statuses=statuses,
            agency_id=query.agency_id,
            category_id=query.category_id,
            subcategory_id=query.subcategory_id,
            created_from=query.created_from,
            created_to=query.created_to,
            text=text,
            due_before=self._d.clock.now() if overdue else None,
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


__all__ = [
    "Action",
    "BackofficeQuery",
    "MessageDetail",
    "PersonView",
    "PublicMessage",
    "QueryService",
    "TrackedLogEntry",
    "TrackedMessage",
    "for_sender",
]
