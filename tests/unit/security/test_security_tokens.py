"""Random tokens stored as SHA-256 hashes (security/tokens.py)."""

from __future__ import annotations

import base64
import hashlib
import re

from aspirasi_core.security.tokens import TokenPurpose, hash_token, new_token

URLSAFE = re.compile(r"\A[A-Za-z0-9_\-]{43}\Z")


def test_new_token_format_and_entropy() -> None:
    token = new_token()
    assert URLSAFE.match(token), token
    raw = base64.urlsafe_b64decode(token + "=")
    assert len(raw) == 32  # 256 bits


def test_new_tokens_are_unique() -> None:
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    # 2000 × 32 random bytes: every byte value shows up (a constant or counter would not)
    seen = set()
    for t in tokens:
        seen.update(base64.urlsafe_b64decode(t + "="))
    assert len(seen) == 256


def test_hash_token_is_sha256_and_deterministic() -> None:
    token = new_token()
    digest = hash_token(token)
    assert isinstance(digest, bytes)
    assert len(digest) == 32
    assert hash_token(token) == digest
    assert digest == hashlib.sha256(token.encode("utf-8")).digest()
    assert hash_token(token + "x") != digest
    assert token.encode() not in digest


def test_hash_token_known_value() -> None:
    assert hash_token("abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_token_purposes() -> None:
    assert set(TokenPurpose.ALL) == {
        "verify_email",
        "reset_password",
        "session",
        "api",
        "staff_invitation",
    }
    assert len(TokenPurpose.ALL) == len(set(TokenPurpose.ALL))
