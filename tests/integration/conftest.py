"""Helpers for the storage tests: a fixed clock origin and a factory of rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from aspirasi_core.domain.model import Account, Agency, Message, Role, Status, Subcategory
from aspirasi_core.services.ports import NewAccount, NewMessage
from aspirasi_core.storage import SqlDatabase

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Factory:
    """Inserts accounts, agencies and messages, each in its own committed transaction."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self._seq = itertools.count(1)

    def account(
        self,
        *,
        role: str = Role.USER,
        agency_id: int | None = None,
        permissions: frozenset[str] = frozenset(),
        verified: bool = True,
        active: bool = True,
        nik_index: bytes | None = None,
        nik_encrypted: bytes | None = None,
        nik_masked: str | None = None,
        name: str | None = None,
    ) -> Account:
        n = next(self._seq)
        name = name or f"user{n}"
        new = NewAccount(
            email=f"{name}@example.test",
            username=name,
            full_name=f"Person {n}",
            role=role,
            password_hash="$argon2id$fake",
            created_at=T0,
            agency_id=agency_id,
            permissions=permissions,
            email_verified_at=T0 if verified else None,
            nik_encrypted=nik_encrypted,
            nik_index=nik_index,
            nik_masked=nik_masked,
        )

        def script(uow: Any) -> Account:
            account = uow.accounts.add(new)
            if not active:
                account = uow.accounts.update(account.id, is_active=False)
            return account

        return self.db.run_sync(script)

    def agency(self, code: str | None = None) -> Agency:
        code = code or f"agency-{next(self._seq)}"
        return self.db.run_sync(lambda uow: uow.directory.add_agency(code, code.upper()))

    def subcategory(self, category_code: str = "aduan", code: str | None = None) -> Subcategory:
        code = code or f"sub-{next(self._seq)}"

        def script(uow: Any) -> Subcategory:
            category = uow.directory.category_by_code(category_code)
            return uow.directory.add_subcategory(category.id, code, code.title())

        return self.db.run_sync(script)

    def message(
        self,
        author_id: int,
        *,
        status: Status = Status.SUBMITTED,
        confidential: bool = False,
        anonymous: bool = False,
        agency_id: int | None = None,
        category_id: int | None = None,
        subcategory_id: int | None = None,
        created_at: datetime | None = None,
        subject: str | None = None,
        body: str | None = None,
    ) -> Message:
        n = next(self._seq)
        created = created_at or T0 + timedelta(minutes=n)
        new = NewMessage(
            ticket=f"ASP-{n:06d}",
            author_id=author_id,
            subject=subject or f"Subject {n}",
            body=body or f"Isi pesan nomor {n}.",
            confidential=confidential,
            anonymous=anonymous,
            created_at=created,
        )

        def script(uow: Any) -> Message:
            message = uow.messages.add(new)
            if status is Status.SUBMITTED and agency_id is None and category_id is None:
                return message
            changed = attrs.evolve(
                message,
                status=status,
                agency_id=agency_id,
                category_id=category_id,
                subcategory_id=subcategory_id,
            )
            assert uow.messages.save_transition(changed, message.version)
            return changed

        return self.db.run_sync(script)


@pytest.fixture
def make(request: pytest.FixtureRequest) -> Factory:
    """A :class:`Factory` on the test's database (``database``, ``sqlite_database`` or
    ``pg_database``, whichever it uses)."""
    for name in ("sqlite_database", "pg_database", "database"):
        if name in request.fixturenames:
            return Factory(request.getfixturevalue(name))
    raise pytest.UsageError("`make` needs one of the database fixtures")
