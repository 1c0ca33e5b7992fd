"""Keys derived from ``ASPIRASI_SECRET_KEY``: NIK encryption, NIK look-up index,
outbox payload encryption, idempotency key digests, e-mail address index,
device-token signatures.

The NIK space is small enough to brute-force a plain hash, so the look-up index
is an HMAC-SHA256 under a secret key (a "blind index") and the NIK itself is
stored encrypted with AES-256-GCM. Each purpose has its own key, derived with
HKDF from the one secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"aspirasi", info=purpose).derive(
        secret.encode("utf-8")
    )


class Crypto:
    """Encryption and keyed indexes for personal data."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            raise ValueError("the secret key is too short")
        self._nik_key = AESGCM(_derive(secret_key, b"nik-encryption"))
        self._nik_index_key = _derive(secret_key, b"nik-index")
        self._outbox_key = AESGCM(_derive(secret_key, b"outbox-payload"))
        self._idempotency_key = _derive(secret_key, b"idempotency")
        self._address_key = _derive(secret_key, b"address-index")
        self._device_key = _derive(secret_key, b"device-token")

    # NIK -----------------------------------------------------------------
    def nik_index(self, nik: str) -> bytes:
        """The keyed look-up index of a (normalized) NIK."""
        return hmac.new(self._nik_index_key, nik.encode("ascii"), hashlib.sha256).digest()

    def encrypt_nik(self, nik: str) -> bytes:
        return self._seal(self._nik_key, nik.encode("ascii"), b"nik")

    def decrypt_nik(self, blob: bytes) -> str:
        return self._open(self._nik_key, blob, b"nik").decode("ascii")

    # E-mail addresses and device tokens -------------------------------------
    def address_index(self, email: str) -> bytes:
        """A keyed index of a (normalized) e-mail address: counts per address
        (``mail_quota``) without storing the address."""
        return hmac.new(
            self._address_key, email.strip().lower().encode("utf-8"), hashlib.sha256
        ).digest()

    def device_mac(self, data: str) -> bytes:
        """The signature of a device token's body (see :mod:`.devices`)."""
        return hmac.new(self._device_key, data.encode("ascii"), hashlib.sha256).digest()

    # Outbox ----------------------------------------------------------------
    def encrypt_payload(self, payload: Mapping[str, Any]) -> bytes:
        data = json.dumps(payload, separators=(",", ":"), default=str).encode("utf-8")
        return self._seal(self._outbox_key, data, b"outbox")

    def decrypt_payload(self, blob: bytes) -> dict[str, Any]:
        return json.loads(self._open(self._outbox_key, blob, b"outbox"))

    # Idempotency keys ------------------------------------------------------
    def idempotency_digest(self, data: bytes) -> bytes:
        """A keyed digest of an idempotency key or of the request it came with.
        Keyed, because a request may hold a password: a stolen table must not
        allow guessing it offline."""
        return hmac.new(self._idempotency_key, data, hashlib.sha256).digest()

    # -----------------------------------------------------------------------
    @staticmethod
    def _seal(key: AESGCM, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + key.encrypt(nonce, data, aad)

    @staticmethod
    def _open(key: AESGCM, blob: bytes, aad: bytes) -> bytes:
        blob = bytes(blob)
        if blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return key.decrypt(blob[1:13], blob[13:], aad)
