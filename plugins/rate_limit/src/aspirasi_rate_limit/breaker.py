"""The Redis circuit breaker of the rate_limit plugin and its per-worker memory
fallback: while Redis is down or hung the limits count in memory, and a
background thread waits for Redis to come back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from limits.storage import RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from .memory import ClockedMemoryStorage

log = structlog.get_logger("aspirasi.rate_limit")

#: Seconds a request waits for Redis (one try, no retry) before it counts in memory.
REDIS_TIMEOUT = 0.25
#: Seconds between the background checks of a Redis that is down.
RECHECK_SECONDS = 2.0


class RedisBreaker:
    """Whether requests ask Redis. :meth:`trip` (a request found it down) makes
    them count in memory and starts a background thread that runs ``check`` every
    ``interval`` seconds until it succeeds; then requests ask Redis again.

    ``outages`` and ``counted_in_memory`` are the worker's counters, shown on
    ``/readyz``; both change under the breaker's lock (requests count from the
    core's worker threads)."""

    def __init__(self, check: Callable[[], bool], *, interval: float = RECHECK_SECONDS) -> None:
        self._check = check
        self.interval = interval
        self.up = True
        self.outages = 0
        self.counted_in_memory = 0
        self._down_since = 0.0
        self._counted_at_trip = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def trip(self, error: BaseException) -> None:
        """Redis failed a request: count in memory until the background check finds
        it answering. Logged once per outage."""
        with self._lock:
            if not self.up:
                return
            self.up = False
            self.outages += 1
            self._down_since = time.monotonic()
            self._counted_at_trip = self.counted_in_memory
        cause = getattr(error, "storage_error", None) or error
        log.warning(
            "rate_limit_redis_down",
            error=type(cause).__name__,
            detail=str(cause)[:200],
            fallback="per-worker memory",
            recheck_seconds=self.interval,
        )
        threading.Thread(target=self._watch, name="rate-limit-redis-check", daemon=True).start()

    def counted(self) -> None:
        """One call counted in memory. Under the lock: the hook runs in the core's
        worker threads, and ``+=`` on an attribute is not atomic in Python."""
        with self._lock:
            self.counted_in_memory += 1

    def check_now(self) -> None:
        """Run the background check at once (tests; it runs by itself anyway)."""
        self._wake.set()

    def _watch(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._check():
                break
        with self._lock:
            self.up = True
            down = time.monotonic() - self._down_since
            counted = self.counted_in_memory - self._counted_at_trip
        log.info(
            "rate_limit_redis_back",
            down_seconds=round(down, 1),
            counted_in_memory=counted,
        )


def redis_storage(url: str, key_prefix: str) -> Storage:
    """The ``limits`` storage on the Redis at ``url``: one try of at most
    :data:`REDIS_TIMEOUT` seconds per request, no retry."""
    # Imported here: redis-py is ~9 MB of a worker's memory, and a worker whose
    # limits count in memory (no ASPIRASI_REDIS_URL) never needs it.
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    if url.startswith("unix://"):
        url = "redis+" + url  # limits' spelling; it hands ``unix://`` to redis-py
    return RedisStorage(
        url,
        key_prefix=key_prefix,
        wrap_exceptions=True,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        # redis-py's default retries three times with back-off of up to
        # 10 s: a request would hang for seconds while Redis is down.
        retry=Retry(NoBackoff(), 0),  # type: ignore[arg-type]  # passed on to redis-py
    )


def memory_fallback() -> MovingWindowRateLimiter:
    """The per-worker counters used while Redis is down (stamped with
    ``time.time()``, like the entries ``limits`` writes to Redis)."""
    return MovingWindowRateLimiter(ClockedMemoryStorage(time.time))
