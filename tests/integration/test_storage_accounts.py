"""AccountRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from aspirasi_core.domain.errors import Conflict, NotFound
from aspirasi_core.domain.model import Role
from aspirasi_core.services.ports import NewAccount
from aspirasi_core.storage.tables import accounts

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
WITA = timezone(timedelta(hours=8))
NIK = "6472045504910001"


def _new(name: str, **overrides) -> NewAccount:
    values = {
        "email": f"{name}@example.test",
        "username": name,
        "full_name": name.title(),
        "role": Role.USER,
        "password_hash": "$argon2id$fake",
        "created_at": T0,
    }
    values.update(overrides)
    return NewAccount(**values)


def test_add_and_get_round_trip(database, make, crypto) -> None:
    agency = make.agency()
    new = _new(
        "Budi",
        email="Budi@Example.TEST",
        role=Role.OPERATOR,
        agency_id=agency.id,
        permissions=frozenset({"land_issue.monitor", "evaluator.evaluate"}),
        created_at=datetime(2025, 3, 1, 16, 0, tzinfo=WITA),
        email_verified_at=T0 + timedelta(hours=1),
        language="en",
        nik_encrypted=crypto.encrypt_nik(NIK),
        nik_index=crypto.nik_index(NIK),
        nik_masked="6472********0001",
    )
    added = database.run_sync(lambda uow: uow.accounts.add(new))
    got = database.run_sync(lambda uow: uow.accounts.get(added.id), write=False)
    assert got == added
    assert got.email == "budi@example.test" and got.username == "budi"
    assert got.role == Role.OPERATOR and got.agency_id == agency.id
    assert got.permissions == frozenset({"land_issue.monitor", "evaluator.evaluate"})
    assert got.is_active and got.verified and got.language == "en"
    assert got.created_at == T0 and got.created_at.tzinfo is UTC
    assert got.email_verified_at == T0 + timedelta(hours=1)
    assert got.email_verified_at.tzinfo is UTC
    assert got.password_hash == "$argon2id$fake"
    assert got.nik_masked == "6472********0001" and got.auth_version == 1
    blob = database.run_sync(lambda uow: uow.accounts.nik_encrypted(added.id), write=False)
    assert isinstance(blob, bytes) and crypto.decrypt_nik(blob) == NIK
    ids = database.run_sync(lambda uow: uow.accounts.ids_by_nik_index(crypto.nik_index(NIK)))
    assert ids == [added.id]
    assert database.run_sync(lambda uow: uow.accounts.get(added.id + 1000)) is None
    assert database.run_sync(lambda uow: uow.accounts.nik_encrypted(added.id + 1000)) is None
    assert database.run_sync(lambda uow: uow.accounts.ids_by_nik_index(b"x" * 32)) == []


def test_find_by_login_and_email_ignore_case(database, make) -> None:
    account = make.account(name="siti")
    assert database.run_sync(lambda uow: uow.accounts.find_by_login("SITI")) == account
    assert database.run_sync(lambda uow: uow.accounts.find_by_login("Siti@Example.test")) == account
    assert database.run_sync(lambda uow: uow.accounts.find_by_login("nobody")) is None
    assert database.run_sync(lambda uow: uow.accounts.find_by_email("SITI@example.test")) == account
    assert database.run_sync(lambda uow: uow.accounts.find_by_email("x@example.test")) is None


@pytest.mark.parametrize(
    ("clash", "field"),
    [
        ({"email": "ANI@example.test"}, "email"),
        ({"username": "Ani"}, "username"),
        ({"nik_index": b"n" * 32}, "nik"),
    ],
)
def test_a_duplicate_raises_conflict_and_the_transaction_goes_on(
    database, make, clash, field
) -> None:
    make.account(name="ani", nik_index=b"n" * 32)

    def script(uow):
        with pytest.raises(Conflict) as caught:
            # Verified: only verified accounts reserve a username or a NIK.
            uow.accounts.add(_new("other", email_verified_at=T0, **clash))
        assert caught.value.code == "duplicate"
        assert field in caught.value.params["fields"]
        # The savepoint was rolled back; the outer transaction is still usable.
        return uow.accounts.add(_new("third"))

    third = database.run_sync(script)
    assert database.run_sync(lambda uow: uow.accounts.find_by_login("third")) == third
    assert database.run_sync(lambda uow: uow.accounts.find_by_login("other")) is None


def test_unverified_accounts_share_usernames_and_niks(database, make) -> None:
    """Issue 18: an unverified registration reserves neither; the log-in by a
    shared username names the verified holder, else the oldest."""
    first = database.run_sync(
        lambda uow: uow.accounts.add(_new("ani", email="a1@example.test", nik_index=b"n" * 32))
    )
    second = database.run_sync(
        lambda uow: uow.accounts.add(_new("ani", email="a2@example.test", nik_index=b"n" * 32))
    )
    assert database.run_sync(lambda uow: uow.accounts.find_by_login("ani")) == first
    assert database.run_sync(lambda uow: uow.accounts.clashes(username="ani")) == set()
    database.run_sync(lambda uow: uow.accounts.update(second.id, email_verified_at=T0))
    assert database.run_sync(lambda uow: uow.accounts.find_by_login("ani")).id == second.id
    assert database.run_sync(
        lambda uow: uow.accounts.clashes(username="ani", nik_index=b"n" * 32)
    ) == {"username", "nik"}
    holder = database.run_sync(lambda uow: uow.accounts.verified_by_nik_index(b"n" * 32))
    assert holder is not None and holder.id == second.id
    with pytest.raises(Conflict):
        database.run_sync(lambda uow: uow.accounts.update(first.id, email_verified_at=T0))


def test_delete_unverified_takes_old_unverified_citizens_only(database, make) -> None:
    old = database.run_sync(lambda uow: uow.accounts.add(_new("old")))
    young = database.run_sync(
        lambda uow: uow.accounts.add(_new("young", created_at=T0 + timedelta(days=2)))
    )
    staff = database.run_sync(lambda uow: uow.accounts.add(_new("staff", role=Role.ADMIN)))
    verified = make.account(name="verified")
    database.run_sync(
        lambda uow: uow.tokens.add(
            account_id=old.id,
            purpose="session",
            token_hash=b"t" * 32,
            created_at=T0,
            expires_at=T0 + timedelta(days=1),
            auth_version=1,
        )
    )
    removed = database.run_sync(
        lambda uow: uow.accounts.delete_unverified(created_before=T0 + timedelta(days=1), limit=10)
    )
    assert removed == 1
    left = {a.id for a in database.run_sync(lambda uow: uow.accounts.list(limit=50))}
    assert old.id not in left and {young.id, staff.id, verified.id} <= left


def test_a_foreign_key_error_is_not_reported_as_a_duplicate(database) -> None:
    with pytest.raises(Exception) as caught:
        database.run_sync(lambda uow: uow.accounts.add(_new("lost", agency_id=999)))
    assert not isinstance(caught.value, Conflict)


def test_clashes_names_the_taken_fields(database, make) -> None:
    ani = make.account(name="ani", nik_index=b"a" * 32)
    make.account(name="budi")

    def clashes(**kw):
        return database.run_sync(lambda uow: uow.accounts.clashes(**kw), write=False)

    assert clashes() == set()
    assert clashes(email="x@example.test", username="x", nik_index=b"x" * 32) == set()
    assert clashes(email="ANI@example.test", username="budi", nik_index=b"a" * 32) == {
        "email",
        "username",
        "nik",
    }
    assert clashes(email="ani@example.test", username="ani", exclude_id=ani.id) == set()
    assert clashes(email="ani@example.test", username="budi", exclude_id=ani.id) == {"username"}


def test_update_changes_the_allowed_columns(database, make) -> None:
    agency = make.agency()
    account = make.account(name="citra", verified=False)
    updated = database.run_sync(
        lambda uow: uow.accounts.update(
            account.id,
            email="Citra2@Example.test",
            username="Citra2",
            full_name="Citra Dewi",
            language="en",
            password_hash="new-hash",
            email_verified_at=T0,
            role=Role.OPERATOR,
            agency_id=agency.id,
            permissions={"land_issue.monitor"},
            is_active=False,
        )
    )
    assert updated == database.run_sync(lambda uow: uow.accounts.get(account.id))
    assert (updated.email, updated.username, updated.full_name) == (
        "citra2@example.test",
        "citra2",
        "Citra Dewi",
    )
    assert updated.language == "en" and updated.password_hash == "new-hash"
    assert updated.email_verified_at == T0 and updated.role == Role.OPERATOR
    assert updated.agency_id == agency.id and not updated.is_active
    assert updated.permissions == frozenset({"land_issue.monitor"})
    same = database.run_sync(lambda uow: uow.accounts.update(account.id))
    assert same == updated


def test_update_refuses_unknown_fields_ids_and_clashes(database, make) -> None:
    ani = make.account(name="ani")
    budi = make.account(name="budi")
    with pytest.raises(TypeError):
        database.run_sync(lambda uow: uow.accounts.update(ani.id, auth_version=9))
    with pytest.raises(NotFound):
        database.run_sync(lambda uow: uow.accounts.update(9999, full_name="x"))
    with pytest.raises(NotFound):
        database.run_sync(lambda uow: uow.accounts.update(9999))

    def script(uow):
        with pytest.raises(Conflict) as caught:
            uow.accounts.update(budi.id, email="ANI@example.test")
        assert caught.value.code == "duplicate"
        return uow.accounts.update(budi.id, full_name="Budi Baru")

    assert database.run_sync(script).full_name == "Budi Baru"
    assert database.run_sync(lambda uow: uow.accounts.get(budi.id)).email == "budi@example.test"


def test_bump_auth_version(database, make) -> None:
    account = make.account()
    assert database.run_sync(lambda uow: uow.accounts.bump_auth_version(account.id)) == 2
    assert database.run_sync(lambda uow: uow.accounts.bump_auth_version(account.id)) == 3
    assert database.run_sync(lambda uow: uow.accounts.get(account.id)).auth_version == 3
    with pytest.raises(NotFound):
        database.run_sync(lambda uow: uow.accounts.bump_auth_version(9999))


def test_list_filters_and_pages(database, make) -> None:
    agency = make.agency()
    users = [make.account(name=f"warga{i:02d}") for i in range(7)]
    operators = [make.account(role=Role.OPERATOR, agency_id=agency.id) for _ in range(3)]
    make.account(role=Role.OPERATOR, agency_id=make.agency().id)

    def page(**kw):
        return database.run_sync(lambda uow: uow.accounts.list(**kw), write=False)

    seen: list[int] = []
    before = None
    while True:
        got = page(role=Role.USER, before_id=before, limit=3)
        seen += [a.id for a in got]
        if len(got) < 3:
            break
        before = got[-1].id
    assert seen == sorted((u.id for u in users), reverse=True)
    assert [a.id for a in page(role=Role.OPERATOR, agency_id=agency.id)] == [
        o.id for o in reversed(operators)
    ]
    assert [a.username for a in page(text="ARGA03")] == ["warga03"]
    assert [a.username for a in page(text="Person", limit=2)] == [a.username for a in page(limit=2)]
    assert page(text="100%") == []


def test_recipients(database, make) -> None:
    agency, other_agency = make.agency(), make.agency()
    admin = make.account(role=Role.ADMIN)
    make.account(role=Role.ADMIN, verified=False)
    make.account(role=Role.ADMIN, active=False)
    super_admin = make.account(role=Role.SUPER_ADMIN)
    operator = make.account(role=Role.OPERATOR, agency_id=agency.id)
    make.account(role=Role.OPERATOR, agency_id=other_agency.id)
    monitor = make.account(
        role=Role.OPERATOR, agency_id=other_agency.id, permissions=frozenset({"land_issue.monitor"})
    )
    # Near misses for the LIKE pre-filter: a longer name, and "_" as a wildcard.
    make.account(permissions=frozenset({"land_issue.monitor2"}))
    make.account(permissions=frozenset({"landXissue.monitor"}))

    def recipients(**kw):
        return [a.id for a in database.run_sync(lambda uow: uow.accounts.recipients(**kw))]

    assert recipients(role=Role.ADMIN) == [admin.id]
    assert recipients(role=Role.OPERATOR, agency_id=agency.id) == [operator.id]
    assert recipients(permission="land_issue.monitor") == [super_admin.id, monitor.id]
    assert recipients(role=Role.ADMIN, permission="land_issue.monitor") == [
        admin.id,
        super_admin.id,
        monitor.id,
    ]
    assert recipients(permission="nobody.has.this") == [super_admin.id]
    everyone = recipients()
    assert admin.id in everyone and len(everyone) == 7


def test_recipients_are_kept_for_the_transaction_until_an_account_changes(database, make) -> None:
    admin = make.account(role=Role.ADMIN)
    other = make.account(role=Role.USER)

    def script(uow):
        first = [a.id for a in uow.accounts.recipients(role=Role.ADMIN)]
        # the same answer without asking the database again…
        uow.connection.execute(
            sa.update(accounts).where(accounts.c.id == admin.id).values(is_active=False)
        )
        kept = [a.id for a in uow.accounts.recipients(role=Role.ADMIN)]
        # …until the repository writes an account
        uow.accounts.update(other.id, role=Role.ADMIN)
        after = [a.id for a in uow.accounts.recipients(role=Role.ADMIN)]
        return first, kept, after

    first, kept, after = database.run_sync(script)
    assert first == kept == [admin.id]
    assert after == [other.id]


def test_rehash_password_replaces_only_the_hash_it_was_given(database, make) -> None:
    account = make.account()
    inactive = make.account(active=False)
    old, version = account.password_hash, account.auth_version

    def rehash(account_id: int, old_hash: str, auth_version: int, new: str) -> bool:
        return database.run_sync(
            lambda uow: uow.accounts.rehash_password(
                account_id, old_hash=old_hash, new_hash=new, auth_version=auth_version
            )
        )

    def stored(account_id: int) -> str:
        found = database.run_sync(lambda uow: uow.accounts.get(account_id))
        assert found is not None
        return found.password_hash

    assert rehash(account.id, "$argon2id$other", version, "x") is False  # changed meanwhile
    assert rehash(account.id, old, version + 1, "x") is False  # password changed meanwhile
    assert rehash(inactive.id, inactive.password_hash, inactive.auth_version, "x") is False
    assert stored(account.id) == old and stored(inactive.id) == inactive.password_hash
    assert rehash(account.id, old, version, "$argon2id$newer") is True
    assert stored(account.id) == "$argon2id$newer"
    after = database.run_sync(lambda uow: uow.accounts.get(account.id))
    assert after is not None and after.auth_version == version  # sessions stay valid
