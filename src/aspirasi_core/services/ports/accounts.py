"""The accounts' port: a new account and :class:`AccountRepository`."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, Protocol

import attrs

from ...domain.model import Account


@attrs.frozen
class NewAccount:
    email: str
    username: str
    full_name: str
    role: str
    password_hash: str = attrs.field(repr=False)
    created_at: datetime
    language: str = "id"
    agency_id: int | None = None
    permissions: frozenset[str] = frozenset()
    email_verified_at: datetime | None = None
    nik_encrypted: bytes | None = attrs.field(default=None, repr=False)
    nik_index: bytes | None = attrs.field(default=None, repr=False)
    nik_masked: str | None = None
    must_change_password: bool = False


class AccountRepository(Protocol):
    def add(self, new: NewAccount) -> Account:
        """Insert; raises ``Conflict`` (code ``duplicate``) if a unique field clashes."""

    def get(self, account_id: int) -> Account | None: ...

    def find_by_login(self, login: str) -> Account | None:
        """By lower-cased username or e-mail. A username only unverified accounts
        share names the oldest of them; one a verified account holds names it."""

    def find_by_email(self, email: str) -> Account | None: ...

    def clashes(
        self,
        *,
        email: str | None = None,
        username: str | None = None,
        nik_index: bytes | None = None,
        exclude_id: int | None = None,
    ) -> set[str]:
        """Names of the given fields (``email``, ``username``, ``nik``) already taken:
        an e-mail by any account, a username or a NIK by a verified account (an
        unverified registration reserves neither)."""

    def update(self, account_id: int, **fields: Any) -> Account:
        """Change columns: email, username, full_name, language, password_hash,
        email_verified_at, role, agency_id, permissions, is_active, pending_email."""

    def rehash_password(
        self, account_id: int, *, old_hash: str, new_hash: str, auth_version: int
    ) -> bool:
        """Replace the password hash ``old_hash`` by ``new_hash`` (the same password,
        hashed with today's parameters), only if the account is active and still has
        ``old_hash`` and ``auth_version``; whether it did. One conditional UPDATE:
        it waits for a concurrent password change and then leaves its hash alone."""

    def anonymise(self, account_id: int, *, auth_version: int, now: datetime) -> bool:
        """Empty the account of personal data (its owner deleted it): placeholder
        e-mail and username (``deleted:<id>``, which no real one can be), no name,
        NIK, pending e-mail, password or permissions, inactive, ``deleted_at`` = ``now``, a new auth
        version. Only if it is active, not deleted and still has ``auth_version``
        (its password did not change since it was checked); whether it did."""

    def bump_auth_version(self, account_id: int) -> int:
        """Increment and return the account's auth version (kills older sessions)."""

    def ids_by_nik_index(self, nik_index: bytes) -> builtins.list[int]: ...

    def verified_by_nik_index(self, nik_index: bytes) -> Account | None:
        """The verified account holding the NIK (at most one can), or None."""

    def delete_unverified(self, *, created_before: datetime, limit: int) -> int:
        """Remove up to ``limit`` citizen accounts still unverified that registered
        before ``created_before`` (and their tokens and notifications); how many."""

    def nik_encrypted(self, account_id: int) -> bytes | None: ...

    def list(
        self,
        *,
        role: str | None = None,
        agency_id: int | None = None,
        text: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> builtins.list[Account]: ...

    def recipients(
        self,
        *,
        role: str | None = None,
        agency_id: int | None = None,
        permission: str | None = None,
    ) -> builtins.list[Account]:
        """Active, verified accounts with the role (and agency), or holding the
        extra permission."""
