"""argon2id password hashing (ASVS 5.0: m ≥ 19 MiB, t ≥ 2, p = 1).

Hashing costs tens of milliseconds of CPU and 19 MiB of memory. argon2-cffi's
:class:`argon2.PasswordHasher` computes it; the async helpers run it on a small
dedicated :class:`concurrent.futures.ThreadPoolExecutor` with one thread per CPU
the process may use (``concurrency``), so the event loop keeps serving other
requests. More threads would not go faster — they would share the same cores —
but each thread that ever hashed keeps its 19 MiB in glibc's arena of that
thread: a dedicated, small pool bounds a worker's memory to ``concurrency`` such
buffers (measured in the benchmark), with glibc's default allocator settings.

A stored hash says its own cost, and a row changed in the database could ask for
gigabytes and minutes of CPU. Before one is verified its cost is bounded: memory
at most 4× the configured memory and at most 256 MiB, at most 16 passes and 8
lanes (never below the configured cost itself; see :meth:`PasswordHasher.cost_allowed`).
At the default cost (19 MiB, 2 passes) that is at most 76 MiB and about 32
times the work of a log-in; hashes of this or any earlier sane configuration
stay within it. A hash beyond it is not computed: it does not verify (the
log-in fails like a wrong password) and needs a re-hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")

#: Bounds of the cost of a stored hash that is verified (see the module's text):
#: memory at most this many times the configured memory, and at most
#: :data:`MAX_MEMORY_KIB` (unless the configured memory is larger)...
MEMORY_FACTOR = 4
MAX_MEMORY_KIB = 256 * 1024
#: ...at most this many passes and lanes (unless configured higher).
MAX_TIME_COST = 16
MAX_PARALLELISM = 8


class PasswordHasher:
    """argon2id with configurable cost; verify also tells when to re-hash."""

    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_kib: int = 19456,
        parallelism: int = 1,
        concurrency: int = 0,
        nice: int = 0,
        idle: bool = False,
    ) -> None:
        #: Hashes at once per process; 0: the number of CPUs this process may use.
        self.concurrency = concurrency if concurrency > 0 else _usable_cpus()
        #: How much lower than the event loop the hashing threads are scheduled.
        self.nice = nice
        #: Whether the hashing threads run in SCHED_IDLE (Linux) instead of at ``nice``.
        self.idle = idle
        #: The largest cost of a stored hash that is verified (see the module's text).
        self.max_memory_kib = max(memory_kib, min(MEMORY_FACTOR * memory_kib, MAX_MEMORY_KIB))
        self.max_time_cost = max(time_cost, MAX_TIME_COST)
        self.max_parallelism = max(parallelism, MAX_PARALLELISM)
        # The hashing threads (started on first use, in the process that uses them).
        self._executor = ThreadPoolExecutor(
            max_workers=self.concurrency,
            thread_name_prefix="argon2",
            initializer=_lower_priority,
            initargs=(nice, idle),
        )
        # A hasher nobody uses any more takes its threads along.
        weakref.finalize(self, self._executor.shutdown, wait=False)
        self._hasher = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        # A hash of exactly this configuration (argon2-cffi's parameters: 16-byte
        # salt, 32-byte hash) needs no re-hash: known without parsing it.
        self._current = re.compile(
            re.escape(f"$argon2id$v=19$m={memory_kib},t={time_cost},p={parallelism}$")
            + r"[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}"
        )
        # Verified against when the account does not exist, so an unknown login
        # costs the same time as a known one (no account enumeration by timing).
        self._dummy_hash = self._hasher.hash("dummy password for timing equality")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def cost_allowed(self, password_hash: str) -> bool:
        """Whether ``password_hash`` is an argon2 hash (ASCII) whose cost is within
        ``max_memory_kib``, ``max_time_cost`` and ``max_parallelism``: only those
        are computed. False also for anything libargon2 could not decode."""
        if not password_hash.isascii():
            return False
        try:
            cost = extract_parameters(password_hash)
        except InvalidHashError:
            return False
        return (
            cost.memory_cost <= self.max_memory_kib
            and cost.time_cost <= self.max_time_cost
            and cost.parallelism <= self.max_parallelism
        )

    def _verify(self, password_hash: str, password: str) -> bool:
        if not self.cost_allowed(password_hash):
            return False
        return bool(self._hasher.verify(password_hash, password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with None, burns the same time and says False."""
        if not password_hash:
            # Burn the same time as a real check, then refuse whatever the result.
            with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
                self._verify(self._dummy_hash, password)
            return False
        try:
            return self._verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether ``password_hash`` was made with other parameters than these (or
        cannot be read): the password should be hashed again at the next log-in."""
        if self._current.fullmatch(password_hash):
            return False
        if not self.cost_allowed(password_hash):
            return True
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    async def hash_async(self, password: str) -> str:
        """:meth:`hash` in a hashing thread."""
        return await self._run(functools.partial(self.hash, password))

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        """:meth:`verify` in a hashing thread."""
        return await self._run(functools.partial(self.verify, password_hash, password))

    async def _run(self, call: functools.partial[T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)


def _lower_priority(nice: int, idle: bool = False) -> None:
    """Run in each hashing thread: lower its own scheduling priority.

    Hashing releases the GIL, so the event loop and the hashing threads compete for
    the CPU in the kernel's scheduler; with equal priority a burst of log-ins takes
    half of it from every other request. With ``idle`` the thread moves to Linux's
    ``SCHED_IDLE`` class: a thread of any other class that wakes up preempts it at
    once (a niced thread keeps the CPU until its time slice ends, which delays the
    event loop by up to a few milliseconds per wake-up). Otherwise, or where that is
    refused, its nice value goes up by ``nice`` (Linux applies both per thread; the
    thread id is a process id to ``setpriority``). Elsewhere this does nothing.
    """
    if idle and hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread
            return
        except OSError:
            pass
    if nice <= 0 or not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    with contextlib.suppress(OSError):
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + nice))


def _usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
