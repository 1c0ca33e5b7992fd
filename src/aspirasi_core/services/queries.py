"""Read-side use cases: a message's detail and log, the lists, public tracking
(the lists and tracking are in :mod:`.list_queries`).

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

import anyio.to_thread
import attrs

from ..domain.audit import AuditAction
from ..domain.errors import DomainError, NotFound
from ..domain.model import (
    Action,
    Actor,
    Agency,
    Attachment,
    Category,
    LogEntry,
    Message,
    Rating,
    ReplacedRating,
    Reply,
    Subcategory,
    Visibility,
)
from ..domain.privacy import redact_log, redact_message, sender_hidden
from ..domain.validation import check_id
from ..domain.workflow import allowed_actions, check_can_rate, rating_stands
from .attachments import AttachmentDownload
from .audit import audit_entry
from .context import Context
from .core import CoreDeps
from .list_queries import (
    NIK_PREFIX,
    SORTS,
    TRACKING_LIMIT,
    BackofficeQuery,
    ListQueries,
    _require_actor,
)
from .ports import PublicMessage, TrackedLogEntry, TrackedMessage, UnitOfWork


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
    #: The ratings of earlier outcomes that ``rating`` replaced (the message was
    #: reopened by oversight and done again), oldest first: for whoever sees ``rating``.
    replaced_ratings: tuple[ReplacedRating, ...] = ()


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


class QueryService(ListQueries):
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
            replaced = tuple(uow.messages.replaced_ratings(message.id)) if rating else ()
            internal = deps.policy.reads_internal(actor, message, deps.scopes_for(actor, uow))
            log: Sequence[LogEntry] = uow.messages.log(message.id)
            if not internal:
                log = for_sender(log)
            reply = uow.messages.reply(message.id)
            if not internal:
                reply = reply_for_sender(reply)
            shown = redact_message(message, actor)
            if not internal and shown.latitude is not None:
                # Coordinates are for the staff: not even their sender reads them back.
                shown = attrs.evolve(shown, latitude=None, longitude=None)
            return MessageDetail(
                message=shown,
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
                actions=self._actions(actor, message, rating_stands(message, rating)),
                sender_hidden=hidden,
                author_deleted=deleted,
                replaced_ratings=replaced,
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
        found = await self.attachment_download(ctx, message_id, attachment_id)
        data = await anyio.to_thread.run_sync(found.read)
        return found.filename, found.content_type, data

    async def attachment_download(
        self, ctx: Context, message_id: int, attachment_id: int
    ) -> AttachmentDownload:
        """An attachment of a message the reader may see, to stream or to hand out
        as a short-lived URL: the access checks are done when it is returned."""
        actor = _require_actor(ctx)
        deps = self._d

        def script(uow: UnitOfWork) -> tuple[str, str, str, tuple[str, str] | None]:
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
            stamp = None
            if found.kind == "reply" and found.content_type == "application/pdf":
                # the reply's entry of the hash chain, for the file's metadata
                hashes = uow.log_chain.entry_hashes(message.id, [str(Action.REPLY)])
                stamp = (message.ticket, hashes[-1]) if hashes else None
            return found.filename, found.content_type, found.storage_key, stamp

        filename, content_type, key, stamp = await deps.db.transaction(script, write=False)
        return AttachmentDownload(filename, content_type, deps.files, key, stamp=stamp)

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


__all__ = [
    "NIK_PREFIX",
    "SORTS",
    "TRACKING_LIMIT",
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
