"""argon2id on reused buffers (security/argon2_arena.py)."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from argon2 import PasswordHasher as Argon2Cffi
from argon2 import Type
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert len(arena._slots) == 1
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
    assert 1 <= len(arena._slots) <= 3


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
