"""Tokens (verification, reset, sessions, API): only their SHA-256 hash is stored."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    union_all,
    update,
)

from ...domain.model import Account
from ...services.ports import TokenRecord
from ..tables import accounts, auth_tokens
from ._util import insert_statement
from .account_rows import ACCOUNT_COLUMNS, account_from_row

t = auth_tokens

_TOKEN_COLUMNS = (
    t.c.account_id,
    t.c.purpose,
    t.c.created_at,
    t.c.expires_at,
    t.c.auth_version,
    t.c.last_used_at,
    t.c.used_at,
)
_LOOKUP_TOKEN = select(*_TOKEN_COLUMNS).where(
    t.c.token_hash == bindparam("b_hash"),
    t.c.purpose == bindparam("b_purpose"),
    t.c.used_at.is_(None),
    t.c.expires_at > bindparam("b_now", type_=t.c.expires_at.type),
)
_LOOKUP_WITH_ACCOUNT = (
    select(
        *(c.label(f"t_{c.name}") for c in _TOKEN_COLUMNS),
        *ACCOUNT_COLUMNS,
    )
    .select_from(t.join(accounts, accounts.c.id == t.c.account_id))
    .where(
        t.c.token_hash == bindparam("b_hash"),
        t.c.purpose == bindparam("b_purpose"),
        t.c.used_at.is_(None),
        t.c.expires_at > bindparam("b_now", type_=t.c.expires_at.type),
    )
)
_CONSUME_TOKEN = (
    update(t)
    .where(
        t.c.token_hash == bindparam("b_hash"),
        t.c.purpose == bindparam("b_purpose"),
        t.c.used_at.is_(None),
        t.c.expires_at > bindparam("b_now", type_=t.c.expires_at.type),
    )
    .values(used_at=bindparam("b_now", type_=t.c.used_at.type))
    .returning(*_TOKEN_COLUMNS)
)


_INSERT_TOKEN = insert_statement(
    t,
    "account_id",
    "purpose",
    "token_hash",
    "created_at",
    "expires_at",
    "auth_version",
    "login_id",
    returning=None,
)


@functools.cache
def _insert_for_active_account(count: int) -> Insert:
    """``INSERT INTO auth_tokens … SELECT`` of ``count`` tokens for one account, only
    while it is active with the given ``auth_version`` (see :meth:`add_for_active`)."""
    a = accounts
    rows = [
        select(
            a.c.id,
            bindparam(f"purpose_{n}", type_=t.c.purpose.type),
            bindparam(f"token_hash_{n}", type_=t.c.token_hash.type),
            bindparam("created_at", type_=t.c.created_at.type),
            bindparam(f"expires_at_{n}", type_=t.c.expires_at.type),
            a.c.auth_version,
            bindparam("login_id", type_=t.c.login_id.type),
        ).where(
            a.c.id == bindparam("account_id"),
            a.c.is_active,
            a.c.auth_version == bindparam("auth_version"),
        )
        for n in range(count)
    ]
    source = rows[0] if count == 1 else union_all(*rows)
    columns = [
        "account_id",
        "purpose",
        "token_hash",
        "created_at",
        "expires_at",
        "auth_version",
        "login_id",
    ]
    return t.insert().from_select(columns, source).returning(t.c.id)


def _token(row: Any) -> TokenRecord:
    return TokenRecord(
        account_id=row.account_id,
        purpose=row.purpose,
        created_at=row.created_at,
        expires_at=row.expires_at,
        auth_version=row.auth_version,
        last_used_at=row.last_used_at,
        used_at=row.used_at,
    )


class SqlTokenRepository:
    """:class:`~aspirasi_core.services.ports.TokenRepository` (only hashes are stored)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

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
    ) -> None:
        self._conn.execute(
            _INSERT_TOKEN,
            {
                "account_id": account_id,
                "purpose": purpose,
                "token_hash": token_hash,
                "created_at": created_at,
                "expires_at": expires_at,
                "auth_version": auth_version,
                "login_id": login_id,
            },
        )

    def add_for_active(
        self,
        *,
        account_id: int,
        auth_version: int,
        created_at: datetime,
        tokens: Sequence[tuple[str, bytes, datetime]],
        login_id: str | None = None,
    ) -> bool:
        """One statement (see the port)."""
        if not tokens:
            raise ValueError("no tokens to add")
        params: dict[str, Any] = {
            "account_id": account_id,
            "auth_version": auth_version,
            "created_at": created_at,
            "login_id": login_id,
        }
        for n, (purpose, token_hash, expires_at) in enumerate(tokens):
            params[f"purpose_{n}"] = purpose
            params[f"token_hash_{n}"] = token_hash
            params[f"expires_at_{n}"] = expires_at
        added = self._conn.execute(_insert_for_active_account(len(tokens)), params).all()
        return len(added) == len(tokens)

    def consume(self, purpose: str, token_hash: bytes, now: datetime) -> TokenRecord | None:
        """Atomically mark an unused, unexpired token used and return it; None otherwise.

        One conditional UPDATE: of two concurrent callers only one changes the row
        (PostgreSQL re-checks ``used_at IS NULL`` after the first commits; SQLite
        runs writes one at a time).
        """
        row = self._conn.execute(
            _CONSUME_TOKEN, {"b_hash": token_hash, "b_purpose": purpose, "b_now": now}
        ).first()
        return _token(row) if row else None

    def lookup(self, purpose: str, token_hash: bytes, now: datetime) -> TokenRecord | None:
        """An unexpired, unused token without consuming it."""
        found = self._conn.execute(
            _LOOKUP_TOKEN, {"b_hash": token_hash, "b_purpose": purpose, "b_now": now}
        ).all()
        return _token(found[0]) if found else None

    def lookup_with_account(
        self, purpose: str, token_hash: bytes, now: datetime
    ) -> tuple[TokenRecord, Account] | None:
        """The token and its account in one statement (see the port)."""
        found = self._conn.execute(
            _LOOKUP_WITH_ACCOUNT, {"b_hash": token_hash, "b_purpose": purpose, "b_now": now}
        ).all()
        if not found:
            return None
        row = found[0]
        record = TokenRecord(
            account_id=row.t_account_id,
            purpose=row.t_purpose,
            created_at=row.t_created_at,
            expires_at=row.t_expires_at,
            auth_version=row.t_auth_version,
            last_used_at=row.t_last_used_at,
            used_at=row.t_used_at,
        )
        return record, account_from_row(row)

    def touch(self, purpose: str, token_hash: bytes, now: datetime, expires_at: datetime) -> None:
        """Record use (sliding idle timeout)."""
        self._conn.execute(
            update(t)
            .where(t.c.token_hash == token_hash, t.c.purpose == purpose)
            .values(last_used_at=now, expires_at=expires_at)
        )

    def delete(self, purpose: str, token_hash: bytes) -> None:
        self._conn.execute(delete(t).where(t.c.token_hash == token_hash, t.c.purpose == purpose))

    def delete_login(self, purpose: str, token_hash: bytes) -> int:
        """See the port: two statements, the login id looked up first."""
        login_id = self._conn.execute(
            select(t.c.login_id).where(t.c.token_hash == token_hash, t.c.purpose == purpose)
        ).scalar()
        stmt = delete(t).where(t.c.token_hash == token_hash, t.c.purpose == purpose)
        if login_id is not None:
            stmt = delete(t).where(
                or_(
                    and_(t.c.token_hash == token_hash, t.c.purpose == purpose),
                    t.c.login_id == login_id,
                )
            )
        return int(self._conn.execute(stmt).rowcount)

    def delete_for_account(self, account_id: int, purposes: Iterable[str] | None = None) -> int:
        """Delete the account's tokens (of ``purposes``, or all); returns how many."""
        stmt = delete(t).where(t.c.account_id == account_id)
        if purposes is not None:
            wanted = list(purposes)
            stmt = stmt.where(t.c.purpose.in_(wanted) if wanted else false())
        return self._conn.execute(stmt).rowcount

    def count_recent(self, account_id: int, purpose: str, since: datetime) -> int:
        """Tokens of ``purpose`` created at or after ``since`` (used or not)."""
        stmt = (
            select(func.count())
            .select_from(t)
            .where(t.c.account_id == account_id, t.c.purpose == purpose, t.c.created_at >= since)
        )
        return int(self._conn.execute(stmt).scalar_one())

    def last_created(self, account_id: int, purpose: str) -> datetime | None:
        """When the account's newest token of ``purpose`` was issued (used or not)."""
        stmt = select(func.max(t.c.created_at)).where(
            t.c.account_id == account_id, t.c.purpose == purpose
        )
        value = self._conn.execute(stmt).scalar_one_or_none()
        return value if isinstance(value, datetime) else None
