"""Message use cases: submit (:mod:`~aspirasi_core.services.message_submission`),
every status move of the workflow table (:meth:`MessageService.act`: forward,
re-forward, reject, withdraw, start, progress update, reply, return, reopen; its
pieces in :mod:`~aspirasi_core.services.transitions`), rate.

Each runs in one transaction that also writes the log entry, the in-app
notifications and the outbox items. A change reads the message locked
(:func:`~aspirasi_core.services.transitions.load_for_change`) and writes it compare-and-set on its
``version``, so two people acting at once cannot both win: the second one sees the
first one's result (and usually a 409). A caller that says which version it acted
on (``expected_version``) loses with ``message_changed`` when it is not the
current one, also for changes that leave the status as it was (re-forward,
progress update).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio.to_thread

from ..domain.errors import Invalid
from ..domain.events import MessageRated
from ..domain.followups import REVIEW_STARS
from ..domain.model import (
    Action,
    Actor,
    Message,
    Rating,
    Role,
    Status,
    Visibility,
)
from ..domain.policy import ACTION_PERMISSIONS
from ..domain.privacy import author_of
from ..domain.validation import LIMITS, Collector, check_id, check_stars, clean_text
from ..domain.workflow import check_can_rate, message_changed, rating_stands, target_of
from ..security.uploads import CleanFile
from . import followups, transitions
from .context import Context
from .core import CoreDeps, EventRecorder, run_write
from .message_files import Upload
from .message_submission import MessageSubmission, SubmitInput, new_ticket, require_actor
from .ports import NewAttachment, UnitOfWork
from .sop import SopService


def _expected(version: object) -> int | None:
    """The version a caller says it acted on: None (not said) or a positive int."""
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or not 0 < version < 2**31:
        raise Invalid.field("version", "version_invalid", "The version is not valid.")
    return version


class MessageService(MessageSubmission):
    """Commands on messages."""

    def __init__(self, deps: CoreDeps, sop: SopService | None = None) -> None:
        self._d = deps
        self._sop = sop or SopService(deps)
        #: JPEG attachments decoded at once in this process
        #: (``ASPIRASI_IMAGE_DECODE_CONCURRENCY``); the others wait here, without a
        #: thread. PDFs are checked outside it.
        self.image_decodes = anyio.CapacityLimiter(deps.settings.image_decode_concurrency)

    # ------------------------------------------------------------------ rate
    async def rate(
        self,
        ctx: Context,
        message_id: int,
        stars: object,
        comment: str = "",
        *,
        expected_version: int | None = None,
    ) -> Rating:
        """The owner rates a ``done`` message: 1–5 stars and a comment; once per
        outcome (again after oversight reopened it and it was done anew)."""
        actor = require_actor(ctx)
        message_id = check_id(message_id, "id")
        expected = _expected(expected_version)
        collector = Collector()
        stars_value = collector.check(check_stars, stars)
        text = collector.check(
            clean_text,
            comment,
            "comment",
            max_length=LIMITS["comment"],
            required=False,
            multiline=True,
        )
        collector.raise_if_any()
        assert stars_value is not None
        deps = self._d

        def script(uow: UnitOfWork, events: EventRecorder) -> Rating:
            message = transitions.load_for_change(deps, uow, actor, message_id, expected)
            earlier = uow.messages.rating(message.id)
            check_can_rate(message, actor, deps.policy, rating_stands(message, earlier))
            now = deps.clock.now()
            rating = Rating(
                message_id=message.id, stars=stars_value, comment=text or "", created_at=now
            )
            if earlier is None:
                uow.messages.add_rating(rating)
            else:  # the outcome oversight reopened was rated: this one rates the new one
                uow.messages.replace_rating(rating)
            if not uow.messages.bump_version(message.id, message.version):
                raise message_changed()
            if stars_value <= REVIEW_STARS:
                followups.open_review(deps, uow, message, stars_value, now)
            events.record(
                MessageRated(
                    message_id=message.id,
                    ticket=message.ticket,
                    author_id=author_of(message),
                    agency_id=message.agency_id,
                    stars=stars_value,
                    at=now,
                )
            )
            return rating

        return await run_write(deps, script, idempotency=ctx.idempotency)

    # ------------------------------------------------------------------ status moves
    async def act(
        self,
        ctx: Context,
        message_id: int,
        action: Action | str,
        *,
        expected_version: int | None = None,
        **fields: Any,
    ) -> Message:
        """Take ``action`` on a message: one use case for every move of the
        workflow table (:data:`~aspirasi_core.domain.workflow.TRANSITIONS`).

        ``fields`` are what the action takes (:data:`~.transitions.STEPS`):

        - ``forward`` (on a ``forwarded`` message: a re-forward, as ``reforward``):
          ``category_id``, ``subcategory_id``, ``agency_id``, ``note``, ``visibility``
          (default internal); the agency's operators get a notice;
        - ``reject``: ``reason`` (required), ``visibility`` (default: the sender);
        - ``withdraw`` (the owner, while ``submitted``): nothing;
        - ``start`` (the agency confirms): ``note``, ``visibility``;
        - ``progress``: ``note`` (required), ``visibility``;
        - ``reply`` (closes it): ``answer`` (required), ``attachment`` (an
          :class:`Upload`, a PDF), ``visibility``;
        - ``return`` (the agency: not its authority; back to ``submitted``, the
          admins get a notice): ``reason`` (required), ``visibility`` (default internal);
        - ``reopen`` (oversight, on a ``done`` message with an open review: back to
          ``in_progress`` with a new reply deadline; the agency gets a notice):
          ``reason`` (required), ``visibility`` (default internal).

        The actor's role must allow the action before anything it sent is
        looked at (:class:`~aspirasi_core.domain.errors.NotAllowed`, 403, also
        for an empty body); then the input, then the message (its status, the
        actor's scope, ``expected_version``: the version the caller acted on,
        else ``message_changed``, 409). A field the action does not take is a
        ``TypeError``.
        """
        actor = require_actor(ctx)
        chosen = transitions.parse_action(action)
        transitions.check_fields(chosen, fields)
        deps = self._d
        deps.policy.require(actor, ACTION_PERMISSIONS[chosen])
        message_id = check_id(message_id, "id")
        expected = _expected(expected_version)
        text, visibility = transitions.staff_text(chosen, fields)
        step = transitions.STEPS[chosen]
        clean: CleanFile | None = None
        if step.attachment:
            # Check status, scope and version before spending time on the file.
            await deps.db.transaction(
                lambda uow: self._check_possible(uow, actor, message_id, chosen, expected),
                write=False,
            )
            clean = await self._clean_upload(fields.get("attachment"), frozenset({"pdf"}))
        key = await anyio.to_thread.run_sync(self._store_file, clean)

        def script(uow: UnitOfWork, events: EventRecorder) -> Message:
            message = transitions.load_for_change(deps, uow, actor, message_id, expected)
            move = chosen
            classified = None
            if step.classifies:
                deps.policy.check_can_act(actor, message, Action.FORWARD)
                classified = transitions.classification(uow, fields)
                forwarded = message.status is Status.FORWARDED
                move = Action.REFORWARD if forwarded else Action.FORWARD
            new, _ = transitions.apply(
                deps,
                self._sop,
                uow,
                events,
                actor,
                message,
                move,
                note=text,
                note_visibility=visibility,
                classified=classified,
            )
            now = deps.clock.now()
            transitions.announce(deps, uow, actor, move, message, new, now)
            if step.classifies:
                transitions.notify(
                    uow,
                    [
                        a.id
                        for a in uow.accounts.recipients(
                            role=Role.OPERATOR, agency_id=new.agency_id
                        )
                    ],
                    kind="message_forwarded",
                    message=new,
                    text="Message %(ticket)s was forwarded to your agency: %(subject)s",
                    now=now,
                    exclude=actor.account_id,
                )
            if chosen is Action.REPLY:
                self._add_reply(uow, actor, message, text, visibility, clean, key, now)
            return new

        write = run_write(deps, script, idempotency=ctx.idempotency)
        return await self._recorded(key, write)

    def _add_reply(
        self,
        uow: UnitOfWork,
        actor: Actor,
        message: Message,
        answer: str,
        visibility: Visibility,
        clean: CleanFile | None,
        key: str | None,
        now: datetime,
    ) -> None:
        attachment_id = None
        if clean is not None and key is not None:
            attachment_id = uow.messages.add_attachment(
                NewAttachment(
                    message_id=message.id,
                    kind="reply",
                    filename=clean.filename,
                    content_type=clean.content_type,
                    size=len(clean.data),
                    storage_key=key,
                    sha256=clean.sha256,
                    created_at=now,
                )
            ).id
        uow.messages.add_reply(
            message.id, actor.account_id, answer, now, attachment_id, visibility=visibility
        )

    def _check_possible(
        self, uow: UnitOfWork, actor: Actor, message_id: int, action: Action, expected: int | None
    ) -> None:
        """Whether ``action`` could be taken now (before a file is inspected)."""
        message = transitions.load_for_change(self._d, uow, actor, message_id, expected, lock=False)
        self._d.policy.check_can_act(actor, message, action)
        target_of(message.status, action)


__all__ = ["MessageService", "SubmitInput", "Upload", "new_ticket"]
