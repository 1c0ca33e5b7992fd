"""Rate limits that hold across workers.

Refuses a use case with ``Throttled(retry_after=seconds)`` — the web answers 429
with ``Retry-After`` and "Too many attempts. Please try again in N seconds." —
when a caller has used up its budget. Every limit is a moving window (the
``limits`` package): an attempt counts for exactly the length of the window
after it was made, so a budget comes back bit by bit and nobody is locked out
for longer than one window after the attempts stop. Refused attempts do not count.

Quick start
-----------
Install the package next to ``aspirasi-core`` (``pip install aspirasi-rate-limit``);
the core loads it through its ``aspirasi`` entry point ``rate_limit``, which names
the class :class:`RateLimitPlugin`, so each plugin manager gets its own instance
and its own counters. With one process nothing else is needed; with several web
workers set ``ASPIRASI_REDIS_URL`` so they share the counters. Turn the plugin
off with ``ASPIRASI_DISABLED_PLUGINS=rate_limit``.

The limits
----------
Each is set by ``ASPIRASI_RATE_LIMIT_<NAME>`` in the ``limits`` notation
``N/period`` (``3/minute``, ``5/5minutes``, ``10/hour``, ``20/day``; several
joined by ``;`` all apply, e.g. ``5/5minutes;20/hour``), or ``off`` to drop
that limit. "Account" is the signed-in account, "e-mail" the address typed in,
"login" the user name or e-mail typed in, "IP" the client address.

``ASPIRASI_RATE_LIMIT_RESEND_VERIFICATION_ACCOUNT`` (default ``3/minute``)
    Resending the verification link, per account: after 3 requests in a row the
    next is refused for (at most) 60 seconds. The mail sent at registration
    does not count.
``ASPIRASI_RATE_LIMIT_LOGIN_ACCOUNT`` (default ``5/5minutes``)
    Log-in attempts per account from untrusted clients, successful or not (the
    core asks before it checks the password): every client that has not logged
    in to this account before shares it. Slows password guessing down.
``ASPIRASI_RATE_LIMIT_LOGIN_DEVICE`` (default ``5/5minutes``)
    Log-in attempts per trusted device: a browser or app that logged in to the
    account before and sends the signed device token it got then (OWASP's
    device cookies). Its attempts count here instead of against the account, so
    an attacker who locks the account from elsewhere does not lock its owner out.
``ASPIRASI_RATE_LIMIT_LOGIN_IP`` (default ``30/5minutes``)
    Log-in attempts per IP, whatever the login name and the device.
``ASPIRASI_RATE_LIMIT_REGISTER_IP`` (default ``10/hour``)
    Registrations per IP.
``ASPIRASI_RATE_LIMIT_REGISTER_EMAIL`` (default ``5/hour``)
    Registrations per e-mail address (each one mails the address).
``ASPIRASI_RATE_LIMIT_FORGOT_PASSWORD_EMAIL`` (default ``3/hour``)
    Password-reset requests per e-mail address, registered or not.
``ASPIRASI_RATE_LIMIT_FORGOT_PASSWORD_IP`` (default ``10/hour``)
    Password-reset requests per IP.
``ASPIRASI_RATE_LIMIT_RESET_PASSWORD_IP`` (default ``10/hour``)
    Attempts to set a new password with a reset link, per IP.
``ASPIRASI_RATE_LIMIT_CHANGE_PASSWORD_ACCOUNT`` (default ``5/5minutes``)
    Password changes per account (each one checks the current password).
``ASPIRASI_RATE_LIMIT_TRACK_IP`` (default ``10/10minutes;40/hour;200/day``)
    Public tracking look-ups per IP (against NIK enumeration): looking up 9,999
    NIKs from one address takes 49 days.
``ASPIRASI_RATE_LIMIT_TRACK_NIK_PREFIX`` (default ``30/day``)
    Public tracking look-ups per NIK prefix (region and birth date, the first 12
    digits), from any address: walking the 9,999 serial numbers of a known
    region and birth date takes 333 days, however many addresses try. Someone
    who exhausts it pauses tracking by NIK for the few dozen people who share
    that prefix for a day; they still see everything after logging in.
``ASPIRASI_RATE_LIMIT_SUBMIT_ACCOUNT`` (default ``20/day``)
    Messages a citizen may send per day.
``ASPIRASI_RATE_LIMIT_DELETE_ACCOUNT_ACCOUNT`` (default ``5/5minutes``)
    Attempts to delete one's account, per account (each one checks the password).
``ASPIRASI_RATE_LIMIT_EXPORT_DATA_ACCOUNT`` (default ``5/hour``)
    Downloads of one's data, per account (each one reads every file of the account).

Per-IP limits use the address the web adapter put in the call (the connection's,
or the one ``X-Forwarded-For`` names when the request comes through one of
``ASPIRASI_TRUSTED_PROXIES``). A call without an address (the CLI, a script) skips
them. IPv6 addresses are counted per ``/64`` network, since one host usually owns
a whole one.

Where the counters live
-----------------------
``ASPIRASI_REDIS_URL``
    Unset: in the memory of the process (fine for the embedded single-process
    mode; with several workers each would count on its own and a limit would
    be multiplied). Set it (``redis://127.0.0.1:6379/0``, ``rediss://…``,
    ``unix:///run/redis.sock``) when several workers serve: every worker counts
    against the same limits, atomically (a Lua script per attempt). Any other
    scheme stops the start. The moving window is stamped with each worker's
    clock, so keep the workers' clocks in sync (NTP).
``ASPIRASI_RATE_LIMIT_KEY_PREFIX`` (default ``aspirasi-rate-limit``)
    Prefix of the Redis keys; give each deployment that shares a Redis its own.

Keys never hold the e-mail, login name or IP: they are HMAC-SHA-256 digests
keyed with ``ASPIRASI_SECRET_KEY``, so every worker must share that too.

When Redis cannot be reached (refused, reset, or no answer within a quarter of
a second), the limits go on in the memory of each worker — a worker then counts
only its own attempts, so with N workers a limit allows up to N times as many —
and requests stop asking Redis: a dead or hung Redis delays at most the one
request that found it so. The outage is logged once (``rate_limit_redis_down``,
a warning), a background thread of the worker checks Redis every 2 seconds, and
once it answers the counters are in Redis again (``rate_limit_redis_back``, with
how long it was down and how many attempts were counted in memory). ``/readyz``
shows Redis as ``degraded`` meanwhile, with the number of outages and of attempts
counted in memory (the service stays ready: a broken cache must not stop log-in).

A misspelt ``ASPIRASI_RATE_LIMIT_*`` variable, or a value that is not a limit,
stops the start with a ``ValueError`` naming the variable.

In code
-------
``RateLimitPlugin(clock=None)`` — ``clock`` returns the time in seconds
(default ``time.time``) for the in-memory counters and for ``retry_after``;
tests pass a fake one. ``plugin.config`` is the :class:`LimitConfig` read at
start-up; :data:`RULES` lists every limit.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable

import structlog
from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from aspirasi_core import hookimpl
from aspirasi_core.domain.errors import Throttled
from aspirasi_core.plugin_types import ComponentStatus, UseCaseCall
from aspirasi_core.settings import Settings

from .breaker import RedisBreaker, memory_fallback, redis_storage
from .memory import ClockedMemoryStorage
from .rules import RULES, LimitConfig, Rule, client_network, read_config

__all__ = [
    "RULES",
    "ClockedMemoryStorage",
    "LimitConfig",
    "RateLimitPlugin",
    "RedisBreaker",
    "Rule",
]

log = structlog.get_logger("aspirasi.rate_limit")


class RateLimitPlugin:
    """The ``rate_limit`` plugin: a fresh instance per plugin manager.

    ``clock`` (seconds, default ``time.time``) drives the in-memory counters
    and the ``retry_after`` of refusals; with Redis the ``limits`` package stamps
    entries with ``time.time()``, and so does ``retry_after``.
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.time
        self._config: LimitConfig | None = None
        self._storage: Storage | None = None
        self._limiter: MovingWindowRateLimiter | None = None
        self._now: Callable[[], float] = self._clock
        self._by_use_case: dict[str, list[tuple[Rule, tuple[RateLimitItem, ...]]]] = {}
        self._hmac_key = b""
        #: With Redis: the per-worker counters used while it is down, and the
        #: breaker that decides (None without Redis).
        self._fallback: MovingWindowRateLimiter | None = None
        self.breaker: RedisBreaker | None = None

    @property
    def config(self) -> LimitConfig | None:
        """The configuration read at start-up (None before ``aspirasi_configure``)."""
        return self._config

    @property
    def storage(self) -> Storage | None:
        """Where the counters live (``ClockedMemoryStorage`` or ``limits``' ``RedisStorage``)."""
        return self._storage

    @hookimpl
    def aspirasi_configure(self, settings: Settings) -> None:
        """Read the limits and the counter backend; refuse bad values."""
        config = read_config(settings)
        if config.backend == "redis":
            assert config.redis_url is not None
            storage: Storage = redis_storage(config.redis_url, config.key_prefix)
            self._now = time.time
            self._fallback = memory_fallback()
            self.breaker = RedisBreaker(storage.check)
        else:
            storage = ClockedMemoryStorage(self._clock)
            self._now = self._clock
            self._fallback = None
            self.breaker = None
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        by_use_case: dict[str, list[tuple[Rule, tuple[RateLimitItem, ...]]]] = {}
        for rule in RULES:
            items = config.limits[rule.name]
            if items:
                by_use_case.setdefault(rule.use_case, []).append((rule, items))
        self._by_use_case = by_use_case
        self._hmac_key = hmac.new(
            settings.secret_key.encode(), b"aspirasi-rate-limit", hashlib.sha256
        ).digest()
        self._config = config
        log.info("rate_limit_configured", backend=config.backend, limits=config.describe())

    def _identity(self, rule: Rule, call: UseCaseCall) -> str | None:
        if rule.untrusted_only and call.device is not None:
            return None
        if rule.by == "ip":
            value = None if call.client_ip is None else client_network(call.client_ip)
        elif rule.by == "device":
            value = call.device
        else:
            value = None if call.subject is None else call.subject.strip().casefold()
        if not value:
            return None
        message = f"{rule.by}:{value}".encode()
        return hmac.new(self._hmac_key, message, hashlib.sha256).hexdigest()[:32]

    @hookimpl
    def aspirasi_before_use_case(self, call: UseCaseCall) -> None:
        """Count the call against its limits; raise ``Throttled`` when one is used up."""
        rules = self._by_use_case.get(call.name)
        limiter = self._limiter
        if limiter is None:
            raise RuntimeError("the rate_limit plugin was not configured")
        if not rules:
            return
        checks: list[tuple[Rule, RateLimitItem, str]] = []
        for rule, items in rules:
            identity = self._identity(rule, call)
            if identity is not None:
                checks.extend((rule, item, identity) for item in items)
        if not checks:
            return
        breaker = self.breaker
        if breaker is not None and not breaker.up:
            limiter = self._fallback or limiter
            breaker.counted()
        try:
            refused, retry_after = self._count(limiter, checks)
        except StorageError as exc:  # Redis is down or hung: count in memory from now on
            assert breaker is not None and self._fallback is not None
            breaker.trip(exc)
            breaker.counted()
            refused, retry_after = self._count(self._fallback, checks)
        if not refused:
            return
        log.info(
            "rate_limited",
            use_case=call.name,
            rules=sorted({rule.name for rule, _, _ in refused}),
            retry_after=retry_after,
        )
        raise Throttled(retry_after=retry_after)

    def _count(
        self, limiter: MovingWindowRateLimiter, checks: list[tuple[Rule, RateLimitItem, str]]
    ) -> tuple[list[tuple[Rule, RateLimitItem, str]], int]:
        """Count the attempt against every limit; the limits that refuse it and
        the seconds until the last of them lets an attempt through again."""
        # Look first, so a refusal by one limit does not use up the others; then
        # take from each (atomic per limit; a race between two limits costs at
        # most one extra attempt).
        refused = [c for c in checks if not limiter.test(c[1], c[0].name, c[2])]
        if not refused:
            for check in checks:
                rule, item, identity = check
                if not limiter.hit(item, rule.name, identity):
                    refused.append(check)
                    break
        if not refused:
            return [], 0
        return refused, max(self._retry_after(limiter, *check) for check in refused)

    @hookimpl
    def aspirasi_readiness(self) -> list[ComponentStatus] | None:
        """Redis, when the counters live there: asked (a quarter of a second at
        most) while it is thought up, so a probe finds an outage before a request
        does; shown ``degraded`` while the limits count in memory."""
        breaker, storage = self.breaker, self._storage
        if breaker is None or storage is None:
            return None
        if breaker.up and not storage.check():
            breaker.trip(ConnectionError("Redis did not answer the readiness probe"))
        return [
            ComponentStatus(
                "redis",
                breaker.up,
                essential=False,
                detail={
                    "used_for": "rate limits",
                    "counting": "redis" if breaker.up else "per-worker memory",
                    "outages": breaker.outages,
                    "counted_in_memory": breaker.counted_in_memory,
                },
            )
        ]

    def _retry_after(
        self, limiter: MovingWindowRateLimiter, rule: Rule, item: RateLimitItem, identity: str
    ) -> int:
        """Whole seconds until the oldest attempt leaves the window: at least 1,
        never more than the window."""
        window = item.get_expiry()
        stats = limiter.get_window_stats(item, rule.name, identity)
        if stats.remaining > 0:  # freed in the meantime
            return 1
        wait = math.ceil(stats.reset_time - self._now())
        return min(window, max(1, wait))
