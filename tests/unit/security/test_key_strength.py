"""Production refuses a secret key with too little entropy (issue 18, item 7)."""

from __future__ import annotations

import math
import secrets

import pytest

from aspirasi_core.security.key_strength import MIN_SECRET_KEY_BITS, estimate_key_bits
from aspirasi_core.settings import Settings

PRODUCTION = {"env": "production", "base_url": "https://aspirasi.example.go.id"}


@pytest.mark.parametrize(
    "weak",
    [
        "a" * 64,
        "ab" * 32,
        "password" * 8,
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "0123456789" * 4,
        "test-secret-key-" * 3,
        "Kaltim2026!" * 4,
    ],
)
def test_production_refuses_a_weak_key_and_says_how_to_make_one(weak: str) -> None:
    assert len(weak) >= 32  # long enough: length alone let these through
    with pytest.raises(ValueError) as refused:
        Settings(secret_key=weak, **PRODUCTION).check_production()
    text = str(refused.value)
    assert "ASPIRASI_SECRET_KEY is too weak" in text
    assert "secrets.token_urlsafe(48)" in text


def test_random_keys_pass() -> None:
    for _ in range(200):
        for key in (secrets.token_urlsafe(48), secrets.token_urlsafe(32), secrets.token_hex(16)):
            assert estimate_key_bits(key) >= MIN_SECRET_KEY_BITS, key
    Settings(secret_key=secrets.token_urlsafe(48), **PRODUCTION).check_production()


def test_development_keeps_accepting_any_long_key() -> None:
    Settings(secret_key="a" * 32).check_production()


def test_the_estimate() -> None:
    assert estimate_key_bits("") == 0
    assert estimate_key_bits("a" * 100) == 0
    # Runs and repeats carry nothing: "abab…" is two characters' worth.
    assert estimate_key_bits("ab" * 32) == pytest.approx(2 * 4)  # hex digits: 16
    assert estimate_key_bits("Xy" + "z" * 30) == pytest.approx(3 * math.log2(52))
    assert estimate_key_bits("xyz" + "8765") == pytest.approx(4 * math.log2(36))
    # The alphabet follows the classes used.
    assert estimate_key_bits("aZ") == pytest.approx(2 * 5.7, rel=0.01)  # 52
    assert estimate_key_bits("a1!") == pytest.approx(3 * 6.1, rel=0.01)  # 26 + 10 + 33
