"""argon2id password hashing (security/passwords.py)."""

from __future__ import annotations

import os

import pytest
from argon2 import PasswordHasher as Argon2Cffi
from argon2 import Type

from aspirasi_core.security.passwords import PasswordHasher

PW = "kopi susu di tepian mahakam"


def test_hash_is_argon2id_with_the_given_cost(hasher) -> None:
    h = hasher.hash(PW)
    assert h.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert PW not in h


def test_hash_is_salted(hasher) -> None:
    assert hasher.hash(PW) != hasher.hash(PW)


def test_verify(hasher) -> None:
    h = hasher.hash(PW)
    assert hasher.verify(h, PW) is True
    assert hasher.verify(h, PW + " ") is False
    assert hasher.verify(h, PW.upper()) is False
    assert hasher.verify(h, "") is False


def test_verify_unicode_password(hasher) -> None:
    pw = "sandi rahasia ✓ Ünïcødé 日本"
    h = hasher.hash(pw)
    assert hasher.verify(h, pw)
    assert not hasher.verify(h, "sandi rahasia ✓ Unicode 日本")


def test_verify_none_is_false(hasher) -> None:
    assert hasher.verify(None, PW) is False
    # not even with the internal dummy password
    assert hasher.verify(None, "dummy password for timing equality") is False


@pytest.mark.parametrize(
    "stored",
    [
        "not a hash",
        "$2b$12$abcdefghijklmnopqrstuuDGkVbXnPCKjCv9qN9A1P9fnkUqT/R3W",  # bcrypt
        "$argon2id$v=19$m=1024,t=1,p=1$garbage",
    ],
)
def test_verify_garbage_hash_is_false(hasher, stored) -> None:
    assert hasher.verify(stored, PW) is False


def test_verify_empty_hash_is_false_even_for_the_dummy_password(hasher) -> None:
    assert hasher.verify("", "dummy password for timing equality") is False


def test_verify_empty_hash_is_false(hasher) -> None:
    assert hasher.verify("", PW) is False


def test_needs_rehash(hasher) -> None:
    assert hasher.needs_rehash(hasher.hash(PW)) is False
    stronger = PasswordHasher(time_cost=2, memory_kib=1024)
    other_memory = PasswordHasher(time_cost=1, memory_kib=2048)
    other_parallel = PasswordHasher(time_cost=1, memory_kib=1024, parallelism=2)
    for other in (stronger, other_memory, other_parallel):
        h = other.hash(PW)
        assert other.verify(h, PW)
        assert hasher.verify(h, PW)  # still verifies under the old parameters...
        assert hasher.needs_rehash(h) is True  # ...but asks for a new hash
        assert other.needs_rehash(hasher.hash(PW)) is True


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"salt_len": 8},
        {"salt_len": 32},
        {"hash_len": 16},
        {"hash_len": 64},
        {"time_cost": 2},
        {"memory_cost": 2048},
        {"parallelism": 2},
        {"type": Type.I},
        {"type": Type.D},
    ],
)
def test_needs_rehash_agrees_with_argon2_cffi(hasher, params) -> None:
    """The shortcut for hashes of exactly this configuration says what argon2-cffi
    says, for hashes of this and of every other parameter."""
    values = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1, "type": Type.ID, **params}
    reference = Argon2Cffi(**values)
    ours = Argon2Cffi(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    encoded = reference.hash(PW)
    assert hasher.needs_rehash(encoded) is ours.check_needs_rehash(encoded)
    assert hasher.needs_rehash(encoded) is (params != {})


def test_defaults_meet_the_security_baseline() -> None:
    """REFERENCE.md: argon2id with at least m=19 MiB, t=2, p=1."""
    h = PasswordHasher().hash(PW)
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.anyio
async def test_async_variants(hasher) -> None:
    h = await hasher.hash_async(PW)
    assert h.startswith("$argon2id$")
    assert await hasher.verify_async(h, PW) is True
    assert await hasher.verify_async(h, "wrong password") is False
    assert await hasher.verify_async(None, PW) is False
    assert hasher.verify(h, PW)


@pytest.mark.anyio
async def test_async_runs_off_the_event_loop_thread(hasher, monkeypatch) -> None:
    import threading

    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = hasher.hash

    def spy(password: str) -> str:
        seen.append(threading.get_ident())
        return original(password)

    monkeypatch.setattr(hasher, "hash", spy)
    await hasher.hash_async(PW)
    assert seen and seen[0] != loop_thread


def test_at_most_concurrency_hashes_run_at_once() -> None:
    import threading

    import anyio

    hasher = PasswordHasher(time_cost=1, memory_kib=1024, concurrency=2)
    running = 0
    peak = 0
    lock = threading.Lock()
    # Each hash waits for a second one to run beside it: two threads always meet
    # (the peak is reached without hoping for an overlap); a third would show.
    pair = threading.Barrier(2)
    real_hash = hasher.hash

    def slow_hash(password: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        pair.wait(30)
        with lock:
            running -= 1
        return real_hash(password)

    hasher.hash = slow_hash  # type: ignore[method-assign]

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(hasher.hash_async, PW)

    anyio.run(main)
    assert peak == 2
    assert PasswordHasher().concurrency >= 1


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="Linux only")
def test_hashing_threads_run_at_a_lower_priority_than_the_event_loop() -> None:
    import threading

    import anyio

    hasher = PasswordHasher(time_cost=1, memory_kib=1024, nice=7)
    seen: list[tuple[int, int]] = []
    real_hash = hasher.hash

    def spy(password: str) -> str:
        tid = threading.get_native_id()
        seen.append((tid, os.getpriority(os.PRIO_PROCESS, tid)))
        return real_hash(password)

    hasher.hash = spy  # type: ignore[method-assign]
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    async def main() -> None:
        await hasher.hash_async(PW)

    anyio.run(main)
    (tid, priority), *_ = seen
    assert tid != threading.get_native_id()
    assert priority == min(19, mine + 7)
    # the caller's own priority is untouched
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux only")
def test_hashing_threads_can_run_in_sched_idle() -> None:
    """``idle=True`` (ASPIRASI_ARGON2_IDLE, the default) puts the hashing threads in
    SCHED_IDLE, where any waking thread preempts them; the caller keeps its class."""
    import threading

    import anyio

    hasher = PasswordHasher(time_cost=1, memory_kib=1024, nice=7, idle=True)
    seen: list[tuple[int, int]] = []
    real_hash = hasher.hash

    def spy(password: str) -> str:
        tid = threading.get_native_id()
        seen.append((tid, os.sched_getscheduler(0)))
        return real_hash(password)

    hasher.hash = spy  # type: ignore[method-assign]
    mine = os.sched_getscheduler(0)

    async def main() -> None:
        await hasher.hash_async(PW)

    anyio.run(main)
    (tid, policy), *_ = seen
    assert tid != threading.get_native_id()
    assert policy == os.SCHED_IDLE
    assert os.sched_getscheduler(0) == mine != os.SCHED_IDLE


def test_a_hasher_nobody_uses_stops_its_threads() -> None:
    import asyncio
    import gc
    import threading

    before = set(threading.enumerate())
    hasher = PasswordHasher(time_cost=1, memory_kib=1024, concurrency=2)
    assert asyncio.run(hasher.verify_async(hasher.hash(PW), PW)) is True
    threads = [t for t in set(threading.enumerate()) - before if t.name.startswith("argon2")]
    assert threads and all(t.is_alive() for t in threads)
    del hasher
    gc.collect()
    for thread in threads:
        thread.join(5)
    assert not any(t.is_alive() for t in threads)


def test_a_stored_hash_beyond_the_cost_bound_is_not_computed(hasher) -> None:
    """The cost a stored hash names is read (argon2-cffi's extract_parameters)
    before anything is computed: a row asking for gigabytes is refused."""
    good = hasher.hash("correct horse")
    assert hasher.cost_allowed(good)
    salt_and_hash = good.split("$", 4)[4]
    for cost in ("m=4194304,t=1,p=1", "m=1024,t=1000,p=1", "m=1024,t=1,p=64"):
        hostile = f"$argon2id$v=19${cost}${salt_and_hash}"
        assert not hasher.cost_allowed(hostile)
        assert hasher.verify(hostile, "correct horse") is False
        assert hasher.needs_rehash(hostile)
    old_format = f"$argon2i$m=1024,t=1,p=1${salt_and_hash}"  # v1.2: no version part
    assert hasher.cost_allowed(old_format)
    assert not hasher.cost_allowed("$argon2id$v=19$m=1024,t=1$" + salt_and_hash)
    assert not hasher.cost_allowed("$argon2id$v=19$m=１０２４,t=1,p=1$" + salt_and_hash)
