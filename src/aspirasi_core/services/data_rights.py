"""Rights of the data subject (UU 27/2022 on personal data) and attachment retention.

* :meth:`DataRightsService.export`: a citizen downloads everything the service
  holds about them, as a ZIP: ``data.json`` (their account with their own NIK,
  their messages with the log, reply, rating and attachment list, as their own
  pages show them: no internal staff text; the audit log's entries about them)
  and ``attachments/`` with the files (built by :mod:`.data_export`).
* :meth:`DataRightsService.delete_account`: a citizen deletes their account after
  confirming their password. The account row stays, emptied of personal data
  (placeholder e-mail and username, no name, NIK or password), so that their
  messages keep a sender and every report still adds up; the files they attached
  are deleted (the rows stay, marked removed: on an anonymous message with a
  reason and a time that say nothing of the deletion); the personal data typed
  into their subjects, bodies and rating comments is masked; mail still queued
  for the address is dropped; every session and token dies.
* :meth:`DataRightsService.sweep`: the files of closed messages' attachments are
  deleted ``ASPIRASI_ATTACHMENT_RETENTION_DAYS`` after the message was closed
  (0, the default, keeps them); their rows stay, marked removed.

Removing a file: the row is marked removed in the transaction, the file is
deleted after the commit, and then the row's storage key is emptied. A file whose
deletion fails (or a process that dies in between) leaves the key in place, and
every sweep (:meth:`DataRightsService.sweep`) tries again until the file is gone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import structlog

from ..domain.audit import AuditAction
from ..domain.errors import Invalid, Unauthenticated
from ..domain.events import AccountDeleted
from ..domain.model import Attachment, RemovalReason
from ..domain.pii import mask_pii
from .audit import record
from .context import Context
from .core import CoreDeps, EventRecorder, run_write
from .data_export import DataExport, DataExporter
from .ports import UnitOfWork

log = structlog.get_logger("aspirasi.data_rights")

#: The removal time of an attachment without a creation time (never in storage).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Attachments removed per transaction by the retention sweep.
RETENTION_BATCH = 200


class DataRightsService(DataExporter):
    """Export and deletion of one's own account; retention of attachments."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    # ------------------------------------------------------------------ deletion
    async def delete_account(self, ctx: Context, password: str) -> None:
        """Delete the signed-in citizen's account, after checking their password.

        Their messages stay (their sender shows as a deleted account), the files
        they attached are deleted, the account can never log in again and every
        session and token ends. The e-mail address, username and NIK are free
        again. Raises :class:`Invalid` (``password``) for a wrong password."""
        actor = self._citizen(ctx)
        if not isinstance(password, str) or not password:
            raise Invalid.field("password", "required", "This field is required.")
        deps = self._d
        await deps.before("delete_account", ctx, subject=str(actor.account_id))
        account = await deps.db.transaction(
            lambda uow: uow.accounts.get(actor.account_id), write=False
        )
        if account is None or account.deleted or not account.is_active:
            raise Unauthenticated("Please log in.", code="login_required")
        if not await deps.hasher.verify_async(account.password_hash, password):
            log.info("account_delete_refused", account_id=account.id)
            raise Invalid.field("password", "password_wrong", "The current password is wrong.")

        def script(
            uow: UnitOfWork, events: EventRecorder
        ) -> tuple[list[Attachment], list[Attachment]]:
            now = deps.clock.now()
            if not uow.accounts.anonymise(account.id, auth_version=account.auth_version, now=now):
                # Deactivated, deleted or given a new password since the check.
                raise Unauthenticated("Please log in.", code="login_required")
            uow.tokens.delete_for_account(account.id, None)
            # The messages stay, de-identified: personal data typed into them
            # (a phone number, the NIK, an address) is masked for everyone.
            uow.messages.deidentify_author(account.id, mask_pii)
            uow.followups.deidentify_author(account.id, mask_pii)
            # Mail not yet sent to the address would still greet them by name.
            uow.outbox.drop_addressed_to(account.email)
            # The answers kept for resent requests may quote the account's texts.
            uow.idempotency.delete_for_account(account.id)
            signed = self._mark_removed(
                uow,
                uow.messages.stored_attachments_of_author(account.id, "message", anonymous=False),
                RemovalReason.ACCOUNT_DELETED,
                now,
                erase_details=True,
            )
            # An anonymous message's files go too, but nothing on them may tell
            # that (or when) their sender deleted an account: staff would match
            # them to the signed messages of the deleted account. They carry a
            # reason that names no event and the time they were stored.
            hidden = self._mark_removed(
                uow,
                uow.messages.stored_attachments_of_author(account.id, "message", anonymous=True),
                RemovalReason.REMOVED,
                None,
                erase_details=True,
            )
            record(
                uow,
                ctx,
                AuditAction.ACCOUNT_DELETE,
                at=now,
                subject_account_id=account.id,
                # Only the signed messages' files: a count of the anonymous ones
                # would say the account sent anonymous messages.
                details={"attachments_removed": len(signed)},
            )
            events.record(AccountDeleted(account_id=account.id, at=now))
            return signed, hidden

        signed, hidden = await run_write(deps, script)
        await anyio.to_thread.run_sync(self._delete_files, [*signed, *hidden])
        log.info("account_deleted", account_id=account.id, attachments=len(signed))

    # ------------------------------------------------------------------ retention
    def sweep_sync(self, *, limit: int = RETENTION_BATCH) -> int:
        """Delete the files of attachments whose message was closed (done or
        rejected) more than ``ASPIRASI_ATTACHMENT_RETENTION_DAYS`` ago, in batches;
        returns how many (with the files of attachments removed earlier whose
        deletion failed, retried first). No retention when the setting is 0.
        Several workers may sweep at once: each attachment is marked removed once."""
        total = self._settle_removed_files(limit)
        days = self._d.settings.attachment_retention_days
        if days <= 0:
            return total
        while True:
            seen, removed = self._d.db.run_sync(
                lambda uow: self._expire(uow, days, limit), write=True
            )
            self._delete_files(removed)
            total += len(removed)
            if seen < limit:
                break
        if total:
            log.info("attachments_expired", removed=total, retention_days=days)
        return total

    def _expire(self, uow: UnitOfWork, days: int, limit: int) -> tuple[int, list[Attachment]]:
        """One batch of the sweep: (attachments seen, those this call marked removed)."""
        now = self._d.clock.now()
        batch = uow.messages.expired_attachments(now - timedelta(days=days), limit=limit)
        removed = self._mark_removed(uow, batch, RemovalReason.RETENTION, now)
        per_message = Counter(a.message_id for a in removed)
        for message_id, count in sorted(per_message.items()):
            record(
                uow,
                Context(),  # the system
                AuditAction.ATTACHMENT_RETENTION_REMOVE,
                at=now,
                subject_message_id=message_id,
                details={"attachments": count, "retention_days": days},
            )
        return len(batch), removed

    async def sweep(self, *, limit: int = RETENTION_BATCH) -> int:
        """:meth:`sweep_sync` in a worker thread."""
        return await anyio.to_thread.run_sync(lambda: self.sweep_sync(limit=limit))

    # ------------------------------------------------------------------ files
    @staticmethod
    def _mark_removed(
        uow: UnitOfWork,
        attachments: Iterable[Attachment],
        reason: str,
        now: datetime | None,
        *,
        erase_details: bool = False,
    ) -> list[Attachment]:
        """Mark the attachments removed at ``now`` (None: at the time each was
        stored); those this call marked (as they were)."""
        return [
            a
            for a in attachments
            if uow.messages.mark_attachment_removed(
                a.id,
                reason=reason,
                now=now or a.created_at or _EPOCH,
                erase_details=erase_details,
            )
        ]

    def _delete_files(self, removed: Iterable[Attachment]) -> int:
        """After the commit: delete the files of attachments marked removed, then
        empty the storage keys of those whose file is gone. A file whose deletion
        fails keeps its key, so the next sweep tries again (nothing else would
        ever find it). Returns how many files went."""
        gone: list[tuple[int, str]] = []
        for attachment in removed:
            key = attachment.storage_key
            if not key:
                continue
            try:
                self._d.files.delete(key)
            except (OSError, ValueError):
                log.exception("attachment_file_delete_failed", attachment_id=attachment.id)
                continue
            gone.append((attachment.id, key))
        if gone:
            try:
                self._d.db.run_sync(
                    lambda uow: [uow.messages.forget_attachment_file(i, k) for i, k in gone],
                    write=True,
                )
            except Exception:
                # The files are gone; the next sweep finds nothing to delete and
                # empties the keys then.
                log.exception("attachment_keys_not_emptied", files=len(gone))
        return len(gone)

    def _settle_removed_files(self, limit: int) -> int:
        """Retry the deletion of the files of removed attachments that still have a
        storage key (their deletion failed, or the process died before it)."""
        settled = 0
        after_id = 0
        while True:

            def batch_after(uow: UnitOfWork, after: int = after_id) -> list[Attachment]:
                return uow.messages.removed_attachment_files(after_id=after, limit=limit)

            batch = self._d.db.run_sync(batch_after, write=False)
            if not batch:
                break
            settled += self._delete_files(batch)
            after_id = batch[-1].id
            if len(batch) < limit:
                break
        if settled:
            log.info("removed_attachment_files_settled", files=settled)
        return settled


__all__ = ["DataExport", "DataRightsService"]
