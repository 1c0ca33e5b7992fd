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
import ipaddress
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import urlsplit

import attrs
import structlog
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from aspirasi_core import hookimpl
from aspirasi_core.domain.errors import Throttled
from aspirasi_core.plugin_types import ComponentStatus, UseCaseCall
from aspirasi_core.settings import Settings

from .memory import ClockedMemoryStorage

__all__ = [
    "RULES",
    "ClockedMemoryStorage",
    "LimitConfig",
    "RateLimitPlugin",
    "RedisBreaker",
    "Rule",
]

log = structlog.get_logger("aspirasi.rate_limit")

REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})
#: ``settings.extra`` keys of this plugin start with this.
SETTING_PREFIX = "rate_limit_"
KEY_PREFIX_SETTING = "rate_limit_key_prefix"
DEFAULT_KEY_PREFIX = "aspirasi-rate-limit"
#: Values that turn one limit off.
OFF = frozenset({"off", "none", "false", "0"})
#: Seconds a request waits for Redis (one try, no retry) before it counts in memory.
REDIS_TIMEOUT = 0.25
#: Seconds between the background checks of a Redis that is down.
RECHECK_SECONDS = 2.0


@attrs.frozen
class Rule:
    """One limit: which use case it guards, what it counts by, its default."""

    name: str
    use_case: str
    #: ``subject`` (``call.subject``), ``ip`` (``call.client_ip``) or ``device``
    #: (``call.device``); a call without it is not counted by the rule.
    by: Literal["subject", "ip", "device"]
    default: str
    help: str
    #: Count only calls from untrusted clients (``call.device`` is None).
    untrusted_only: bool = False

    @property
    def setting(self) -> str:
        """The ``settings.extra`` key (``rate_limit_login_account``)."""
        return SETTING_PREFIX + self.name

    @property
    def variable(self) -> str:
        """The environment variable (``ASPIRASI_RATE_LIMIT_LOGIN_ACCOUNT``)."""
        return "ASPIRASI_" + self.setting.upper()


#: Every limit, in the order they are checked within a use case (per IP first,
#: so an address that is refused does not use up the budget of the account it
#: aims at).
RULES: tuple[Rule, ...] = (
    Rule(
        "resend_verification_account",
        "resend_verification",
        "subject",
        "3/minute",
        "Resending the verification link, per account.",
    ),
    Rule("login_ip", "login", "ip", "30/5minutes", "Log-in attempts per IP."),
    Rule(
        "login_account",
        "login",
        "subject",
        "5/5minutes",
        "Log-in attempts per account from untrusted clients.",
        untrusted_only=True,
    ),
    Rule("login_device", "login", "device", "5/5minutes", "Log-in attempts per trusted device."),
    Rule("register_ip", "register", "ip", "10/hour", "Registrations per IP."),
    Rule("register_email", "register", "subject", "5/hour", "Registrations per e-mail."),
    Rule("forgot_password_ip", "forgot_password", "ip", "10/hour", "Reset requests per IP."),
    Rule(
        "forgot_password_email",
        "forgot_password",
        "subject",
        "3/hour",
        "Reset requests per e-mail.",
    ),
    Rule("reset_password_ip", "reset_password", "ip", "10/hour", "New passwords set per IP."),
    Rule(
        "change_password_account",
        "change_password",
        "subject",
        "5/5minutes",
        "Password changes per account.",
    ),
    Rule(
        "track_ip",
        "track",
        "ip",
        "10/10minutes;40/hour;200/day",
        "Tracking look-ups per IP.",
    ),
    Rule(
        "track_nik_prefix",
        "track",
        "subject",
        "30/day",
        "Tracking look-ups per NIK prefix (region and birth date).",
    ),
    Rule("submit_account", "submit", "subject", "20/day", "Messages sent per account."),
    Rule(
        "delete_account_account",
        "delete_account",
        "subject",
        "5/5minutes",
        "Attempts to delete one's account, per account.",
    ),
    Rule("export_data_account", "export_data", "subject", "5/hour", "Data exports per account."),
)
_RULE_SETTINGS = frozenset(rule.setting for rule in RULES) | {KEY_PREFIX_SETTING}


@attrs.frozen
class LimitConfig:
    """What ``aspirasi_configure`` read: where the counters live, and each limit."""

    backend: Literal["redis", "memory"]
    redis_url: str | None = attrs.field(default=None, repr=False)  # may carry a password
    key_prefix: str = DEFAULT_KEY_PREFIX
    #: Rule name → its limits (empty when turned off).
    limits: Mapping[str, tuple[RateLimitItem, ...]] = attrs.field(
        factory=dict, eq=False, hash=False
    )

    def describe(self) -> dict[str, str]:
        """Rule name → the limits in force, as text (``off`` when none)."""
        return {
            name: "; ".join(str(item) for item in items) or "off"
            for name, items in self.limits.items()
        }


def parse_limits(variable: str, raw: str) -> tuple[RateLimitItem, ...]:
    """``"5/5minutes;20/hour"`` → its items; ``off`` → none. ``ValueError`` names ``variable``."""
    text = raw.strip()
    if text.lower() in OFF:
        return ()
    try:
        items = tuple(parse_many(text))
    except ValueError:
        raise ValueError(
            f"{variable}: {raw!r} is not a limit; write N/period such as"
            " '3/minute', '5/5minutes' or '10/hour' (or 'off')"
        ) from None
    for item in items:
        if item.amount < 1:
            raise ValueError(f"{variable}: {raw!r} allows nothing; use 'off' to drop the limit")
    return items


def read_config(settings: Settings) -> LimitConfig:
    """The configuration in ``settings``, checked (``ValueError`` names the variable)."""
    extra = settings.extra
    unknown = sorted(
        key for key in extra if key.startswith(SETTING_PREFIX) and key not in _RULE_SETTINGS
    )
    if unknown:
        known = ", ".join(sorted("ASPIRASI_" + s.upper() for s in _RULE_SETTINGS))
        names = ", ".join("ASPIRASI_" + key.upper() for key in unknown)
        raise ValueError(f"{names}: not a setting of the rate_limit plugin (known: {known})")
    limits = {
        rule.name: parse_limits(rule.variable, extra.get(rule.setting, rule.default))
        for rule in RULES
    }
    prefix = extra.get(KEY_PREFIX_SETTING, DEFAULT_KEY_PREFIX).strip()
    if not prefix:
        raise ValueError("ASPIRASI_RATE_LIMIT_KEY_PREFIX must not be empty")
    url = settings.redis_url
    if not url:
        return LimitConfig(backend="memory", key_prefix=prefix, limits=limits)
    scheme = urlsplit(url).scheme
    if scheme not in REDIS_SCHEMES:
        raise ValueError(
            f"ASPIRASI_REDIS_URL: scheme {scheme!r} is not one of {', '.join(sorted(REDIS_SCHEMES))}"
        )
    return LimitConfig(backend="redis", redis_url=url, key_prefix=prefix, limits=limits)


def client_network(address: str) -> str:
    """What a per-IP limit counts by: the IPv4 address, or the IPv6 ``/64``."""
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text.lower()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), 64), strict=False))
    return str(ip)


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
            url = config.redis_url
            if url.startswith("unix://"):
                url = "redis+" + url  # limits' spelling; it hands ``unix://`` to redis-py
            storage: Storage = RedisStorage(
                url,
                key_prefix=config.key_prefix,
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                # redis-py's default retries three times with back-off of up to
                # 10 s: a request would hang for seconds while Redis is down.
                retry=Retry(NoBackoff(), 0),  # type: ignore[arg-type]  # passed on to redis-py
            )
            self._now = time.time
            self._fallback = MovingWindowRateLimiter(ClockedMemoryStorage(time.time))
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
