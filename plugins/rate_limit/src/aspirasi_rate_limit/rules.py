"""The rate_limit plugin's rules and configuration: which use case each limit
counts, by what, its default, and the settings read at start-up (the variables
are documented in the package's docstring)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs
from limits import RateLimitItem, parse_many

from aspirasi_core.settings import Settings, plugin_settings, setting

REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})
#: ``settings.extra`` keys of this plugin start with this.
SETTING_PREFIX = "rate_limit_"
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


def _not_empty(_instance: object, _attribute: attrs.Attribute, value: str) -> None:  # type: ignore[type-arg]
    if not value:
        raise ValueError("ASPIRASI_RATE_LIMIT_KEY_PREFIX must not be empty")


#: The plugin's settings, ``ASPIRASI_RATE_LIMIT_*`` (read like the core's, see
#: :func:`aspirasi_core.settings.plugin_settings`): one field per rule (its limits
#: as text, parsed by :func:`parse_limits`) and the Redis key prefix.
RateLimitSettings: type[Any] = attrs.make_class(
    "RateLimitSettings",
    {
        **{rule.name: setting(rule.default, rule.help) for rule in RULES},
        "key_prefix": setting(
            DEFAULT_KEY_PREFIX,
            "Prefix of the plugin's keys in Redis (several deployments can share one server).",
            converter=str.strip,
            validator=_not_empty,
        ),
    },
    frozen=True,
)


def read_config(settings: Settings) -> LimitConfig:
    """The configuration in ``settings``, checked (``ValueError`` names the variable)."""
    own = plugin_settings(RateLimitSettings, settings, SETTING_PREFIX)
    limits = {rule.name: parse_limits(rule.variable, getattr(own, rule.name)) for rule in RULES}
    prefix = own.key_prefix
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
