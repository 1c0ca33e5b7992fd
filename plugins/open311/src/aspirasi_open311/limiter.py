"""Each key's own rate limit: a moving window per key (the ``limits`` package),
counted in Redis when ``ASPIRASI_REDIS_URL`` is set — with the rate_limit
plugin's short timeouts, and in the worker's memory while Redis is down (its
:class:`~aspirasi_rate_limit.RedisBreaker`) — else in the worker's memory."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import structlog
from limits import RateLimitItem
from limits.errors import StorageError
from limits.strategies import MovingWindowRateLimiter

from aspirasi_core.domain.errors import Throttled
from aspirasi_core.settings import Settings
from aspirasi_rate_limit import ClockedMemoryStorage, RedisBreaker
from aspirasi_rate_limit.breaker import memory_fallback, redis_storage

log = structlog.get_logger("aspirasi.open311")

#: Prefix of the Redis keys of the counters.
KEY_PREFIX = "aspirasi-open311"


class KeyLimiter:
    """Counts the requests of each key against that key's limits."""

    def __init__(self, settings: Settings) -> None:
        self.breaker: RedisBreaker | None = None
        self._fallback: MovingWindowRateLimiter | None = None
        if settings.redis_url:
            storage = redis_storage(settings.redis_url, KEY_PREFIX)
            self._limiter = MovingWindowRateLimiter(storage)
            self._fallback = memory_fallback()
            self.breaker = RedisBreaker(storage.check)
        else:
            self._limiter = MovingWindowRateLimiter(ClockedMemoryStorage(time.time))

    def hit(self, key_id: int, items: Sequence[RateLimitItem]) -> None:
        """Count one request of key ``key_id``; ``Throttled`` (with the seconds to
        wait) when one of its limits is used up. Refused requests do not count."""
        limiter = self._limiter
        breaker = self.breaker
        if breaker is not None and not breaker.up and self._fallback is not None:
            limiter = self._fallback
            breaker.counted()
        try:
            self._hit(limiter, str(key_id), items)
        except StorageError as exc:
            assert breaker is not None and self._fallback is not None
            breaker.trip(exc)
            breaker.counted()
            self._hit(self._fallback, str(key_id), items)

    def _hit(
        self, limiter: MovingWindowRateLimiter, key: str, items: Sequence[RateLimitItem]
    ) -> None:
        refused = [item for item in items if not limiter.test(item, "key", key)]
        if not refused:
            refused = [item for item in items if not limiter.hit(item, "key", key)]
        if refused:
            wait = 1
            for item in refused:
                stats = limiter.get_window_stats(item, "key", key)
                wait = max(wait, min(item.get_expiry(), math.ceil(stats.reset_time - time.time())))
            log.info("open311_rate_limited", key_id=key, retry_after=wait)
            raise Throttled(retry_after=wait)
