"""Reading a stored attachment (:class:`AttachmentDownload`) and the attachment
sweep: files a process left pending when it was killed between
storing an upload and committing (or failing) the transaction that records it.

The outbox worker runs it with the SOP sweep (every ``ASPIRASI_SOP_SWEEP_SECONDS``);
``aspirasi files sweep`` runs it once. See :class:`~.ports.AttachmentStore`.
"""

from __future__ import annotations

import io
from typing import BinaryIO

import anyio.to_thread
import attrs
import structlog

from .core import CoreDeps
from .ports import AttachmentStore

log = structlog.get_logger("aspirasi.attachments")


@attrs.frozen
class AttachmentDownload:
    """An attachment the reader may open (the core checked it before handing this
    out): its name and type, and the ways to its bytes. :meth:`open` and
    :meth:`read` block: call them in a worker thread."""

    filename: str
    content_type: str
    _files: AttachmentStore = attrs.field(repr=False, alias="files")
    _key: str = attrs.field(repr=False, alias="key")
    #: A reply's PDF: (ticket, hash of the reply's log entry), written into the
    #: file's metadata as it is served (``security/pdf_stamp.py``), so it never
    #: goes out by a direct URL.
    stamp: tuple[str, str] | None = None

    def url(self, *, inline: bool = False) -> str | None:
        """A short-lived address to download the file from directly, when the
        store gives one (see :meth:`AttachmentStore.download_url`) and the file
        is served as stored; else None."""
        if self.stamp is not None:
            return None
        return self._files.download_url(
            self._key, filename=self.filename, content_type=self.content_type, inline=inline
        )

    def open(self) -> BinaryIO:
        """The file opened for reading in chunks; close it when done."""
        if self.stamp is not None:
            return io.BytesIO(self.read())
        return self._files.open(self._key)

    def read(self) -> bytes:
        """The whole file (thumbnails, exports)."""
        data = self._files.get(self._key)
        if self.stamp is not None:
            from ..security.pdf_stamp import stamp_pdf  # pikepdf only when a PDF is served

            ticket, entry_hash = self.stamp
            data = stamp_pdf(data, ticket=ticket, entry_hash=entry_hash)
        return data


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
