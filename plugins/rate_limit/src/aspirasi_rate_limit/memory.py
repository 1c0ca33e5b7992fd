"""Moving-window counters in the memory of one process, on a clock you can set.

``limits``' own ``MemoryStorage`` reads ``time.time()`` inside the module and
expires entries from a background timer thread, so a test cannot move its time
without patching the module for the whole process. This storage implements the
same moving-window interface (``acquire_entry`` and ``get_moving_window``, which
``limits.strategies.MovingWindowRateLimiter`` drives) with an injected clock, and
expires entries when it is used instead of from a thread.

Why not ``limits``' ``MemoryStorage`` for the fallback while Redis is down, too: one
implementation for both uses, tested on a fake clock, and no timer thread per
worker. Every read and change of the counters happens under one lock (the core runs
the rate-limit hook in its worker threads), so a limit of N lets exactly N calls
through however many threads ask at once.

An entry counts while it is younger than the window: one made at ``t`` stops
counting at exactly ``t + expiry``, so a caller who waits the whole
``Retry-After`` is let through.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from limits.storage import MovingWindowSupport, Storage

#: Forget keys whose entries have all expired at most this often (seconds of the clock).
SWEEP_SECONDS = 60.0


class ClockedMemoryStorage(Storage, MovingWindowSupport):
    """Moving-window storage for ``limits`` in process memory.

    ``clock`` returns the current time in seconds (default ``time.time``).
    Thread-safe: one lock guards every key, which is plenty for the handful of
    checks a request makes. Only the moving-window strategy is supported; the
    fixed-window methods ``incr``, ``get`` and ``get_expiry`` raise
    ``NotImplementedError``.
    """

    # No STORAGE_SCHEME: the class is not registered as a ``limits`` URL scheme.

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(None)
        self._clock = clock
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = {}  # oldest entry first
        self._stale_at: dict[str, float] = {}  # when every entry of the key has expired
        self._next_sweep = clock() + SWEEP_SECONDS

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def now(self) -> float:
        """The storage's current time."""
        return self._clock()

    def _live(self, key: str, expiry: float, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - expiry:
            events.popleft()
        return events

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for key in [k for k, stale in self._stale_at.items() if stale <= now]:
            self._events.pop(key, None)
            self._stale_at.pop(key, None)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Add ``amount`` entries unless that would put more than ``limit`` in the window."""
        if amount > limit:
            return False
        now = self._clock()
        with self._lock:
            self._sweep(now)
            events = self._live(key, expiry, now)
            if len(events) + amount > limit:
                return False
            events.extend([now] * amount)
            self._events[key] = events
            self._stale_at[key] = now + expiry
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(time of the oldest entry still in the window, number of entries in it)."""
        now = self._clock()
        with self._lock:
            events = self._live(key, expiry, now)
            if not events:
                return now, 0
            return events[0], len(events)

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)
            self._stale_at.pop(key, None)

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._events)
            self._events.clear()
            self._stale_at.clear()
            return count

    def check(self) -> bool:
        return True

    def keys(self) -> list[str]:
        """The keys that hold entries (for diagnostics and tests)."""
        with self._lock:
            return list(self._events)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("ClockedMemoryStorage supports the moving window only")

    def get(self, key: str) -> int:
        raise NotImplementedError("ClockedMemoryStorage supports the moving window only")

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError("ClockedMemoryStorage supports the moving window only")
