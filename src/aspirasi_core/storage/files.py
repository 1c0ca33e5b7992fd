"""Attachments on the local disk: the default :class:`AttachmentStore`.

Files live outside any static folder, under random keys (128 random bits in hex
plus a short suffix such as ``.pdf``) in a two-level fan-out
(``<root>/ab/cd/abcd….pdf``) so no directory grows too large. Writes are atomic:
the data goes to a temporary file in the target directory, is flushed to disk
and then renamed over the final name, so a reader never sees half a file and a
crash leaves at worst a ``.tmp-*`` file behind. Files are created ``0o600`` and
directories ``0o700``.

Keys coming back from the database or a request are validated strictly before
they touch the file system: anything but the key pattern (``../../etc/passwd``,
an absolute path, upper-case hex) raises :class:`ValueError`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from pathlib import Path

__all__ = ["KEY_PATTERN", "LocalAttachmentStore", "validate_key"]

KEY_PATTERN = re.compile(r"[0-9a-f]{32}(?:\.[a-z0-9]{1,8})?")
_SUFFIX_PATTERN = re.compile(r"\.[a-z0-9]{1,8}")
_TEMP_PREFIX = ".tmp-"
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

        ``suffix`` is ``""`` or a short extension such as ``.pdf`` (the dot may be
        left out); anything else raises :class:`ValueError`.
        """
        suffix = _normalise_suffix(suffix)
        while True:
            key = secrets.token_hex(16) + suffix
            target = self._path(key)
            if not target.exists():  # 128 random bits: a clash is theoretical
                break
        self._ensure_dirs(target.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):  # mkstemp's 0o600 is filtered by the umask
                    os.fchmod(handle.fileno(), _FILE_MODE)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(target.parent)
        return key

    def get(self, key: str) -> bytes:
        """The stored bytes; :class:`FileNotFoundError` when the key is unknown."""
        path = self.path_for(key)
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def delete(self, key: str) -> None:
        """Remove the file; a missing key is not an error."""
        self.path_for(key).unlink(missing_ok=True)

    # ------------------------------------------------------------------ extras

    def path_for(self, key: str) -> Path:
        """Where the file of ``key`` lives (whether or not it exists), for the web
        adapter's file responses. Raises :class:`ValueError` for a malformed key."""
        return self._path(validate_key(key))

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
