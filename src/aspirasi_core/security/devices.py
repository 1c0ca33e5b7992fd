"""Device tokens: OWASP's "device cookies" against locking the owner out.

A client that logged in to an account successfully receives a signed device
token (a cookie in browsers, a header for API clients). At its next log-in to
the same account it sends the token back: its attempts then count against that
device's own limit instead of the account's, which untrusted clients share. An
attacker guessing passwords from elsewhere uses up the account's budget, and the
owner's browser logs in all the same (the per-address limits hold for both).
See https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies

A token is ``<account id>.<nonce>.<issued, epoch seconds>.<signature>``, the
signature an HMAC-SHA-256 of the rest under a key derived from
``ASPIRASI_SECRET_KEY``. Nothing is stored on the server; a token expires
``ASPIRASI_DEVICE_TRUST_DAYS`` after it was issued, and every successful log-in
issues a fresh one. It proves nothing but "this client logged in to this account
before": it never authenticates anybody.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

#: Device tokens a client keeps (a shared computer, several accounts); older ones drop.
MAX_DEVICE_TOKENS = 4
#: Separates several tokens in the cookie and the header.
SEPARATOR = "~"
_MAX_LENGTH = 200


class DeviceSigner(Protocol):
    """What signs a device token (:class:`~.crypto.Crypto` does)."""

    def device_mac(self, data: str) -> bytes: ...


def _signature(crypto: DeviceSigner, body: str) -> str:
    return base64.urlsafe_b64encode(crypto.device_mac(body)).rstrip(b"=").decode("ascii")


def issue_device_token(crypto: DeviceSigner, account_id: int, now: datetime) -> str:
    """A new device token for ``account_id``."""
    body = f"{int(account_id)}.{secrets.token_urlsafe(16)}.{int(now.timestamp())}"
    return f"{body}.{_signature(crypto, body)}"


def account_of(token: str) -> int | None:
    """The account a token names (unchecked), or None when it is not one."""
    head = token.split(".", 1)[0]
    return int(head) if head.isascii() and head.isdigit() and len(head) < 20 else None


def check_device_token(
    crypto: DeviceSigner, token: str, account_id: int, now: datetime, max_age: timedelta
) -> str | None:
    """The device's id (``<account id>:<nonce>``) when ``token`` was signed here for
    ``account_id`` and is younger than ``max_age``; None otherwise."""
    if not isinstance(token, str) or not token or len(token) > _MAX_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 4 or account_of(token) != account_id:
        return None
    _, nonce, issued, signature = parts
    body = ".".join(parts[:3])
    if not hmac.compare_digest(signature, _signature(crypto, body)):
        return None
    if not issued.isascii() or not issued.isdigit():
        return None
    age = now.timestamp() - int(issued)
    if not 0 <= age <= max_age.total_seconds() + 60:  # a minute of clock skew
        return None
    return f"{account_id}:{nonce}"


def split_tokens(value: str | None) -> list[str]:
    """The tokens of a cookie or header value, at most :data:`MAX_DEVICE_TOKENS`."""
    if not value or len(value) > MAX_DEVICE_TOKENS * (_MAX_LENGTH + 1):
        return []
    return [t for t in value.split(SEPARATOR) if t][:MAX_DEVICE_TOKENS]


def merge_tokens(new: str, kept: Iterable[str]) -> str:
    """The value to store: ``new`` first, then the tokens of other accounts, up to
    :data:`MAX_DEVICE_TOKENS`."""
    account = account_of(new)
    others: Sequence[str] = [t for t in kept if t != new and account_of(t) not in (None, account)]
    return SEPARATOR.join([new, *others][:MAX_DEVICE_TOKENS])
