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
stopped hashing is as small as one that never did. Where the kernel offers
transparent huge pages, the buffers ask for them: a hash then takes about 5% less
time than with argon2-cffi's own (4 KiB-paged) memory (see :class:`_Slot`).

Only the work of argon2 itself goes through here; the encoded string format is the
PHC format argon2-cffi writes and reads (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``,
unpadded standard base64), and hashes made here verify with argon2-cffi and the
other way round (tests check both). Only the canonical form is read (ASCII digits
without leading zeros, canonical base64, salt and hash of at most 64 bytes: strings
libargon2's own decoder accepts too); anything else, and any failure to
compute (no memory for a buffer, an error of libargon2), raises
:class:`Unsupported`, and the caller uses argon2-cffi instead.

The buffers and their releasing thread belong to the process: a forked child
starts with none (the parent's may be in use by threads the child does not have,
their locks held for good), and the thread holds the buffers but not the
:class:`ArenaArgon2`, so an arena nobody uses any more is collected, its thread
ends and its buffers are unmapped.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ctypes
import hmac
import mmap
import os
import re
import threading
import time
import weakref
from typing import Any

from _argon2_cffi_bindings import ffi, lib
from argon2 import Type

__all__ = ["ArenaArgon2", "Unsupported"]

_BLOCK_BYTES = 1024  # ARGON2_BLOCK_SIZE
_SYNC_POINTS = 4  # ARGON2_SYNC_POINTS
_VERSION = 0x13
#: Salt and hash of at most this many bytes (64: 86 base64 characters).
MAX_ENCODED_BYTES = 64
# ASCII digits without leading zeros; salt of 8 bytes or more (libargon2's
# minimum), hash of 4 or more, each at most 86 characters (checked exactly once
# decoded, see _b64decode).
_ENCODED = re.compile(
    r"\$argon2id\$v=19\$m=([1-9][0-9]{0,9}),t=([1-9][0-9]{0,9}),p=([1-9][0-9]{0,2})"
    r"\$([A-Za-z0-9+/]{11,86})\$([A-Za-z0-9+/]{6,86})"
)


class Unsupported(Exception):
    """Not computed here: a hash of another type, version or cost, a malformed one,
    or a failure of this path (no memory, an error of libargon2)."""


def _b64decode(text: str) -> bytes:
    """Unpadded standard base64 of at most :data:`MAX_ENCODED_BYTES` bytes, in its
    canonical form only (unused low bits zero, as libargon2 requires)."""
    data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    if len(data) > MAX_ENCODED_BYTES or _b64encode(data) != text:
        raise ValueError("not canonical base64 of at most 64 bytes")
    return data


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


#: The size of a transparent huge page on x86-64 and most arm64 kernels.
HUGE_PAGE = 2 * 1024 * 1024


class _Slot:
    """One buffer: its mapping and address, a lock held while a hash uses it, its state.

    The buffer starts at a multiple of :data:`HUGE_PAGE` inside a mapping one huge
    page longer than it, and the mapping asks for transparent huge pages
    (``MADV_HUGEPAGE``; a hint the kernel may ignore): argon2 reads blocks all over
    its 19 MiB, and with 4 KiB pages most of those reads miss the TLB. The address
    space past the buffer's last huge page is never touched; that page itself may
    hold up to 1 MiB more than the buffer. Where the kernel compacts memory on such
    a fault (``defrag`` at ``madvise``), the first hash after the buffer was given
    back may wait for it; the kernel falls back to small pages when it cannot.
    """

    __slots__ = ("address", "last_used", "lock", "mapping", "resident", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        whole = -(-size // HUGE_PAGE) * HUGE_PAGE + HUGE_PAGE
        self.mapping = mmap.mmap(-1, whole, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        start = ctypes.addressof(ctypes.c_char.from_buffer(self.mapping))
        self.address = -(-start // HUGE_PAGE) * HUGE_PAGE
        if hasattr(mmap, "MADV_HUGEPAGE"):
            # Not on this kernel (built without transparent huge pages): small pages.
            with contextlib.suppress(OSError):
                self.mapping.madvise(mmap.MADV_HUGEPAGE)
        self.lock = threading.Lock()
        self.last_used = 0.0
        self.resident = False


_current = threading.local()


def _allocate(memory: Any, size: int) -> int:
    slot: _Slot | None = getattr(_current, "slot", None)
    if slot is None or size > slot.size:
        # libargon2 tells failure by the pointer, not by the code returned.
        memory[0] = ffi.NULL
        return int(lib.ARGON2_MEMORY_ALLOCATION_ERROR)
    memory[0] = ffi.cast("uint8_t *", slot.address)
    return int(lib.ARGON2_OK)


def _free(memory: Any, size: int) -> None:
    """libargon2 has already wiped the memory; the mapping is kept for the next hash."""


_ALLOCATE = ffi.callback("int(uint8_t **, size_t)", _allocate)
_FREE = ffi.callback("void(uint8_t *, size_t)", _free)


class _Buffers:
    """The buffers of one arena in one process, and the thread that releases them.

    The thread holds this object, never the arena: when the arena is collected its
    finalizer calls :meth:`close`, the thread ends, and the buffers are unmapped
    with the last reference to them.
    """

    def __init__(self, size: int, idle_seconds: float) -> None:
        self.size = size
        self.idle_seconds = idle_seconds
        self.slots: list[_Slot] = []
        self.free: list[_Slot] = []
        self.cond = threading.Condition()
        self.releaser: threading.Thread | None = None
        self.closed = False

    def take(self) -> _Slot:
        """A free buffer, or a new one: there are as many as hashes ever ran at once.

        Raises ``OSError`` or ``MemoryError`` when a new one cannot be mapped.
        """
        with self.cond:
            if self.free:
                return self.free.pop()
        slot = _Slot(self.size)
        with self.cond:
            self.slots.append(slot)
        return slot

    def give_back(self, slot: _Slot) -> None:
        with self.cond:
            self.free.append(slot)
            if self.releaser is None and not self.closed:
                self.releaser = threading.Thread(
                    target=self.release_loop, name="argon2-release", daemon=True
                )
                self.releaser.start()
            self.cond.notify()

    def resident_bytes(self) -> int:
        with self.cond:
            return sum(s.size for s in self.slots if s.resident)

    def close(self) -> None:
        """The arena is gone: end the releasing thread."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def release_loop(self) -> None:
        while True:
            with self.cond:
                if self.closed:
                    return
                now = time.monotonic()
                due = [s for s in self.slots if s.resident]
                if not due:
                    self.cond.wait()
                    continue
                wake = min(s.last_used for s in due) + self.idle_seconds
                if wake > now:
                    self.cond.wait(wake - now)
                    continue
            for slot in due:
                # A slot busy with a hash right now is simply looked at again later.
                if slot.lock.acquire(blocking=False):
                    try:
                        if time.monotonic() - slot.last_used >= self.idle_seconds:
                            # Never seen to fail; if it did, the thread must go on.
                            with contextlib.suppress(OSError):
                                slot.mapping.madvise(mmap.MADV_DONTNEED)
                            slot.resident = False
                    finally:
                        slot.lock.release()
            time.sleep(0.05)  # never spin when a slot stays busy past its deadline


#: Every arena of the process, to give each new buffers in a forked child.
_arenas: weakref.WeakSet[ArenaArgon2] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for arena in list(_arenas):
        arena._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


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
        self._buffers = _Buffers(self._bytes, idle_seconds)
        self._closer = self._close_with_self(self._buffers)
        _arenas.add(self)

    # ------------------------------------------------------------------ public
    def hash(self, password: bytes, salt: bytes | None = None, hash_len: int = 32) -> str:
        """Hash ``password`` with a fresh 16-byte salt; the PHC-encoded string.

        Raises :class:`Unsupported` when this path fails (no memory for a buffer,
        an error of libargon2): the caller hashes with argon2-cffi instead.
        """
        salt = salt if salt is not None else os.urandom(16)
        raw = self._raw(password, salt, hash_len, self.time_cost, self.memory_kib, self.parallelism)
        return (
            f"$argon2id$v=19$m={self.memory_kib},t={self.time_cost},p={self.parallelism}"
            f"${_b64encode(salt)}${_b64encode(raw)}"
        )

    def verify(self, encoded: str, password: bytes) -> bool:
        """Whether ``password`` matches ``encoded``.

        Raises :class:`Unsupported` for a hash of another type, version or cost (the
        caller verifies those with argon2-cffi), for anything malformed or not in
        the canonical form, and when this path fails (no memory for a buffer, an
        error of libargon2).
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
        return self._buffers.resident_bytes()

    # ------------------------------------------------------------------ internals
    def _close_with_self(self, buffers: _Buffers) -> weakref.finalize[[], ArenaArgon2]:
        """End the releasing thread of ``buffers`` when this arena is collected."""
        closer = weakref.finalize(self, buffers.close)
        closer.atexit = False  # a daemon thread, nothing to do at exit
        return closer

    def _after_fork_in_child(self) -> None:
        """Start again with no buffers and no releasing thread: the parent's may be
        in use by threads the child does not have, their locks held for good."""
        self._closer.detach()  # never take the parent's lock
        self._buffers = _Buffers(self._bytes, self.idle_seconds)
        self._closer = self._close_with_self(self._buffers)

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
        buffers = self._buffers
        try:
            slot = buffers.take()
        except (OSError, MemoryError) as exc:  # mmap refused: no memory for a new buffer
            raise Unsupported(f"no buffer: {exc}") from exc
        with slot.lock:
            _current.slot = slot
            try:
                rc = lib.argon2_ctx(ctx, Type.ID.value)
            finally:
                _current.slot = None
                slot.resident = True
                slot.last_used = time.monotonic()
        buffers.give_back(slot)
        if rc != lib.ARGON2_OK:
            raise Unsupported(ffi.string(lib.argon2_error_message(rc)).decode("ascii", "replace"))
        return bytes(ffi.buffer(out, out_len))
