"""Message use cases: submit, withdraw, forward, re-forward, reject, start,
progress update, reply, rate.

Each runs in one transaction that also writes the log entry, the in-app
notifications and the outbox items. A change reads the message locked
(:meth:`MessageService._load_for_change`) and writes it compare-and-set on its
``version``, so two people acting at once cannot both win: the second one sees the
first one's result (and usually a 409). A caller that says which version it acted
on (``expected_version``) loses with ``message_changed`` when it is not the
current one, also for changes that leave the status as it was (re-forward,
progress update).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import anyio.to_thread
import attrs
import structlog

from ..domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    IllegalTransition,
    Invalid,
    NotAllowed,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from ..domain.events import MessageRated, MessageSubmitted, StatusChanged
from ..domain.model import (
    DEFAULT_VISIBILITY,
    Action,
    Actor,
    Attachment,
    Message,
    Rating,
    Role,
    Status,
    Visibility,
)
from ..domain.policy import Perm
from ..domain.privacy import author_of
from ..domain.validation import (
    LIMITS,
    Collector,
    check_flag,
    check_id,
    check_stars,
    check_visibility,
    clean_text,
)
from ..domain.workflow import (
    Classification,
    check_can_rate,
    check_version,
    message_changed,
    transition,
)
from ..plugin_types import SubmissionDraft
from ..security.uploads import JPEG, CleanFile, inspect_upload, safe_filename, sniff
from .context import Context
from .core import CoreDeps, EventRecorder, run_write
from .ports import NewAttachment, NewLogEntry, NewMessage, UnitOfWork
from .sop import SopService

T = TypeVar("T")

log = structlog.get_logger("aspirasi.messages")

_TICKET_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_ticket(now: datetime) -> str:
    """A public message number: year-month and 8 random characters (``2611-K7Q2M9XD``).

    Random rather than sequential, so a ticket reveals nothing about others."""
    tail = "".join(secrets.choice(_TICKET_ALPHABET) for _ in range(8))
    return f"{now:%y%m}-{tail}"


@attrs.frozen
class Upload:
    """A file as received from a form or a multipart request."""

    filename: str
    data: bytes = attrs.field(repr=False)


@attrs.frozen
class SubmitInput:
    subject: str
    body: str
    confidential: bool = False
    anonymous: bool = False
    #: One file (kept for callers that send one); :attr:`attachments` takes several.
    attachment: Upload | None = None
    #: Up to ``ASPIRASI_MAX_ATTACHMENTS`` files (JPG or PDF), after :attr:`attachment`.
    attachments: Sequence[Upload] = ()

    def uploads(self) -> list[Upload]:
        """Every file sent, in order, the empty file fields of a form left out."""
        files = [self.attachment, *self.attachments]
        return [f for f in files if f is not None and (f.data or f.filename)]


@attrs.frozen
class ForwardInput:
    category_id: int
    subcategory_id: int
    agency_id: int
    note: str = ""
    #: Who may read the note: ``"internal"`` (default) or ``"sender"`` (see
    #: :class:`~aspirasi_core.domain.model.Visibility`).
    visibility: object = None


def _expected(version: object) -> int | None:
    """The version a caller says it acted on: None (not said) or a positive int."""
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or not 0 < version < 2**31:
        raise Invalid.field("version", "version_invalid", "The version is not valid.")
    return version


def _require_actor(ctx: Context) -> Actor:
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


def _staff_text(
    action: Action,
    text: object,
    field: str,
    visibility: object,
    *,
    limit: str,
    required: bool = True,
) -> tuple[str, Visibility]:
    """A text the staff write with an action (a note, a reason, an answer) and who
    may read it (the action's default when ``visibility`` is None); every error at once."""
    collector = Collector()
    clean = collector.check(
        clean_text, text, field, max_length=LIMITS[limit], required=required, multiline=True
    )
    chosen = collector.check(check_visibility, visibility, DEFAULT_VISIBILITY[action])
    collector.raise_if_any()
    assert chosen is not None
    return clean or "", chosen


class MessageService:
    """Commands on messages."""

    def __init__(self, deps: CoreDeps, sop: SopService | None = None) -> None:
        self._d = deps
        self._sop = sop or SopService(deps)
        #: JPEG attachments decoded at once in this process
        #: (``ASPIRASI_IMAGE_DECODE_CONCURRENCY``); the others wait here, without a
        #: thread. PDFs are checked outside it.
        self.image_decodes = anyio.CapacityLimiter(deps.settings.image_decode_concurrency)

    # ------------------------------------------------------------------ helpers
    async def _clean_upload(
        self, upload: Upload | None, allowed: frozenset[str]
    ) -> CleanFile | None:
        if upload is None or (not upload.data and not upload.filename):
            return None
        max_bytes = self._d.settings.max_upload_mb * 1024 * 1024
        # A decode holds up to ~100 MB: their number is bounded, not only the threads'.
        limiter = self.image_decodes if sniff(upload.data) == JPEG else None
        return await anyio.to_thread.run_sync(
            lambda: inspect_upload(
                upload.filename, upload.data, allowed=allowed, max_bytes=max_bytes
            ),
            limiter=limiter,
        )

    async def _clean_uploads(
        self, uploads: Sequence[Upload], allowed: frozenset[str]
    ) -> list[CleanFile]:
        """Every file checked, at most ``ASPIRASI_MAX_ATTACHMENTS`` of them. Of several
        files, each refused one is named (``file_refused`` with its ``filename``)
        before its own errors, all about the ``attachment`` field."""
        most = self._d.settings.max_attachments
        if len(uploads) > most:
            raise Invalid.field(
                "attachment",
                "too_many_files",
                "Attach at most %(max)s files.",
                max=most,
            )
        cleaned: list[CleanFile] = []
        refused: list[FieldError] = []
        for upload in uploads:
            try:
                clean = await self._clean_upload(upload, allowed)
            except Invalid as exc:
                if len(uploads) == 1:
                    raise
                # Each file is checked; the answer names every refused one.
                name = re.split(r"[/\\]", upload.filename)[-1][:100] or "?"
                refused.append(
                    FieldError(
                        "attachment",
                        "file_refused",
                        "The file %(filename)s was not accepted:",
                        {"filename": name},
                    )
                )
                refused.extend(exc.errors)
                continue
            if clean is not None:
                cleaned.append(clean)
        if refused:
            code = next((e.code for e in refused if e.code != "file_refused"), "file_refused")
            raise Invalid(errors=refused, code=code)
        return cleaned

    def _store_file(self, clean: CleanFile | None) -> str | None:
        if clean is None:
            return None
        suffix = ".jpg" if clean.content_type == "image/jpeg" else ".pdf"
        return self._d.files.put(clean.data, suffix=suffix)

    def _store_files(self, cleaned: Sequence[CleanFile]) -> list[str]:
        """Store every file pending; when one cannot be stored, the ones before it
        are deleted again."""
        keys: list[str] = []
        try:
            for clean in cleaned:
                key = self._store_file(clean)
                if key is not None:
                    keys.append(key)
        except BaseException:
            for key in keys:
                self._d.files.delete(key)
            raise
        return keys

    async def _recorded(self, key: str | Sequence[str] | None, write: Awaitable[T]) -> T:
        """Await the transaction that records the stored file(s) ``key``; then promote
        them, or delete them when the transaction certainly did not commit.

        Only a domain error raised by the use case's script (a refusal: invalid,
        not allowed, conflict, …) means the transaction rolled back. Anything
        else may have come after the commit (a cancellation while the committed
        transaction's thread returns, a connection lost during ``COMMIT``:
        ``Unavailable``), so the files stay pending and the attachment sweep
        settles them an hour later: promoted if a row names them, removed if not.
        A kill in between leaves them pending too."""
        files = self._d.files
        keys = [] if key is None else [key] if isinstance(key, str) else list(key)
        try:
            result = await write
        except DomainError as exc:
            if not isinstance(exc, Unavailable):
                for one in keys:
                    try:
                        files.delete(one)
                    except (OSError, ValueError):  # pending: the sweep removes it
                        log.warning("attachment_not_deleted", exc_info=True)
            raise
        for one in keys:
            try:
                files.promote(one)
            except OSError:  # readable while pending; the sweep promotes it
                log.warning("attachment_not_promoted", exc_info=True)
        return result

    def _load_for_change(
        self,
        uow: UnitOfWork,
        actor: Actor,
        message_id: int,
        expected_version: int | None,
        *,
        lock: bool = True,
    ) -> Message:
        """The message ``actor`` is about to change, locked until the transaction
        ends (``lock``), checked against the version the actor acted on.

        A message the actor may no longer see, but could see before (an operator
        whose agency lost it to a re-forward, an owner's withdrawn message), is
        ``message_changed`` (409) rather than "not found": the actor acted on a
        state that is gone, and learns nothing it did not know."""
        message = uow.messages.get(message_id, for_update=lock)
        if message is None:
            raise NotFound("The message was not found.", code="message_not_found")
        scopes = self._d.scopes_for(actor, uow)
        if not self._d.policy.can_read(actor, message, scopes):
            if self._could_read_before(uow, actor, message, scopes):
                raise message_changed()
            raise NotFound("The message was not found.", code="message_not_found")
        check_version(message, expected_version)
        return message

    def _could_read_before(
        self, uow: UnitOfWork, actor: Actor, message: Message, scopes: Sequence[Any]
    ) -> bool:
        """Whether ``actor`` could read ``message`` in one of its earlier states
        (its status and agency after each log entry)."""
        policy = self._d.policy
        return any(
            policy.can_read(
                actor, attrs.evolve(message, status=e.to_status, agency_id=e.agency_id), scopes
            )
            for e in uow.messages.log(message.id)
        )

    def _notify(
        self,
        uow: UnitOfWork,
        account_ids: Sequence[int],
        *,
        kind: str,
        message: Message,
        text: str,
        now: datetime,
        exclude: int | None = None,
    ) -> None:
        ids = sorted({i for i in account_ids if i != exclude})
        if ids:
            uow.notifications.add_many(
                ids,
                kind=kind,
                message_id=message.id,
                text=text,
                params={"ticket": message.ticket, "subject": message.subject[:120]},
                created_at=now,
            )

    def _apply(
        self,
        uow: UnitOfWork,
        events: EventRecorder,
        actor: Actor,
        message: Message,
        action: Action,
        *,
        note: str = "",
        note_visibility: Visibility = Visibility.INTERNAL,
        classification: Classification | None = None,
    ) -> tuple[Message, StatusChanged]:
        """Move the status, veto hook, compare-and-set, log entry, event."""
        deps = self._d
        now = deps.clock.now()
        new, event = transition(
            message,
            action,
            actor,
            now,
            deps.policy,
            note=note,
            classification=classification,
            note_visibility=note_visibility,
        )
        new = self._sop.clock_after(uow, message, new, action, now)
        event = attrs.evolve(event, due_at=new.due_at)
        deps.hook.aspirasi_validate_transition(
            message=message, action=action, actor=actor, to_status=new.status, note=note
        )
        if not uow.messages.save_transition(new, message.version):
            raise message_changed()
        uow.messages.add_log(
            NewLogEntry(
                message_id=message.id,
                actor_id=actor.account_id,
                action=str(action),
                from_status=message.status,
                to_status=new.status,
                note=note,
                at=now,
                agency_id=new.agency_id,
                note_visibility=note_visibility,
            )
        )
        events.record(event)
        return new, event

    # ------------------------------------------------------------------ submit
    async def submit(self, ctx: Context, data: SubmitInput) -> Message:
        """A verified citizen sends a message (subject, body, up to
        ``ASPIRASI_MAX_ATTACHMENTS`` JPG/PDF files, all stored in its transaction)."""
        actor = _require_actor(ctx)
        deps = self._d
        if actor.role == Role.USER and not actor.verified:
            raise NotAllowed("Please verify your e-mail address first.", code="email_unverified")
        deps.policy.require(actor, Perm.MESSAGE_SUBMIT)
        collector = Collector()
        subject = collector.check(clean_text, data.subject, "subject", max_length=LIMITS["subject"])
        body = collector.check(
            clean_text, data.body, "body", max_length=LIMITS["body"], multiline=True
        )
        confidential = bool(collector.check(check_flag, data.confidential, "confidential"))
        anonymous = bool(collector.check(check_flag, data.anonymous, "anonymous"))
        collector.raise_if_any()
        assert subject and body
        await deps.before("submit", ctx, subject=str(actor.account_id))
        cleaned = await self._clean_uploads(data.uploads(), frozenset({"jpeg", "pdf"}))
        keys = self._store_files(cleaned)

        def script(uow: UnitOfWork, events: EventRecorder) -> Message:
            now = deps.clock.now()
            deps.hook.aspirasi_validate_submission(
                actor=actor,
                draft=SubmissionDraft(
                    subject=subject,
                    body=body,
                    confidential=confidential,
                    anonymous=anonymous,
                    attachment_count=len(cleaned),
                ),
            )
            triage_due = self._sop.due_for(uow, Status.SUBMITTED, None, now)
            message = None
            for _ in range(5):
                try:
                    message = uow.messages.add(
                        NewMessage(
                            ticket=new_ticket(now),
                            author_id=actor.account_id,
                            subject=subject,
                            body=body,
                            confidential=confidential,
                            anonymous=anonymous,
                            created_at=now,
                            due_at=triage_due,
                        ),
                        first_log=NewLogEntry(
                            message_id=0,  # the new message's
                            actor_id=actor.account_id,
                            action=str(Action.SUBMIT),
                            from_status=None,
                            to_status=Status.SUBMITTED,
                            note="",
                            at=now,
                        ),
                    )
                    break
                except Conflict as exc:
                    if exc.code != "duplicate_ticket":
                        raise
            if message is None:
                raise Conflict("Could not allocate a ticket number.", code="ticket_exhausted")
            attachments: list[Attachment] = []
            for clean, key in zip(cleaned, keys, strict=True):
                attachment = uow.messages.add_attachment(
                    NewAttachment(
                        message_id=message.id,
                        kind="message",
                        # A file name often names its owner ("KTP Budi.jpg").
                        filename=safe_filename("", clean.extension)
                        if anonymous
                        else clean.filename,
                        content_type=clean.content_type,
                        size=len(clean.data),
                        storage_key=key,
                        sha256=clean.sha256,
                        created_at=now,
                    )
                )
                attachments.append(attachment)
            admins = [a.id for a in uow.accounts.recipients(role=Role.ADMIN)]
            self._notify(
                uow,
                admins,
                kind="message_submitted",
                message=message,
                text="New message %(ticket)s: %(subject)s",
                now=now,
            )
            events.record(
                MessageSubmitted(
                    message_id=message.id,
                    ticket=message.ticket,
                    author_id=actor.account_id,
                    subject=subject,
                    confidential=confidential,
                    anonymous=anonymous,
                    at=now,
                )
            )
            # As stored (the insert wrote exactly these values).
            return attrs.evolve(message, attachments=tuple(attachments))

        message = await self._recorded(keys, run_write(deps, script, idempotency=ctx.idempotency))
        if message.anonymous:
            # The log line shares the request id with the request's own line,
            # which names the account (and a proxy's log its address).
            log.info("message_submitted", anonymous=True)
        else:
            log.info("message_submitted", message_id=message.id, ticket=message.ticket)
        return message

    # ------------------------------------------------------------------ citizen
    async def withdraw(
        self, ctx: Context, message_id: int, *, expected_version: int | None = None
    ) -> Message:
        """The owner withdraws a message that is still ``submitted``.

        ``expected_version`` (every change of a message takes one): the version
        the caller acted on; another answers ``message_changed`` (409)."""
        actor = _require_actor(ctx)
        message_id = check_id(message_id, "id")
        expected = _expected(expected_version)

        def script(uow: UnitOfWork, events: EventRecorder) -> Message:
            message = self._load_for_change(uow, actor, message_id, expected)
            new, _ = self._apply(uow, events, actor, message, Action.WITHDRAW)
            return new

        return await run_write(self._d, script)

    async def rate(
        self,
        ctx: Context,
        message_id: int,
        stars: object,
        comment: str = "",
        *,
        expected_version: int | None = None,
    ) -> Rating:
        """The owner rates a ``done`` message once: 1–5 stars and a comment."""
        actor = _require_actor(ctx)
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
            message = self._load_for_change(uow, actor, message_id, expected)
            check_can_rate(message, actor, deps.policy, uow.messages.rating(message.id) is not None)
            now = deps.clock.now()
            rating = Rating(
                message_id=message.id, stars=stars_value, comment=text or "", created_at=now
            )
            uow.messages.add_rating(rating)
            if not uow.messages.bump_version(message.id, message.version):
                raise message_changed()
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

    # ------------------------------------------------------------------ admin
    def _classification(self, uow: UnitOfWork, data: ForwardInput) -> Classification:
        collector = Collector()
        category_id = collector.check(check_id, data.category_id, "category_id")
        subcategory_id = collector.check(check_id, data.subcategory_id, "subcategory_id")
        agency_id = collector.check(check_id, data.agency_id, "agency_id")
        collector.raise_if_any()
        assert category_id and subcategory_id and agency_id
        category = uow.directory.category(category_id)
        if category is None:
            collector.add("category_id", "category_unknown", "Choose a category.")
        sub = uow.directory.subcategory(subcategory_id)
        if sub is None or not sub.is_active or sub.category_id != category_id:
            collector.add(
                "subcategory_id",
                "subcategory_unknown",
                "Choose a sub-category of the chosen category.",
            )
        agency = uow.directory.agency(agency_id)
        if agency is None or not agency.is_active:
            collector.add("agency_id", "agency_unknown", "Choose an agency.")
        collector.raise_if_any()
        return Classification(
            category_id=category_id, subcategory_id=subcategory_id, agency_id=agency_id
        )

    async def forward(
        self,
        ctx: Context,
        message_id: int,
        data: ForwardInput,
        *,
        expected_version: int | None = None,
    ) -> Message:
        """The admin classifies a message and forwards it to an agency; on a
        ``forwarded`` message this re-forwards it to another agency."""
        actor = _require_actor(ctx)
        message_id = check_id(message_id, "id")
        expected = _expected(expected_version)
        note, visibility = _staff_text(
            Action.FORWARD, data.note, "note", data.visibility, limit="note", required=False
        )
        deps = self._d

        def script(uow: UnitOfWork, events: EventRecorder) -> Message:
            message = self._load_for_change(uow, actor, message_id, expected)
            deps.policy.check_can_act(actor, message, Action.FORWARD)
            classification = self._classification(uow, data)
            action = Action.REFORWARD if message.status is Status.FORWARDED else Action.FORWARD
            new, _ = self._apply(
                uow,
                events,
                actor,
                message,
                action,
                note=note,
                note_visibility=visibility,
                classification=classification,
            )
            now = deps.clock.now()
            operators = [
                a.id for a in uow.accounts.recipients(role=Role.OPERATOR, agency_id=new.agency_id)
            ]
            self._notify(
                uow,
                operators,
                kind="message_forwarded",
                message=new,
                text="Message %(ticket)s was forwarded to your agency: %(subject)s",
                now=now,
                exclude=actor.account_id,
            )
            return new

        return await run_write(deps, script, idempotency=ctx.idempotency)

    async def reject(
        self,
        ctx: Context,
        message_id: int,
        reason: str,
        visibility: object = None,
        *,
        expected_version: int | None = None,
    ) -> Message:
        """The admin rejects a ``submitted`` message with a reason, for the sender
        unless ``visibility`` is ``"internal"``."""
        actor = _require_actor(ctx)
        message_id = check_id(message_id, "id")
        expected = _expected(expected_version)
        reason_text, chosen = _staff_text(
            Action.REJECT, reason, "reason", visibility, limit="reason"
        )

        def script(uow: UnitOfWork, events: EventRecorder) -> Message:
            message = self._load_for_change(uow, actor, message_id, expected)
            new, _ = self._apply(
                uow, events, actor, message, Action.REJECT, note=reason_text, note_visibility=chosen
            )
            return new

        return await run_write(self._d, script, idempotency=ctx.idempotency)

    # ------------------------------------------------------------------ operator
    async def start(
        self,
        ctx: Context,
        message_id: int,
        note: str = "",
        visibility: object = None,
        *,
        expected_version: int | None = None,
    ) -> Message:
        """The agency's operator confirms: ``forwarded`` → ``in_progress``; the
        optional note is for the sender unless ``visibility`` is ``"internal"``."""
        actor = _require_actor(ctx)
        message_id = check_id(message_id, "id")
        expected = _expected(expected_version)
        text, chosen = _staff_text(
            Action.START, note, "note", visibility, limit="note", required=False
        )

        def script(uow: UnitOfWork, events: EventRecorder) -> Message:
            message = self._load_for_change(uow, actor, message_id, expected)
            new, _ = self._apply(
                uow, events, actor, message, Action.START, note=text, note_visibility=chosen
            )
            return new

        return await run_write(self._d, script, idempotency=ctx.idempotency)

    async def progress(
        self,
        ctx: Context,
        message_id: int,
        note: str,
        visibility: object = None,
        *,
        expected_version: int | None = None,
    ) -> Message:
        """A progress update on an ``in_progress`` message: a log entry whose note is
        for the sender unless ``visibility`` is ``"internal"``."""
        actor = _require_actor(ctx)
        message_id = check_id(message_id, "id")
        expected = _expected(expected_version)
        text, chosen = _staff_text(Action.PROGRESS, note, "note", visibility, limit="note")

        def script(uow: UnitOfWork, events: EventRecorder) -> Message:
            message = self._load_for_change(uow, actor, message_id, expected)
            new, _ = self._apply(
                uow, events, actor, message, Action.PROGRESS, note=text, note_visibility=chosen
            )
            return new

        return await run_write(self._d, script, idempotency=ctx.idempotency)

    async def reply(
        self,
        ctx: Context,
        message_id: int,
        answer: str,
        attachment: Upload | None = None,
        visibility: object = None,
        *,
        expected_version: int | None = None,
    ) -> Message:
        """The agency's answer (optional PDF) closes an ``in_progress`` message; the
        answer and its file are for the sender unless ``visibility`` is ``"internal"``."""
        actor = _require_actor(ctx)
        message_id = check_id(message_id, "id")
        expected = _expected(expected_version)
        text, chosen = _staff_text(Action.REPLY, answer, "answer", visibility, limit="answer")
        deps = self._d
        # Check status, scope and version before spending time on the file.
        await deps.db.transaction(
            lambda uow: self._check_reply_possible(uow, actor, message_id, expected), write=False
        )
        clean = await self._clean_upload(attachment, frozenset({"pdf"}))
        key = self._store_file(clean)

        def script(uow: UnitOfWork, events: EventRecorder) -> Message:
            message = self._load_for_change(uow, actor, message_id, expected)
            new, _ = self._apply(
                uow, events, actor, message, Action.REPLY, note=text, note_visibility=chosen
            )
            now = deps.clock.now()
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
                message.id, actor.account_id, text, now, attachment_id, visibility=chosen
            )
            return new

        return await self._recorded(key, run_write(deps, script, idempotency=ctx.idempotency))

    def _check_reply_possible(
        self, uow: UnitOfWork, actor: Actor, message_id: int, expected: int | None
    ) -> None:
        message = self._load_for_change(uow, actor, message_id, expected, lock=False)
        self._d.policy.check_can_act(actor, message, Action.REPLY)
        if message.status is not Status.IN_PROGRESS:
            raise IllegalTransition(str(message.status), str(Action.REPLY))


__all__ = ["ForwardInput", "MessageService", "SubmitInput", "Upload", "new_ticket"]
