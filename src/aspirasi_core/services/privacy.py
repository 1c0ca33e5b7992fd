"""The audited reveal: the one way past the anonymity of a message.

A super admin (permission ``privacy.reveal``) may learn who sent an anonymous
message — for a court order, say, or a report of abuse — by naming a reason.
The reveal and its reason go to the audit log in the same transaction that
reads the sender, and the sender is shown in that answer only: every other read
of the message stays anonymous (see :mod:`aspirasi_core.domain.privacy`).
"""

from __future__ import annotations

from datetime import datetime

import attrs
import structlog

from ..domain.audit import AuditAction
from ..domain.errors import Conflict, Invalid, NotFound, Unauthenticated
from ..domain.pii import public_copy
from ..domain.policy import Perm
from ..domain.privacy import author_of
from ..domain.validation import LIMITS, check_id, clean_text
from .audit import record
from .context import Context
from .core import CoreDeps
from .ports import UnitOfWork

log = structlog.get_logger("aspirasi.privacy")

#: Messages read per transaction by :meth:`PrivacyService.recompute_public_sync`.
RECOMPUTE_BATCH = 500
#: A reveal needs a reason of at least this many characters.
REASON_MIN = 10


@attrs.frozen
class RevealedSender:
    """Who sent an anonymous message, as the reveal shows it (never the raw NIK)."""

    message_id: int
    ticket: str
    account_id: int
    full_name: str
    username: str
    email: str
    nik_masked: str | None
    revealed_at: datetime
    #: The audit entry that records this reveal.
    audit_id: int
    #: The sender has deleted their account: nothing about them is left to show.
    deleted: bool = False


def check_reason(value: object) -> str:
    """A reveal's reason: required, at least :data:`REASON_MIN` characters."""
    text = clean_text(value, "reason", max_length=LIMITS["reason"], multiline=True)
    if text is None or len(text) < REASON_MIN:
        raise Invalid.field(
            "reason",
            "reason_too_short",
            "Write the reason (at least %(min)s characters).",
            min=REASON_MIN,
        )
    return text


class PrivacyService:
    """``app.privacy``: the audited reveal of an anonymous sender; the public
    copies of messages' texts."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    def recompute_public_sync(self, *, batch: int = RECOMPUTE_BATCH) -> int:
        """Compute every message's public copies (``subject_public``,
        ``body_public``: the texts with personal data masked) again with the
        current masker (:func:`aspirasi_core.domain.pii.public_copy`), in batches
        of its own transactions; returns how many messages changed. For after an
        upgrade that changed the masker, and after ``0004_text_visibility``,
        whose frozen masker masks more than needed. ``aspirasi privacy
        recompute-public`` runs it."""
        changed = 0
        after = 0
        while True:

            def one(uow: UnitOfWork, after_id: int = after) -> tuple[int, int]:
                return uow.messages.refresh_public_copies(
                    after_id=after_id, limit=batch, copy=public_copy
                )

            last, count = self._d.db.run_sync(one, write=True)
            changed += count
            if last == after:
                break
            after = last
        if changed:
            log.info("public_copies_recomputed", changed=changed)
        return changed

    async def reveal_sender(self, ctx: Context, message_id: int, reason: str) -> RevealedSender:
        """Who sent the anonymous message ``message_id``, for a super admin who
        gives ``reason``; the reveal is in the audit log before this returns.

        Raises :class:`NotAllowed` without ``privacy.reveal``, :class:`Invalid`
        for a missing or short reason, :class:`NotFound` for an unknown message
        and :class:`Conflict` (``message_not_anonymous``) when the message is
        not anonymous (its sender is shown anyway)."""
        actor = ctx.actor
        if actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        deps = self._d
        deps.policy.require(actor, Perm.PRIVACY_REVEAL)
        message_id = check_id(message_id, "id")
        why = check_reason(reason)

        def script(uow: UnitOfWork) -> RevealedSender:
            message = uow.messages.get(message_id)
            if message is None or not deps.policy.can_read(actor, message):
                raise NotFound("The message was not found.", code="message_not_found")
            if not message.anonymous:
                raise Conflict(
                    "This message is not anonymous: its sender is shown with it.",
                    code="message_not_anonymous",
                )
            sender = uow.accounts.get(author_of(message))
            if sender is None:
                raise NotFound("The sender's account no longer exists.", code="sender_not_found")
            now = deps.clock.now()
            audit_id = record(
                uow,
                ctx,
                AuditAction.MESSAGE_SENDER_REVEAL,
                at=now,
                subject_account_id=sender.id,
                subject_message_id=message.id,
                reason=why,
            )
            return RevealedSender(
                message_id=message.id,
                ticket=message.ticket,
                account_id=sender.id,
                full_name=sender.full_name,
                username=sender.username,
                email=sender.email,
                nik_masked=sender.nik_masked,
                revealed_at=now,
                audit_id=audit_id,
                deleted=sender.deleted,
            )

        revealed = await deps.db.transaction(script, write=True)
        log.warning(
            "anonymous_sender_revealed",
            message_id=revealed.message_id,
            actor_id=actor.account_id,
            audit_id=revealed.audit_id,
        )
        return revealed


__all__ = ["REASON_MIN", "PrivacyService", "RevealedSender", "check_reason"]
