"""Accounts: citizens and staff in one table; their lists are in
:mod:`.account_lists`.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    true,
    update,
)

from ...domain.errors import Conflict
from ...domain.model import Account, Role
from ...services.ports import NewAccount
from ..tables import auth_tokens, messages, notifications
from ._util import check_fields, execute_unique, not_found
from .account_lists import AccountListReads
from .account_rows import ACCOUNT_COLUMNS, SELECT_ACCOUNT, a, account_from_row

_GET_ACCOUNT = SELECT_ACCOUNT.where(a.c.id == bindparam("id"))
# Usernames are unique among verified accounts only: a verified holder comes
# first, then the oldest unverified one (e-mail addresses are unique).
_BY_LOGIN = (
    SELECT_ACCOUNT.where(or_(a.c.username == bindparam("login"), a.c.email == bindparam("login")))
    .order_by(a.c.email_verified_at.is_(None), a.c.id)
    .limit(1)
)
_BY_EMAIL = SELECT_ACCOUNT.where(a.c.email == bindparam("email"))

_UPDATABLE = frozenset(
    {
        "email",
        "username",
        "full_name",
        "language",
        "password_hash",
        "email_verified_at",
        "role",
        "agency_id",
        "permissions",
        "is_active",
        "must_change_password",
        "pending_email",
        # Beyond the port's list: correcting or erasing a NIK (UU 27/2022 rights).
        "nik_encrypted",
        "nik_index",
        "nik_masked",
    }
)


def _dump_permissions(permissions: Iterable[str]) -> str:
    if isinstance(permissions, str):
        raise TypeError("permissions must be a collection of names, not a string")
    return json.dumps(sorted(set(permissions)))


class SqlAccountRepository(AccountListReads):
    """:class:`~aspirasi_core.services.ports.AccountRepository`.

    E-mail addresses and usernames are stored and compared lower-cased, so their
    unique indexes are case-insensitive and serve the login look-up.
    """

    __slots__ = ("_conn", "_recipients")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # recipients() answers, kept for the rest of the transaction (a use case and
        # the plugins it notifies often ask the same); every write here forgets them.
        self._recipients: dict[tuple[Any, ...], builtins.list[Account]] = {}

    def add(self, new: NewAccount) -> Account:
        """Insert; raises ``Conflict`` (code ``duplicate``) if a unique field clashes."""
        self._recipients.clear()
        values = {
            "email": new.email.lower(),
            "username": new.username.lower(),
            "full_name": new.full_name,
            "role": new.role,
            "agency_id": new.agency_id,
            "permissions": _dump_permissions(new.permissions),
            "is_active": True,
            "email_verified_at": new.email_verified_at,
            "language": new.language,
            "created_at": new.created_at,
            "password_hash": new.password_hash,
            "nik_encrypted": new.nik_encrypted,
            "nik_index": new.nik_index,
            "nik_masked": new.nik_masked,
            "auth_version": 1,
            "must_change_password": new.must_change_password,
        }
        rows = execute_unique(
            self._conn,
            insert(a).values(values).returning(a.c.id),
            conflict=lambda: self._duplicate(
                email=values["email"], username=values["username"], nik_index=new.nik_index
            ),
        )
        account = self.get(rows[0].id)
        assert account is not None
        return account

    def _duplicate(self, **fields: Any) -> Conflict | None:
        taken = self.clashes(**fields)
        if not taken:
            return None
        return Conflict(
            "An account with this %(fields)s already exists.",
            code="duplicate",
            params={"fields": ", ".join(sorted(taken))},
        )

    def _duplicate_after_update(self, account_id: int, values: dict[str, Any]) -> Conflict | None:
        """The clash an update ran into; verifying an account (setting
        ``email_verified_at``) reserves the username and NIK it already had."""
        row = self._conn.execute(
            select(a.c.email, a.c.username, a.c.nik_index).where(a.c.id == account_id)
        ).first()
        current = row._asdict() if row is not None else {}
        nik_index = values.get("nik_index", current.get("nik_index"))
        return self._duplicate(
            email=values.get("email"),
            username=values.get("username", current.get("username")),
            nik_index=bytes(nik_index) if nik_index is not None else None,
            exclude_id=account_id,
        )

    def get(self, account_id: int) -> Account | None:
        found = self._conn.execute(_GET_ACCOUNT, {"id": account_id}).all()
        return account_from_row(found[0]) if found else None

    def find_by_login(self, login: str) -> Account | None:
        """By lower-cased username or e-mail."""
        found = self._conn.execute(_BY_LOGIN, {"login": login.strip().lower()}).all()
        return account_from_row(found[0]) if found else None

    def find_by_email(self, email: str) -> Account | None:
        row = self._conn.execute(_BY_EMAIL, {"email": email.strip().lower()}).first()
        return account_from_row(row) if row else None

    def clashes(
        self,
        *,
        email: str | None = None,
        username: str | None = None,
        nik_index: bytes | None = None,
        exclude_id: int | None = None,
    ) -> set[str]:
        """Names of the given fields (``email``, ``username``, ``nik``) already taken:
        an e-mail by any account, a username or NIK by a verified one."""
        email = email.lower() if email is not None else None
        username = username.lower() if username is not None else None
        checks: list[ColumnElement[bool]] = []
        if email is not None:
            checks.append(a.c.email == email)
        if username is not None:
            checks.append(a.c.username == username)
        if nik_index is not None:
            checks.append(a.c.nik_index == nik_index)
        if not checks:
            return set()
        stmt = select(a.c.email, a.c.username, a.c.nik_index, a.c.email_verified_at).where(
            or_(*checks)
        )
        if exclude_id is not None:
            stmt = stmt.where(a.c.id != exclude_id)
        taken: set[str] = set()
        for row in self._conn.execute(stmt):
            if email is not None and row.email == email:
                taken.add("email")
            if row.email_verified_at is None:
                continue  # an unverified registration reserves nothing else
            if username is not None and row.username == username:
                taken.add("username")
            if (
                nik_index is not None
                and row.nik_index is not None
                and bytes(row.nik_index) == nik_index
            ):
                taken.add("nik")
        return taken

    def update(self, account_id: int, **fields: Any) -> Account:
        """Change columns: email, username, full_name, language, password_hash,
        email_verified_at, role, agency_id, permissions, is_active, pending_email (and the three
        ``nik_*`` columns). Raises ``NotFound`` for an unknown id and ``Conflict``
        (``duplicate``) when a unique field clashes."""
        check_fields(fields, _UPDATABLE)
        self._recipients.clear()
        if not fields:
            found = self.get(account_id)
            if found is None:
                raise not_found("account", account_id)
            return found
        values = dict(fields)
        for key in ("email", "pending_email"):
            if values.get(key) is not None:
                values[key] = values[key].lower()
        if "username" in values:
            values["username"] = values["username"].lower()
        if "permissions" in values:
            values["permissions"] = _dump_permissions(values["permissions"])
        stmt = update(a).where(a.c.id == account_id).values(values).returning(*ACCOUNT_COLUMNS)
        rows = execute_unique(
            self._conn,
            stmt,
            conflict=lambda: self._duplicate_after_update(account_id, values),
        )
        if not rows:
            raise not_found("account", account_id)
        return account_from_row(rows[0])

    def anonymise(self, account_id: int, *, auth_version: int, now: datetime) -> bool:
        """See the port: one conditional UPDATE."""
        self._recipients.clear()
        placeholder = f"deleted:{account_id}"  # no ':' in a valid e-mail or username
        changed = self._conn.execute(
            update(a)
            .where(
                a.c.id == account_id,
                a.c.deleted_at.is_(None),
                a.c.is_active == true(),
                a.c.auth_version == auth_version,
            )
            .values(
                email=placeholder,
                username=placeholder,
                full_name="",
                permissions="[]",
                is_active=False,
                email_verified_at=None,
                password_hash="",
                nik_encrypted=None,
                nik_index=None,
                nik_masked=None,
                pending_email=None,
                auth_version=a.c.auth_version + 1,
                deleted_at=now,
            )
        )
        return changed.rowcount == 1

    def rehash_password(
        self, account_id: int, *, old_hash: str, new_hash: str, auth_version: int
    ) -> bool:
        """See the port: one conditional UPDATE."""
        self._recipients.clear()
        changed = self._conn.execute(
            update(a)
            .where(
                a.c.id == account_id,
                a.c.is_active,
                a.c.password_hash == old_hash,
                a.c.auth_version == auth_version,
            )
            .values(password_hash=new_hash)
        )
        return bool(changed.rowcount)

    def bump_auth_version(self, account_id: int) -> int:
        """Increment and return the account's auth version (kills older sessions)."""
        self._recipients.clear()
        stmt = (
            update(a)
            .where(a.c.id == account_id)
            .values(auth_version=a.c.auth_version + 1)
            .returning(a.c.auth_version)
        )
        version = self._conn.execute(stmt).scalar()
        if version is None:
            raise not_found("account", account_id)
        return int(version)

    def ids_by_nik_index(self, nik_index: bytes) -> list[int]:
        stmt = select(a.c.id).where(a.c.nik_index == nik_index).order_by(a.c.id)
        return list(self._conn.execute(stmt).scalars())

    def verified_by_nik_index(self, nik_index: bytes) -> Account | None:
        row = self._conn.execute(
            SELECT_ACCOUNT.where(a.c.nik_index == nik_index, a.c.email_verified_at.is_not(None))
        ).first()
        return account_from_row(row) if row else None

    def delete_unverified(self, *, created_before: datetime, limit: int) -> int:
        """See the port. Only citizens (staff are created verified), never a
        deleted account (its owner erased it: the emptied row stays for the audit
        log), and never one that wrote a message (an unverified account cannot,
        but the rows would hold it)."""
        self._recipients.clear()
        ids = list(
            self._conn.execute(
                select(a.c.id)
                .where(
                    a.c.email_verified_at.is_(None),
                    a.c.created_at < created_before,
                    a.c.role == Role.USER,
                    a.c.deleted_at.is_(None),
                    ~exists().where(messages.c.author_id == a.c.id),
                )
                .order_by(a.c.created_at)
                .limit(limit)
            ).scalars()
        )
        if not ids:
            return 0
        # Explicitly, whether or not the database enforces ON DELETE CASCADE.
        self._conn.execute(delete(auth_tokens).where(auth_tokens.c.account_id.in_(ids)))
        self._conn.execute(delete(notifications).where(notifications.c.account_id.in_(ids)))
        return int(
            self._conn.execute(
                delete(a).where(a.c.id.in_(ids), a.c.email_verified_at.is_(None))
            ).rowcount
        )

    def nik_encrypted(self, account_id: int) -> bytes | None:
        value = self._conn.execute(select(a.c.nik_encrypted).where(a.c.id == account_id)).scalar()
        return bytes(value) if value is not None else None
