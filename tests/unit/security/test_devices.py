"""Device tokens (OWASP device cookies): signed, bound to one account, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aspirasi_core.security.crypto import Crypto
from aspirasi_core.security.devices import (
    MAX_DEVICE_TOKENS,
    account_of,
    check_device_token,
    issue_device_token,
    merge_tokens,
    split_tokens,
)

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
DAYS = timedelta(days=90)
CRYPTO = Crypto("unit-test-secret-key-0123456789abcdef")


def test_a_token_names_its_account_and_is_checked_by_its_signature() -> None:
    token = issue_device_token(CRYPTO, 7, T0)
    assert account_of(token) == 7
    device = check_device_token(CRYPTO, token, 7, T0, DAYS)
    assert device is not None and device.startswith("7:")
    assert check_device_token(CRYPTO, token, 8, T0, DAYS) is None  # another account
    other_key = Crypto("another-secret-key-0123456789abcdefgh")
    assert check_device_token(other_key, token, 7, T0, DAYS) is None
    body, _ = token.rsplit(".", 1)
    assert check_device_token(CRYPTO, body + ".forged", 7, T0, DAYS) is None
    # Claiming another account with this token's signature fails too.
    assert check_device_token(CRYPTO, "8" + token[1:], 8, T0, DAYS) is None
    for junk in ("", "x", "7.a.b", "7.a.b.c.d", "7." + "a" * 300, "٧.a.1.b"):
        assert check_device_token(CRYPTO, junk, 7, T0, DAYS) is None
    assert issue_device_token(CRYPTO, 7, T0) != token  # a fresh nonce each time


def test_a_token_expires() -> None:
    token = issue_device_token(CRYPTO, 7, T0)
    assert check_device_token(CRYPTO, token, 7, T0 + DAYS, DAYS) is not None
    assert check_device_token(CRYPTO, token, 7, T0 + DAYS + timedelta(minutes=2), DAYS) is None
    assert check_device_token(CRYPTO, token, 7, T0 - timedelta(hours=1), DAYS) is None


def test_a_cookie_keeps_one_token_per_account_newest_first() -> None:
    tokens = [issue_device_token(CRYPTO, n, T0) for n in range(1, 7)]
    value = tokens[0]
    for token in tokens[1:]:
        value = merge_tokens(token, split_tokens(value))
    kept = split_tokens(value)
    assert len(kept) == MAX_DEVICE_TOKENS
    assert [account_of(t) for t in kept] == [6, 5, 4, 3]
    renewed = issue_device_token(CRYPTO, 4, T0 + timedelta(days=1))
    kept = split_tokens(merge_tokens(renewed, kept))
    assert [account_of(t) for t in kept] == [4, 6, 5, 3]
    assert split_tokens(None) == [] and split_tokens("~" * 5000) == []
