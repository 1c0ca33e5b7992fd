"""The attachment sweep: files a process left pending when it was killed between
storing an upload and committing (or failing) the transaction that records it.

The outbox worker runs it with the SOP sweep (every ``ASPIRASI_SOP_SWEEP_SECONDS``);
``aspirasi files sweep`` runs it once. See :class:`~.ports.AttachmentStore`.
"""

from __future__ import annotations

import anyio.to_thread
import structlog

from .core import CoreDeps

log = structlog.get_logger("aspirasi.attachments")


class AttachmentSweep:
    """Settles pending attachment files older than an hour."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    def sweep_sync(self) -> int:
        """Promote the old pending files a row names, remove the others; returns
        how many files were settled."""
        deps = self._d

        def referenced(keys: list[str]) -> set[str]:
            return deps.db.run_sync(lambda uow: uow.messages.storage_keys_in(keys), write=False)

        promoted, removed = deps.files.sweep_pending(referenced)
        if promoted or removed:
            log.info("attachments_swept", promoted=promoted, orphans_removed=removed)
        return promoted + removed

    async def sweep(self) -> int:
        """:meth:`sweep_sync` in a worker thread."""
        return await anyio.to_thread.run_sync(self.sweep_sync)
