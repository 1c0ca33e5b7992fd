"""The rate_limit plugin's rules and configuration: which use case each limit
counts, by what, its default, and the settings read at start-up (the variables
are documented in the package's docstring)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import attrs
from limits import RateLimitItem, parse_many

from aspirasi_core.settings import Settings

REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})
#: ``settings.extra`` keys of this plugin start with this.
SETTING_PREFIX = "rate_limit_"
KEY_PREFIX_SETTING = "rate_limit_key_prefix"
DEFAULT_KEY_PREFIX = "aspirasi-rate-limit"
#: Values that turn one limit off.
OFF = frozenset({"off", "none", "false", "0"})


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
