"""argon2id on reused buffers, given back to the system when hashing stops.

libargon2 allocates its working memory (19 MiB with the default cost) for every hash
and frees it afterwards. With glibc that memory is either kept by the process for good
(the default: the heap of the hashing thread's arena grows by 19 MiB and never
shrinks) or, with a fixed mmap threshold, mapped and unmapped every time — and then
each hash first takes ~4,900 page faults to zero its pages again, about a third of
its time. Neither is good for a server that must stay small *and* log people in fast.

:class:`ArenaArgon2` computes argon2id through libargon2's ``argon2_ctx`` with an
allocator callback that hands out anonymous mappings kept in a free list: as many as
hashes ever ran at once (the hashing threads of the process), each reused by the next
hash. A background thread gives the pages back (``madvise
MADV_DONTNEED``; the mapping stays) once no hash has used them for ``idle_seconds``:
a burst of log-ins runs at the speed of the bare algorithm, and a worker that has
stopped hashing is as small as one that never did.

Only the work of argon2 itself goes through here; the encoded string format is the
PHC format argon2-cffi writes and reads (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``,
unpadded standard base64), and hashes made here verify with argon2-cffi and the
other way round (tests check both).
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import hmac
import mmap
import os
import re
import threading
import time
from typing import Any

from _argon2_cffi_bindings import ffi, lib
from argon2 import Type

__all__ = ["ArenaArgon2", "Unsupported"]

_BLOCK_BYTES = 1024  # ARGON2_BLOCK_SIZE
_SYNC_POINTS = 4  # ARGON2_SYNC_POINTS
_VERSION = 0x13
_ENCODED = re.compile(
    r"\$argon2id\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{6,})"
)


class Unsupported(Exception):
    """The encoded hash is not one this path computes (other type, version or cost)."""


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


class _Slot:
    """One buffer: its mapping and address, a lock held while a hash uses it, its state."""

    __slots__ = ("address", "last_used", "lock", "mapping", "resident", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.address = ctypes.addressof(ctypes.c_char.from_buffer(self.mapping))
        self.lock = threading.Lock()
        self.last_used = 0.0
        self.resident = False


_current = threading.local()


def _allocate(memory: Any, size: int) -> int:
    slot: _Slot | None = getattr(_current, "slot", None)
    if slot is None or size > slot.size:
        return int(lib.ARGON2_MEMORY_ALLOCATION_ERROR)
    memory[0] = ffi.cast("uint8_t *", slot.address)
    return int(lib.ARGON2_OK)


def _free(memory: Any, size: int) -> None:
    """libargon2 has already wiped the memory; the mapping is kept for the next hash."""


_ALLOCATE = ffi.callback("int(uint8_t **, size_t)", _allocate)
_FREE = ffi.callback("void(uint8_t *, size_t)", _free)


class ArenaArgon2:
    """argon2id with the given cost, on reused buffers released after ``idle_seconds``."""

    def __init__(
        self, *, time_cost: int, memory_kib: int, parallelism: int, idle_seconds: float = 2.0
    ) -> None:
        self.time_cost = time_cost
        self.memory_kib = memory_kib
        self.parallelism = parallelism
        self.idle_seconds = idle_seconds
        # libargon2 rounds the memory down to a multiple of 4 blocks per lane.
        lanes = parallelism
        blocks = max(memory_kib, 2 * _SYNC_POINTS * lanes)
        blocks -= blocks % (_SYNC_POINTS * lanes)
        self._bytes = blocks * _BLOCK_BYTES
        self._slots: list[_Slot] = []
        self._free: list[_Slot] = []
        self._cond = threading.Condition()
        self._releaser: threading.Thread | None = None

    # ------------------------------------------------------------------ public
    def hash(self, password: bytes, salt: bytes | None = None, hash_len: int = 32) -> str:
        """Hash ``password`` with a fresh 16-byte salt; the PHC-encoded string."""
        salt = salt if salt is not None else os.urandom(16)
        raw = self._raw(password, salt, hash_len, self.time_cost, self.memory_kib, self.parallelism)
        return (
            f"$argon2id$v=19$m={self.memory_kib},t={self.time_cost},p={self.parallelism}"
            f"${_b64encode(salt)}${_b64encode(raw)}"
        )

    def verify(self, encoded: str, password: bytes) -> bool:
        """Whether ``password`` matches ``encoded``.

        Raises :class:`Unsupported` for a hash of another type, version or cost (the
        caller verifies those with argon2-cffi) and for anything malformed.
        """
        match = _ENCODED.fullmatch(encoded)
        if match is None:
            raise Unsupported
        m, t, p = int(match[1]), int(match[2]), int(match[3])
        if (m, t, p) != (self.memory_kib, self.time_cost, self.parallelism):
            raise Unsupported
        try:
            salt, expected = _b64decode(match[4]), _b64decode(match[5])
        except (binascii.Error, ValueError) as exc:
            raise Unsupported from exc
        raw = self._raw(password, salt, len(expected), t, m, p)
        return hmac.compare_digest(raw, expected)

    def resident_bytes(self) -> int:
        """Bytes currently held in the buffers (for tests and metrics)."""
        with self._cond:
            return sum(s.size for s in self._slots if s.resident)

    # ------------------------------------------------------------------ internals
    def _take(self) -> _Slot:
        """A free buffer, or a new one: there are as many as hashes ever ran at once."""
        with self._cond:
            if self._free:
                return self._free.pop()
        slot = _Slot(self._bytes)
        with self._cond:
            self._slots.append(slot)
        return slot

    def _give_back(self, slot: _Slot) -> None:
        with self._cond:
            self._free.append(slot)
            if self._releaser is None:
                self._releaser = threading.Thread(
                    target=self._release_loop, name="argon2-release", daemon=True
                )
                self._releaser.start()
            self._cond.notify()

    def _raw(self, password: bytes, salt: bytes, out_len: int, t: int, m: int, p: int) -> bytes:
        out = ffi.new("uint8_t[]", out_len)
        pwd = ffi.new("uint8_t[]", password) if password else ffi.NULL
        salt_c = ffi.new("uint8_t[]", salt)
        ctx = ffi.new(
            "argon2_context *",
            {
                "out": out,
                "outlen": out_len,
                "pwd": pwd,
                "pwdlen": len(password),
                "salt": salt_c,
                "saltlen": len(salt),
                "secret": ffi.NULL,
                "secretlen": 0,
                "ad": ffi.NULL,
                "adlen": 0,
                "t_cost": t,
                "m_cost": m,
                "lanes": p,
                "threads": p,
                "version": _VERSION,
                "allocate_cbk": _ALLOCATE,
                "free_cbk": _FREE,
                "flags": lib.ARGON2_DEFAULT_FLAGS,
            },
        )
        slot = self._take()
        with slot.lock:
            _current.slot = slot
            try:
                rc = lib.argon2_ctx(ctx, Type.ID.value)
            finally:
                _current.slot = None
                slot.resident = True
                slot.last_used = time.monotonic()
        self._give_back(slot)
        if rc != lib.ARGON2_OK:
            raise Unsupported(ffi.string(lib.argon2_error_message(rc)).decode("ascii", "replace"))
        return bytes(ffi.buffer(out, out_len))

    def _release_loop(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [s for s in self._slots if s.resident]
                if not due:
                    self._cond.wait()
                    continue
                wake = min(s.last_used for s in due) + self.idle_seconds
                if wake > now:
                    self._cond.wait(wake - now)
                    continue
            for slot in due:
                # A slot busy with a hash right now is simply looked at again later.
                if slot.lock.acquire(blocking=False):
                    try:
                        if time.monotonic() - slot.last_used >= self.idle_seconds:
                            slot.mapping.madvise(mmap.MADV_DONTNEED)
                            slot.resident = False
                    finally:
                        slot.lock.release()
            time.sleep(0.05)  # never spin when a slot stays busy past its deadline
