"""The submission of a message (:meth:`MessageSubmission.submit`, a part of
:class:`~aspirasi_core.services.messages.MessageService`): a verified citizen's
subject, body and files, checked, stored and announced in one transaction, under
a new random ticket number.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import anyio.to_thread
import attrs
import structlog

from ..domain.errors import Conflict, NotAllowed, Unauthenticated
from ..domain.events import MessageSubmitted
from ..domain.model import Action, Actor, Attachment, LogEntry, Message, Role, Status
from ..domain.policy import Perm
from ..domain.regions import Location, check_location
from ..domain.validation import LIMITS, Collector, check_flag, clean_text
from ..plugin_types import SubmissionDraft
from ..security.uploads import safe_filename
from . import transitions
from .context import Context
from .core import EventRecorder, run_write
from .message_files import MessageFiles, Upload
from .ports import NewAttachment, NewMessage, UnitOfWork
from .sop import SopService

log = structlog.get_logger("aspirasi.messages")

_TICKET_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_ticket(now: datetime) -> str:
    """A public message number: year-month and 8 random characters (``2611-K7Q2M9XD``).

    Random rather than sequential, so a ticket reveals nothing about others."""
    tail = "".join(secrets.choice(_TICKET_ALPHABET) for _ in range(8))
    return f"{now:%y%m}-{tail}"


@attrs.frozen
class SubmitInput:
    """What a citizen sends: subject, body, whether only the staff may read it
    (``confidential``) or know who sent it (``anonymous``), and its files."""

    subject: str
    body: str
    confidential: bool = False
    anonymous: bool = False
    #: One file (kept for callers that send one); :attr:`attachments` takes several.
    attachment: Upload | None = None
    #: Up to ``ASPIRASI_MAX_ATTACHMENTS`` files (JPG or PDF), after :attr:`attachment`.
    attachments: Sequence[Upload] = ()
    #: Where it happened, all optional (:func:`~aspirasi_core.domain.regions.check_location`):
    #: the Kemendagri code of a regency or city of ``ASPIRASI_REGIONS_FILE``, one of
    #: its districts, and WGS84 coordinates (numbers or their text; both or neither).
    regency: str | None = None
    district: str | None = None
    latitude: float | str | None = None
    longitude: float | str | None = None

    def uploads(self) -> list[Upload]:
        """Every file sent, in order, the empty file fields of a form left out."""
        files = [self.attachment, *self.attachments]
        return [f for f in files if f is not None and (f.data or f.filename)]


def location_values(location: Location | None) -> dict[str, Any]:
    """The :class:`~.ports.NewMessage` fields of a checked location (none: all None)."""
    if location is None:
        return {}
    return {
        "regency_code": location.regency_code,
        "district_code": location.district_code,
        "latitude": location.latitude,
        "longitude": location.longitude,
    }


def require_actor(ctx: Context) -> Actor:
    """The signed-in actor of ``ctx``; :class:`Unauthenticated` without one."""
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


class MessageSubmission(MessageFiles):
    """The submit part of :class:`~aspirasi_core.services.messages.MessageService`."""

    _sop: SopService

    # ------------------------------------------------------------------ submit
    async def submit(self, ctx: Context, data: SubmitInput) -> Message:
        """A verified citizen sends a message (subject, body, up to
        ``ASPIRASI_MAX_ATTACHMENTS`` JPG/PDF files, all stored in its transaction)."""
        actor = require_actor(ctx)
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
        location = collector.check(
            check_location, deps.regions, data.regency, data.district, data.latitude, data.longitude
        )
        collector.raise_if_any()
        assert subject and body
        await deps.before("submit", ctx, subject=str(actor.account_id))
        cleaned = await self._clean_uploads(data.uploads(), frozenset({"jpeg", "pdf"}))
        # In a worker thread: an object store is a network round trip away.
        keys = await anyio.to_thread.run_sync(self._store_files, cleaned)

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
                            **location_values(location),
                        ),
                        first_log=LogEntry(
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
            transitions.notify(
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


__all__ = ["MessageSubmission", "SubmitInput", "new_ticket", "require_actor"]
