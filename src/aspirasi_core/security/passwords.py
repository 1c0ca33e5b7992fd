"""argon2id password hashing (ASVS 5.0: m ≥ 19 MiB, t ≥ 2, p = 1).

Hashing costs tens of milliseconds of CPU and 19 MiB of memory: the async
helpers run it in a worker thread so the event loop keeps serving other requests,
and at most ``concurrency`` hashes run at once per process (by default as many as
the CPUs the process may use). More would not go faster — they would share the
same cores — but would hold 19 MiB each and starve the event loop of CPU time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref

import anyio
import anyio.to_thread
from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    """argon2id with configurable cost; verify also tells when to re-hash."""

    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_kib: int = 19456,
        parallelism: int = 1,
        concurrency: int = 0,
    ) -> None:
        #: Hashes at once per process; 0: the number of CPUs this process may use.
        self.concurrency = concurrency if concurrency > 0 else _usable_cpus()
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter]
        self._limiters = weakref.WeakKeyDictionary()
        self._hasher = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        # Verified against when the account does not exist, so an unknown login
        # costs the same time as a known one (no account enumeration by timing).
        self._dummy_hash = self._hasher.hash("dummy password for timing equality")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with None, burns the same time and says False."""
        if not password_hash:
            # Burn the same time as a real check, then refuse whatever the result.
            with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
                self._hasher.verify(self._dummy_hash, password)
            return False
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.concurrency)
        return limiter

    async def hash_async(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self.hash, password, limiter=self._limiter())

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        return await anyio.to_thread.run_sync(
            self.verify, password_hash, password, limiter=self._limiter()
        )


def _usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
