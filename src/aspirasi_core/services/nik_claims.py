"""A NIK verified by someone else: the path of its real owner.

A NIK belongs to the first account that verifies its e-mail with it. Whoever
owns a NIK that another account verified first — a squatter, or a typing
mistake — writes to the super admin (the registration mail and the help on the
register page say how). The super admin checks that the NIK is theirs (a KTP
shown at the office, say), looks up which account holds it, and releases it
with a reason: the holder's account keeps everything but the NIK, and the owner
can then register with it, or verify the registration that was waiting.

Both steps read a citizen's personal data and are audited in their own
transaction: the look-up as ``account.read``, the release as
``account.nik_release`` with the reason. A release also raises a
:class:`~aspirasi_core.domain.events.NikReleased` event (the holder is told by mail).
"""

from __future__ import annotations

import structlog

from ..domain.audit import AuditAction
from ..domain.errors import NotFound
from ..domain.events import NikReleased
from ..domain.model import Account, Actor
from ..domain.nik import normalize_nik
from ..domain.policy import Perm
from ..domain.validation import LIMITS, clean_text
from .audit import record
from .context import Context
from .core import CoreDeps, EventRecorder, require_permission, run_write
from .ports import UnitOfWork

log = structlog.get_logger("aspirasi.nik_claims")


def _not_registered() -> NotFound:
    return NotFound("No verified account holds this NIK.", code="nik_not_registered")


class NikClaimService:
    """Finding and releasing a NIK a verified account holds. Super admin only
    (the ``admin.manage`` permission)."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    def _require(self, ctx: Context) -> Actor:
        return require_permission(self._d, ctx, Perm.ADMIN_MANAGE)

    async def holder(self, ctx: Context, nik: str) -> Account:
        """The verified account holding ``nik``; ``NotFound`` when none does. The
        look-up shows a citizen's account: audited (``account.read``)."""
        self._require(ctx)
        deps = self._d
        index = deps.crypto.nik_index(normalize_nik(nik))

        def script(uow: UnitOfWork) -> Account:
            found = uow.accounts.verified_by_nik_index(index)
            if found is None:
                raise _not_registered()
            record(
                uow,
                ctx,
                AuditAction.ACCOUNT_READ,
                at=deps.clock.now(),
                subject_account_id=found.id,
                details={"via": "nik_holder"},
            )
            return found

        return await deps.db.transaction(script, write=True)

    async def release(self, ctx: Context, nik: str, reason: str) -> Account:
        """Take ``nik`` away from the verified account holding it; returns that
        account as it is now (without a NIK). ``reason`` (required) says what was
        checked; the holder reads it in the mail telling them."""
        actor = self._require(ctx)
        normalized = normalize_nik(nik)
        why = clean_text(reason, "reason", max_length=LIMITS["reason"], multiline=True)
        deps = self._d
        index = deps.crypto.nik_index(normalized)

        def script(uow: UnitOfWork, events: EventRecorder) -> Account:
            holder = uow.accounts.verified_by_nik_index(index)
            if holder is None:
                raise _not_registered()
            released = uow.accounts.update(
                holder.id, nik_encrypted=None, nik_index=None, nik_masked=None
            )
            now = deps.clock.now()
            record(
                uow,
                ctx,
                AuditAction.ACCOUNT_NIK_RELEASE,
                at=now,
                subject_account_id=holder.id,
                reason=why,
            )
            events.record(
                NikReleased(account_id=holder.id, released_by=actor.account_id, reason=why, at=now)
            )
            return released

        released = await run_write(deps, script)
        log.info("nik_released", account_id=released.id, released_by=actor.account_id)
        return released
