"""Random tokens that are stored only as a SHA-256 hash.

Used for e-mail verification, password reset, browser sessions and API bearer
tokens. The raw token leaves the server once (in a mail, a cookie or a login
answer) and is never logged.
"""

from __future__ import annotations

import hashlib
import secrets


class TokenPurpose:
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret
    SESSION = "session"
    API = "api"
    #: The link of a staff invitation: its holder sets the account's first password.
    INVITATION = "staff_invitation"

    ALL: tuple[str, ...] = (VERIFY_EMAIL, RESET_PASSWORD, SESSION, API, INVITATION)


def new_token() -> str:
    """A new 256-bit URL-safe token."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    """The SHA-256 digest stored in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).digest()
