"""The tokens' port (sessions, API tokens, one-time links): only hashes are stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

import attrs

from ...domain.model import Account


@attrs.frozen
class TokenRecord:
    """A stored token (only its hash is stored)."""

    account_id: int
    purpose: str
    created_at: datetime
    expires_at: datetime
    auth_version: int
    last_used_at: datetime | None = None
    used_at: datetime | None = None


class TokenRepository(Protocol):
    def add(
        self,
        *,
        account_id: int,
        purpose: str,
        token_hash: bytes,
        created_at: datetime,
        expires_at: datetime,
        auth_version: int,
        login_id: str | None = None,
    ) -> None: ...

    def add_for_active(
        self,
        *,
        account_id: int,
        auth_version: int,
        created_at: datetime,
        tokens: Sequence[tuple[str, bytes, datetime]],
        login_id: str | None = None,
    ) -> bool:
        """Add ``tokens`` (``(purpose, token_hash, expires_at)`` each) for the account,
        in one statement, only if it exists, is active and still has ``auth_version``
        (its password has not changed since it was read); whether they were added.
        They share ``login_id`` (see :meth:`delete_login`). One statement, so a
        log-in's write transaction holds its locks for one round trip."""

    def consume(self, purpose: str, token_hash: bytes, now: datetime) -> TokenRecord | None:
        """Atomically mark an unused, unexpired token used and return it; None otherwise."""

    def lookup(self, purpose: str, token_hash: bytes, now: datetime) -> TokenRecord | None:
        """An unexpired, unused token without consuming it."""

    def lookup_with_account(
        self, purpose: str, token_hash: bytes, now: datetime
    ) -> tuple[TokenRecord, Account] | None:
        """:meth:`lookup` and the token's account, in one statement (every
        authenticated request asks); None when either is missing."""

    def touch(self, purpose: str, token_hash: bytes, now: datetime, expires_at: datetime) -> None:
        """Record use (sliding idle timeout)."""

    def delete(self, purpose: str, token_hash: bytes) -> None: ...

    def delete_login(self, purpose: str, token_hash: bytes) -> int:
        """Delete the token and every token of the same log-in (the same
        ``login_id``, whatever their purpose); how many."""

    def delete_for_account(self, account_id: int, purposes: Iterable[str] | None = None) -> int: ...

    def count_recent(self, account_id: int, purpose: str, since: datetime) -> int: ...

    def last_created(self, account_id: int, purpose: str) -> datetime | None:
        """When the account's newest token of ``purpose`` was issued (used or not);
        None when it has none."""
