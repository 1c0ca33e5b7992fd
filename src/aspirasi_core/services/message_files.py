"""The files of message use cases: an upload checked (off the event loop; JPEG
decodes bounded by ``ASPIRASI_IMAGE_DECODE_CONCURRENCY``), stored pending before
its transaction, then promoted once the transaction committed or deleted when it
certainly did not (see :meth:`MessageFiles._recorded`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import anyio.to_thread
import attrs
import structlog

from ..domain.errors import DomainError, FieldError, Invalid, Unavailable
from ..security.uploads import JPEG, CleanFile, inspect_upload, sniff
from .core import CoreDeps

T = TypeVar("T")

log = structlog.get_logger("aspirasi.messages")


@attrs.frozen
class Upload:
    """A file as received from a form or a multipart request."""

    filename: str
    data: bytes = attrs.field(repr=False)


class MessageFiles:
    """The upload part of :class:`~.messages.MessageService`."""

    _d: CoreDeps
    #: JPEG attachments decoded at once in this process (set by the service).
    image_decodes: anyio.CapacityLimiter

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

        def settle(committed: bool) -> None:  # blocking: an object store is remote
            for one in keys:
                try:
                    files.promote(one) if committed else files.delete(one)
                except (OSError, ValueError):  # pending: the sweep settles it
                    log.warning(
                        "attachment_not_promoted" if committed else "attachment_not_deleted",
                        exc_info=True,
                    )

        try:
            result = await write
        except DomainError as exc:
            if keys and not isinstance(exc, Unavailable):
                await anyio.to_thread.run_sync(settle, False)
            raise
        if keys:
            await anyio.to_thread.run_sync(settle, True)
        return result
