"""Attachments on the local disk: the default :class:`AttachmentStore`.

Files live outside any static folder, under random keys (128 random bits in hex
plus a short suffix such as ``.pdf``) in a two-level fan-out
(``<root>/ab/cd/abcd….pdf``) so no directory grows too large. Writes are atomic:
the data goes to a temporary file, is flushed to disk and then renamed over its
name, so a reader never sees half a file. Files are created ``0o600`` and
directories ``0o700``.

Files and rows stay consistent: :meth:`~LocalAttachmentStore.put` writes a new
file under ``<root>/pending/`` and the use case moves it to its place with
:meth:`~LocalAttachmentStore.promote` once the transaction that records it has
committed (or deletes it when the transaction certainly rolled back). A process killed in
between leaves the file in ``pending/``, where
:meth:`~LocalAttachmentStore.sweep_pending` (run by the outbox worker) finds it
once it is older than an hour: it is promoted when a row names it (the kill came
after the commit) and removed otherwise. Until then a committed file is read
from ``pending/`` just as well.

Keys coming back from the database or a request are validated strictly before
they touch the file system: anything but the key pattern (``../../etc/passwd``,
an absolute path, upper-case hex) raises :class:`ValueError`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from . import faults

__all__ = [
    "KEY_PATTERN",
    "ORPHAN_AGE",
    "PENDING",
    "LocalAttachmentStore",
    "new_key",
    "validate_key",
]

#: Seconds after which a file still pending belongs to no running request.
ORPHAN_AGE = 3600.0

KEY_PATTERN = re.compile(r"[0-9a-f]{32}(?:\.[a-z0-9]{1,8})?")
_SUFFIX_PATTERN = re.compile(r"\.[a-z0-9]{1,8}")
_TEMP_PREFIX = ".tmp-"
#: Folder (under the root) of files written but not yet promoted.
PENDING = "pending"
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


class LocalAttachmentStore:
    """Implements :class:`aspirasi_core.services.ports.AttachmentStore` on a folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        if not self.root.exists():
            self.root.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        if not self.root.is_dir():
            raise ValueError(f"attachment root is not a directory: {self.root}")

    # ------------------------------------------------------------------ protocol

    def put(self, data: bytes, *, suffix: str) -> str:
        """Store ``data`` under a new random key (``<32 hex><suffix>``) and return it.

        The file is *pending* until :meth:`promote`: readable, but removed by
        :meth:`sweep_pending` after an hour unless a row names it. ``suffix`` is
        ``""`` or a short extension such as ``.pdf`` (the dot may be left out);
        anything else raises :class:`ValueError`. A full disk raises
        :class:`~aspirasi_core.domain.errors.StorageFull`, a disk that cannot be
        written for now (read-only, I/O error, a lost network mount)
        ``Unavailable`` (nothing is left behind).
        """
        pending = self.root / PENDING
        while True:
            key = new_key(suffix)
            if not self._path(key).exists():  # 128 random bits: a clash is theoretical
                break
        try:
            if not pending.is_dir():
                pending.mkdir(mode=_DIR_MODE, exist_ok=True)
                os.chmod(pending, _DIR_MODE)
            self._write(pending, key, data)
        except OSError as exc:
            if (full := faults.name(exc)) is not None:
                raise full from exc
            raise
        return key

    def promote(self, key: str) -> None:
        """Move a pending file to its place (the row naming it has committed).
        Idempotent; a key that is not pending is left alone. Not flushed to disk:
        after a power cut the sweep promotes it again."""
        source = self.root / PENDING / validate_key(key)
        target = self._path(key)
        self._ensure_dirs(target.parent)
        with contextlib.suppress(FileNotFoundError):
            os.replace(source, target)

    def sweep_pending(
        self, referenced: Callable[[list[str]], set[str]], *, older_than: float = ORPHAN_AGE
    ) -> tuple[int, int]:
        """Settle the pending files older than ``older_than`` seconds: promote those
        whose keys ``referenced`` returns (their rows committed), remove the rest
        (orphans of a process killed before its commit) and stale temporary files.
        Returns (promoted, removed)."""
        pending = self.root / PENDING
        cutoff = time.time() - older_than
        keys: list[str] = []
        removed = 0
        try:
            entries = list(os.scandir(pending))
        except FileNotFoundError:
            return 0, 0
        for entry in entries:
            try:
                if not entry.is_file(follow_symlinks=False) or entry.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue  # promoted meanwhile
            if KEY_PATTERN.fullmatch(entry.name):
                keys.append(entry.name)
            elif entry.name.startswith(_TEMP_PREFIX):
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
        promoted = 0
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            known = referenced(batch)
            for key in batch:
                if key in known:
                    self.promote(key)
                    promoted += 1
                else:
                    (pending / key).unlink(missing_ok=True)
                    removed += 1
        return promoted, removed

    def check(self) -> dict[str, int]:
        """For readiness probes: a file can be written and removed in the root;
        the free space. Raises ``OSError`` (or ``StorageFull``) when not."""
        try:
            fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX + "probe-", dir=self.root)
            try:
                os.write(fd, b"ok")
            finally:
                os.close(fd)
                os.unlink(name)
        except OSError as exc:
            if (full := faults.name(exc)) is not None:
                raise full from exc
            raise
        usage = shutil.disk_usage(self.root)
        return {"free_mb": usage.free // (1024 * 1024)}

    def _write(self, directory: Path, key: str, data: bytes) -> None:
        fd, tmp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):  # mkstemp's 0o600 is filtered by the umask
                    os.fchmod(handle.fileno(), _FILE_MODE)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, directory / key)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(directory)

    def get(self, key: str) -> bytes:
        """The stored bytes; :class:`FileNotFoundError` when the key is unknown."""
        path = self.path_for(key)
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def open(self, key: str) -> BinaryIO:
        """The stored file opened for reading (``read(n)``, ``close()``), for a
        download streamed in chunks; :class:`FileNotFoundError` when the key is unknown."""
        fd = os.open(self.path_for(key), os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
        return os.fdopen(fd, "rb")

    def download_url(self, key: str, *, filename: str, content_type: str, inline: bool) -> None:
        """A folder has no address of its own: downloads go through the app."""
        validate_key(key)
        return None

    def delete(self, key: str) -> None:
        """Remove the file, pending or promoted; a missing key is not an error."""
        self._path(validate_key(key)).unlink(missing_ok=True)
        (self.root / PENDING / key).unlink(missing_ok=True)

    # ------------------------------------------------------------------ extras

    def path_for(self, key: str) -> Path:
        """Where the file of ``key`` lives (its place, or ``pending/`` while it waits
        to be promoted; its place when it exists nowhere), for the web adapter's file
        responses. Raises :class:`ValueError` for a malformed key."""
        path = self._path(validate_key(key))
        if not path.exists():
            pending = self.root / PENDING / key
            if pending.exists():
                return pending
        return path

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def _path(self, key: str) -> Path:
        return self.root / key[0:2] / key[2:4] / key

    def _ensure_dirs(self, directory: Path) -> None:
        for level in (directory.parent, directory):
            try:
                level.mkdir(mode=_DIR_MODE)
            except FileExistsError:
                continue
            # mkdir's mode is filtered by the umask; make it exact.
            os.chmod(level, _DIR_MODE)


def new_key(suffix: str) -> str:
    """A new random key: 128 random bits in hex plus ``suffix`` (``""`` or a short
    extension such as ``.pdf``; the dot may be left out; anything else raises
    :class:`ValueError`). Object stores use the same keys as the folder."""
    return secrets.token_hex(16) + _normalise_suffix(suffix)


def validate_key(key: object) -> str:
    """Return ``key`` when it matches the key pattern, else raise :class:`ValueError`."""
    if not isinstance(key, str) or KEY_PATTERN.fullmatch(key) is None:
        raise ValueError("invalid attachment key")
    return key


def _normalise_suffix(suffix: str) -> str:
    if not suffix:
        return ""
    suffix = suffix.lower()
    if not suffix.startswith("."):
        suffix = "." + suffix
    if _SUFFIX_PATTERN.fullmatch(suffix) is None:
        raise ValueError(f"invalid attachment suffix: {suffix!r}")
    return suffix


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
