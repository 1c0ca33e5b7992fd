"""argon2id on reused buffers (security/argon2_arena.py)."""

from __future__ import annotations

import asyncio
import errno
import gc
import mmap
import os
import signal
import sys
import threading
import time
import weakref
from typing import Any

import pytest
from argon2 import PasswordHasher as Argon2Cffi
from argon2 import Type
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.forking import exit_code_of_child_forked_while_held

from aspirasi_core.security import argon2_arena
from aspirasi_core.security.argon2_arena import ArenaArgon2, Unsupported
from aspirasi_core.security.passwords import PasswordHasher

COST = {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}
REFERENCE = Argon2Cffi(
    time_cost=1, memory_cost=1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


@pytest.fixture(scope="module")
def arena() -> ArenaArgon2:
    return ArenaArgon2(**COST)


@settings(max_examples=40, deadline=None)
@given(password=st.text(max_size=80))
def test_hashes_are_argon2_cffi_hashes_both_ways(arena, password) -> None:
    secret = password.encode("utf-8")
    ours = arena.hash(secret)
    assert REFERENCE.verify(ours, password)
    theirs = REFERENCE.hash(password)
    assert arena.verify(theirs, secret) is True
    assert arena.verify(theirs, secret + b"x") is False


def test_same_salt_same_hash_as_argon2_cffi(arena) -> None:
    from argon2.low_level import hash_secret

    salt = b"0123456789abcdef"
    expected = hash_secret(b"kopi", salt, 1, 1024, 1, 32, Type.ID).decode("ascii")
    assert arena.hash(b"kopi", salt=salt) == expected


@pytest.mark.parametrize(
    "encoded",
    [
        "not a hash",
        REFERENCE.hash("x").replace("argon2id", "argon2i"),
        Argon2Cffi(time_cost=2, memory_cost=1024).hash("x"),  # another cost
        "$argon2id$v=19$m=1024,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAA",  # not base64 (5 chars)
        "$argon2id$v=16$m=1024,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_other_hashes_are_left_to_the_caller(arena, encoded) -> None:
    with pytest.raises(Unsupported):
        arena.verify(encoded, b"x")


def test_password_hasher_falls_back_for_hashes_the_arena_does_not_compute() -> None:
    hasher = PasswordHasher(**{k: v for k, v in COST.items()})
    older = Argon2Cffi(time_cost=2, memory_cost=2048, parallelism=1).hash("kopi")
    assert hasher.verify(older, "kopi") is True
    assert hasher.verify(older, "teh") is False
    assert hasher.verify("$argon2id$v=19$m=1024,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAA", "x") is False


def test_buffers_are_reused_as_many_as_ran_at_once() -> None:
    arena = ArenaArgon2(**COST, idle_seconds=60)
    for _ in range(20):
        arena.hash(b"kopi")
    assert len(arena._buffers.slots) == 1
    barrier = threading.Barrier(3)

    def work() -> None:
        barrier.wait()
        for _ in range(5):
            arena.hash(b"teh")

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= len(arena._buffers.slots) <= 3


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_goes_back_to_the_system_when_hashing_stops() -> None:
    arena = ArenaArgon2(time_cost=1, memory_kib=48 * 1024, parallelism=1, idle_seconds=0.2)
    before = _rss_kib()
    digest = arena.hash(b"kopi", salt=b"0123456789abcdef")
    during = _rss_kib()
    assert arena.resident_bytes() == 48 * 1024 * 1024
    assert during - before > 40 * 1024  # the 48 MiB buffer is in memory...
    deadline = time.monotonic() + 5
    while arena.resident_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert arena.resident_bytes() == 0
    assert during - _rss_kib() > 40 * 1024  # ...and given back after the idle time
    # the released buffer is still usable, and gives the same result
    assert arena.hash(b"kopi", salt=b"0123456789abcdef") == digest


def _vma_of(address: int) -> dict[str, str]:
    """The /proc/self/smaps entry of the mapping that holds ``address``."""
    entry: dict[str, str] | None = None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()[0]
            if "-" in head and ":" not in head:
                low, high = (int(x, 16) for x in head.split("-"))
                if entry is not None:
                    break
                if low <= address < high:
                    entry = {"range": head}
            elif entry is not None:
                key, _, value = line.partition(":")
                entry[key] = value.strip()
    assert entry is not None, f"no mapping holds {address:#x}"
    return entry


def _huge_pages_offered() -> bool:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


@pytest.mark.skipif(
    not hasattr(mmap, "MADV_HUGEPAGE") or not _huge_pages_offered(),
    reason="no transparent huge pages on this system",
)
def test_buffers_start_on_a_huge_page_and_ask_for_huge_pages() -> None:
    arena = ArenaArgon2(time_cost=1, memory_kib=5 * 1024, parallelism=1, idle_seconds=60)
    digest = arena.hash(b"kopi", salt=b"0123456789abcdef")
    (slot,) = arena._buffers.slots
    assert slot.address % argon2_arena.HUGE_PAGE == 0
    vma = _vma_of(slot.address)
    low, high = (int(x, 16) for x in vma["range"].split("-"))
    assert low <= slot.address and slot.address + slot.size <= high  # inside its mapping
    assert "hg" in vma["VmFlags"].split()  # MADV_HUGEPAGE was applied
    assert REFERENCE.verify(digest, "kopi")


# ----------------------------------------------------------------------------- strict format

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _parts(encoded: str) -> list[str]:
    """``['', 'argon2id', 'v=19', 'm=…,t=…,p=…', salt, hash]``"""
    return encoded.split("$")


def _non_canonical(text: str) -> str:
    """The same bytes in base64 with an unused low bit set (libargon2 refuses it)."""
    return text[:-1] + B64[B64.index(text[-1]) ^ 1]


def _variants() -> dict[str, str]:
    from argon2.low_level import hash_secret

    good = REFERENCE.hash("x")
    _, kind, version, cost, salt, digest = _parts(good)
    long_salt = hash_secret(b"x", b"s" * 65, 1, 1024, 1, 32, Type.ID).decode("ascii")
    long_hash = hash_secret(b"x", b"s" * 16, 1, 1024, 1, 65, Type.ID).decode("ascii")
    return {
        "leading zero": f"${kind}${version}$m=01024,t=1,p=1${salt}${digest}",
        "non-ASCII digits": f"${kind}${version}$m=\uff11\uff10\uff12\uff14,t=1,p=1${salt}${digest}",
        "non-canonical salt": f"${kind}${version}${cost}${_non_canonical(salt)}${digest}",
        "non-canonical hash": f"${kind}${version}${cost}${salt}${_non_canonical(digest)}",
        "salt over 64 bytes": long_salt,
        "hash over 64 bytes": long_hash,
    }


VARIANTS = _variants()


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_only_the_canonical_form_is_computed(arena, name) -> None:
    with pytest.raises(Unsupported):
        arena.verify(VARIANTS[name], b"x")


@pytest.mark.parametrize("name", ["leading zero", "non-canonical salt", "non-canonical hash"])
def test_forms_libargon2_refuses_do_not_verify(name) -> None:
    hasher = PasswordHasher(**COST)
    assert hasher.verify(VARIANTS[name], "x") is False


def test_long_salts_and_hashes_are_left_to_argon2_cffi() -> None:
    hasher = PasswordHasher(**COST)
    for name in ("salt over 64 bytes", "hash over 64 bytes"):
        assert hasher.verify(VARIANTS[name], "x") is True
        assert hasher.verify(VARIANTS[name], "y") is False


# ----------------------------------------------------------------------------- bounded cost


def _with_cost(cost: str, kind: str = "argon2id", version: str = "v=19$") -> str:
    *_, salt, digest = _parts(REFERENCE.hash("x"))
    return f"${kind}${version}{cost}${salt}${digest}"


@pytest.mark.parametrize(
    "stored",
    [
        _with_cost("m=4097,t=1,p=1"),  # over 4x the configured 1024 KiB
        _with_cost("m=4194304,t=1,p=1"),  # 4 GiB
        _with_cost("m=1024,t=17,p=1"),
        _with_cost("m=1024,t=4294967295,p=1"),
        _with_cost("m=1024,t=1,p=9"),
        _with_cost("m=4194304,t=1,p=1", kind="argon2i"),
        _with_cost("m=4194304,t=1,p=1", kind="argon2d"),
        _with_cost("m=4194304,t=1,p=1", version=""),  # no version: argon2 1.0
        _with_cost("m=1024,t=99999999999,p=1"),  # more digits than 32 bits hold
        _with_cost("m=1024,t=1,p=1")[:-2] + "\u00fc",  # not ASCII
    ],
)
def test_hashes_of_too_high_a_cost_are_not_computed(monkeypatch, stored) -> None:
    hasher = PasswordHasher(**COST)

    def never(*args: Any) -> bool:
        raise AssertionError("computed")

    class Never:
        verify = check_needs_rehash = staticmethod(never)

    monkeypatch.setattr(hasher._arena, "verify", never)
    monkeypatch.setattr(hasher, "_hasher", Never())
    assert hasher.cost_allowed(stored) is False
    assert hasher.verify(stored, "x") is False
    assert hasher.needs_rehash(stored) is True


def test_the_bounds_of_the_cost() -> None:
    hasher = PasswordHasher(**COST)
    assert (hasher.max_memory_kib, hasher.max_time_cost, hasher.max_parallelism) == (4096, 16, 8)
    assert hasher.cost_allowed(_with_cost("m=4096,t=16,p=8")) is True
    assert hasher.cost_allowed(_with_cost("m=4096,t=16,p=8", kind="argon2i", version="")) is True
    # never below the configured cost, and at most 256 MiB otherwise
    assert PasswordHasher(time_cost=20, memory_kib=1024, parallelism=1).max_time_cost == 20
    assert PasswordHasher(time_cost=1, memory_kib=128 * 1024).max_memory_kib == 256 * 1024


# ----------------------------------------------------------------------------- failures


def test_a_failed_allocation_hands_libargon2_a_null_pointer() -> None:
    from _argon2_cffi_bindings import ffi, lib

    memory = ffi.new("uint8_t **")
    memory[0] = ffi.cast("uint8_t *", 4096)
    assert argon2_arena._allocate(memory, 1024) == lib.ARGON2_MEMORY_ALLOCATION_ERROR
    assert memory[0] == ffi.NULL


def _check_falls_back(hasher: PasswordHasher) -> None:
    stored = hasher.hash("kopi")
    assert REFERENCE.verify(stored, "kopi")
    assert hasher.verify(stored, "kopi") is True
    assert hasher.verify(stored, "teh") is False
    assert hasher.verify(REFERENCE.hash("teh"), "teh") is True


@pytest.mark.parametrize("error", [OSError(errno.ENOMEM, "no memory"), MemoryError()])
def test_no_memory_for_a_buffer_falls_back_to_argon2_cffi(monkeypatch, error) -> None:
    def refuse(size: int) -> Any:
        raise error

    monkeypatch.setattr(argon2_arena, "_Slot", refuse)
    hasher = PasswordHasher(**COST)
    with pytest.raises(Unsupported):
        hasher._arena.hash(b"kopi")
    _check_falls_back(hasher)


def test_an_error_of_libargon2_falls_back_to_argon2_cffi(monkeypatch) -> None:
    real = argon2_arena.lib

    class Failing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def argon2_ctx(self, ctx: Any, kind: int) -> int:
            return int(real.ARGON2_THREAD_FAIL)

    monkeypatch.setattr(argon2_arena, "lib", Failing())
    _check_falls_back(PasswordHasher(**COST))


def test_a_buffer_too_small_falls_back_to_argon2_cffi() -> None:
    hasher = PasswordHasher(**COST)
    hasher._arena._buffers.size = 4096  # the allocator callback refuses
    _check_falls_back(hasher)
    assert hasher._arena._buffers.slots  # the arena did try


# ----------------------------------------------------------------------------- lifetime


def test_an_arena_nobody_uses_is_collected_and_its_thread_ends() -> None:
    arena = ArenaArgon2(**COST, idle_seconds=60)
    arena.hash(b"kopi")
    thread = arena._buffers.releaser
    assert thread is not None and thread.is_alive()
    gone = weakref.ref(arena)
    del arena
    gc.collect()
    assert gone() is None
    thread.join(timeout=5)
    assert not thread.is_alive()


def _in_child(hasher: PasswordHasher, stored: str) -> int:
    """In the forked child: hash and verify, sync and async; the exit status."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(20)  # a deadlock kills the child (status -SIGALRM)
    if hasher._arena._buffers.slots:
        return 2  # the parent's buffers are not reused
    if asyncio.run(hasher.verify_async(stored, "kopi")) is not True:
        return 3
    if asyncio.run(hasher.verify_async(stored, "teh")) is not False:
        return 4
    if not hasher.verify(hasher.hash("teh"), "teh"):
        return 5
    deadline = time.monotonic() + 5
    while hasher._arena.resident_bytes() and time.monotonic() < deadline:
        time.sleep(0.02)
    if hasher._arena.resident_bytes():
        return 6  # the child's own thread gives the memory back
    return 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_has_its_own_buffers_thread_and_executor() -> None:
    hasher = PasswordHasher(**COST, concurrency=1)
    hasher._arena = ArenaArgon2(**COST, idle_seconds=0.1)
    # The parent has a buffer, a releasing thread and a hashing thread...
    stored = asyncio.run(hasher.hash_async("kopi"))
    assert hasher._arena._buffers.slots and hasher._arena._buffers.releaser
    # ...and, as a thread of the parent may at any time, holds the arena's lock.
    code = exit_code_of_child_forked_while_held(
        hasher._arena._buffers.cond, lambda: _in_child(hasher, stored)
    )
    assert code == 0
    # the parent's own buffers are untouched
    assert hasher.verify(stored, "kopi") is True
