"""NIK encryption, blind index and outbox payload encryption (security/crypto.py)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given, settings
from hypothesis import strategies as st

from aspirasi_core.security.crypto import Crypto

SECRET = "a-very-secret-key-for-tests-0123456789"
OTHER_SECRET = "another-secret-key-for-tests-98765"
NIK = "6472045504910001"


@pytest.fixture(scope="module")
def crypto() -> Crypto:
    return Crypto(SECRET)


@pytest.fixture(scope="module")
def other() -> Crypto:
    return Crypto(OTHER_SECRET)


def test_secret_key_length() -> None:
    with pytest.raises(ValueError):
        Crypto("x" * 15)
    with pytest.raises(ValueError):
        Crypto("")
    Crypto("x" * 16)


def test_nik_round_trip(crypto) -> None:
    blob = crypto.encrypt_nik(NIK)
    assert isinstance(blob, bytes)
    assert crypto.decrypt_nik(blob) == NIK
    # version byte + 12-byte nonce + 16 bytes of ciphertext + 16-byte tag
    assert len(blob) == 1 + 12 + 16 + 16
    assert blob[:1] == b"\x01"
    assert NIK.encode() not in blob


def test_decrypt_accepts_bytes_like(crypto) -> None:
    blob = crypto.encrypt_nik(NIK)
    assert crypto.decrypt_nik(bytearray(blob)) == NIK
    assert crypto.decrypt_nik(memoryview(blob)) == NIK


def test_ciphertexts_differ_each_time(crypto) -> None:
    blobs = {crypto.encrypt_nik(NIK) for _ in range(50)}
    assert len(blobs) == 50
    nonces = {b[1:13] for b in blobs}
    assert len(nonces) == 50


@pytest.mark.parametrize("position", [1, 6, 12, 13, 20, 28, 29, 44])
def test_tampering_raises(crypto, position) -> None:
    blob = bytearray(crypto.encrypt_nik(NIK))
    blob[position] ^= 0x01
    with pytest.raises(InvalidTag):
        crypto.decrypt_nik(bytes(blob))


def test_unknown_version_raises(crypto) -> None:
    blob = bytearray(crypto.encrypt_nik(NIK))
    blob[0] = 2
    with pytest.raises(ValueError, match="version"):
        crypto.decrypt_nik(bytes(blob))
    with pytest.raises(ValueError):
        crypto.decrypt_nik(b"")


def test_truncated_blob_raises(crypto) -> None:
    blob = crypto.encrypt_nik(NIK)
    for cut in (1, 13, 20, len(blob) - 1):
        with pytest.raises((InvalidTag, ValueError)):
            crypto.decrypt_nik(blob[:cut])


def test_a_different_secret_cannot_decrypt(crypto, other) -> None:
    with pytest.raises(InvalidTag):
        other.decrypt_nik(crypto.encrypt_nik(NIK))
    with pytest.raises(InvalidTag):
        other.decrypt_payload(crypto.encrypt_payload({"a": 1}))


def test_same_secret_new_instance_can_decrypt(crypto) -> None:
    assert Crypto(SECRET).decrypt_nik(crypto.encrypt_nik(NIK)) == NIK


def test_purposes_do_not_mix(crypto) -> None:
    """A NIK ciphertext is not an outbox payload and vice versa (own key and AAD each)."""
    with pytest.raises(InvalidTag):
        crypto.decrypt_payload(crypto.encrypt_nik(NIK))
    with pytest.raises(InvalidTag):
        crypto.decrypt_nik(crypto.encrypt_payload({"nik": NIK}))


def test_nik_index(crypto, other) -> None:
    idx = crypto.nik_index(NIK)
    assert isinstance(idx, bytes) and len(idx) == 32
    assert crypto.nik_index(NIK) == idx
    assert Crypto(SECRET).nik_index(NIK) == idx  # deterministic per key
    assert other.nik_index(NIK) != idx  # different across keys
    assert crypto.nik_index("6472041504910001") != idx
    # a keyed index, not a plain hash an attacker could brute-force
    assert idx != hashlib.sha256(NIK.encode()).digest()


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
@settings(max_examples=100)
def test_nik_round_trip_property(nik) -> None:
    c = Crypto(SECRET)
    assert c.decrypt_nik(c.encrypt_nik(nik)) == nik


def test_payload_round_trip(crypto) -> None:
    payload = {
        "to": "budi@example.com",
        "template": "status_changed",
        "params": {"ticket": "ASP-000001", "stars": 5, "ok": True, "none": None},
        "lines": ["satu", "dua", "tiga ✓"],
    }
    blob = crypto.encrypt_payload(payload)
    assert crypto.decrypt_payload(blob) == payload
    assert b"budi@example.com" not in blob
    assert crypto.encrypt_payload(payload) != blob


def test_payload_non_json_values_become_strings(crypto) -> None:
    at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert crypto.decrypt_payload(crypto.encrypt_payload({"at": at})) == {"at": str(at)}


def test_payload_tampering_raises(crypto) -> None:
    blob = bytearray(crypto.encrypt_payload({"a": 1}))
    blob[-1] ^= 0x80
    with pytest.raises(InvalidTag):
        crypto.decrypt_payload(bytes(blob))
