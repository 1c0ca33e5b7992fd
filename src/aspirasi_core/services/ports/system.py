"""The services the use cases get beside the database: the clock, password
hashing, keyed crypto and the attachment store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, BinaryIO, Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class PasswordHashing(Protocol):
    """Password hashes (:class:`aspirasi_core.security.passwords.PasswordHasher`:
    argon2id); the ``_async`` forms run off the event loop."""

    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with None, burns the same time and says False."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...
    async def hash_async(self, password: str) -> str: ...
    async def verify_async(self, password_hash: str | None, password: str) -> bool: ...


class KeyedCrypto(Protocol):
    """Keyed indexes and encryption with the installation's secret
    (:class:`aspirasi_core.security.crypto.Crypto`)."""

    def nik_index(self, nik: str) -> bytes:
        """A keyed index of a NIK (looked up, never reversed)."""
        ...

    def encrypt_nik(self, nik: str) -> bytes: ...
    def decrypt_nik(self, blob: bytes) -> str: ...
    def address_index(self, email: str) -> bytes: ...
    def device_mac(self, data: str) -> bytes: ...
    def encrypt_payload(self, payload: Mapping[str, Any]) -> bytes: ...
    def decrypt_payload(self, blob: bytes) -> dict[str, Any]: ...
    def idempotency_digest(self, data: bytes) -> bytes: ...


class AttachmentStore(Protocol):
    """Where uploaded files live: a local folder by default, an object store later.

    Plugins provide others through the hook ``aspirasi_attachment_store``.

    A file is stored before the transaction that records it and must not outlive a
    failed one: :meth:`put` stores it as *pending*, :meth:`promote` confirms it once
    its row committed (the use cases call both, and :meth:`delete` when the
    transaction certainly rolled back), and :meth:`sweep_pending` settles what a
    killed process, or a failure that may have come after the commit, left
    pending. A pending file is readable like any other.
    """

    def put(self, data: bytes, *, suffix: str) -> str:
        """Store ``data`` (pending) under a new random key and return the key; raise
        :class:`~aspirasi_core.domain.errors.StorageFull` when there is no room."""

    def promote(self, key: str) -> None:
        """Confirm a pending file (its row committed); idempotent."""

    def sweep_pending(
        self, referenced: Callable[[list[str]], set[str]], *, older_than: float = ...
    ) -> tuple[int, int]:
        """Promote the pending files older than ``older_than`` seconds whose keys
        ``referenced`` returns, remove the others; return (promoted, removed)."""

    def get(self, key: str) -> bytes:
        """The stored bytes; :class:`FileNotFoundError` when the key is unknown."""

    def open(self, key: str) -> BinaryIO:
        """The stored file for reading in chunks (``read(n)``, ``close()``), for
        streamed downloads; :class:`FileNotFoundError` when the key is unknown."""

    def download_url(
        self, key: str, *, filename: str, content_type: str, inline: bool
    ) -> str | None:
        """A short-lived address the client downloads the file from directly (an
        object store's presigned URL, carrying the file name, the content type
        and ``inline`` or ``attachment``), or None to stream it through the app.
        Called only after the core's access checks passed."""

    def delete(self, key: str) -> None:
        """Remove the file, pending or not; a missing key is not an error."""
