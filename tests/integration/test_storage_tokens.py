"""TokenRepository on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _add(
    db, account_id: int, token: str, *, purpose: str = "reset_password", created_at=T0, ttl=60
):
    db.run_sync(
        lambda uow: uow.tokens.add(
            account_id=account_id,
            purpose=purpose,
            token_hash=_hash(token),
            created_at=created_at,
            expires_at=created_at + timedelta(minutes=ttl),
            auth_version=3,
        )
    )


def test_lookup_and_consume_once(database, make) -> None:
    account = make.account()
    _add(database, account.id, "t1")
    now = T0 + timedelta(minutes=5)

    found = database.run_sync(lambda uow: uow.tokens.lookup("reset_password", _hash("t1"), now))
    assert found is not None
    assert (found.account_id, found.purpose, found.auth_version) == (
        account.id,
        "reset_password",
        3,
    )
    assert found.created_at == T0 and found.expires_at == T0 + timedelta(minutes=60)
    assert found.expires_at.tzinfo is UTC and found.used_at is None
    # Looking up does not consume; the wrong purpose finds nothing.
    assert (
        database.run_sync(lambda uow: uow.tokens.lookup("verify_email", _hash("t1"), now)) is None
    )
    assert (
        database.run_sync(lambda uow: uow.tokens.consume("verify_email", _hash("t1"), now)) is None
    )

    used = database.run_sync(lambda uow: uow.tokens.consume("reset_password", _hash("t1"), now))
    assert used is not None and used.used_at == now and used.account_id == account.id
    assert (
        database.run_sync(lambda uow: uow.tokens.consume("reset_password", _hash("t1"), now))
        is None
    )
    assert (
        database.run_sync(lambda uow: uow.tokens.lookup("reset_password", _hash("t1"), now)) is None
    )


def test_expired_tokens_are_neither_found_nor_consumed(database, make) -> None:
    account = make.account()
    _add(database, account.id, "t1", ttl=60)
    at_expiry = T0 + timedelta(minutes=60)
    just_before = at_expiry - timedelta(microseconds=1)
    assert (
        database.run_sync(lambda uow: uow.tokens.lookup("reset_password", _hash("t1"), at_expiry))
        is None
    )
    assert (
        database.run_sync(lambda uow: uow.tokens.consume("reset_password", _hash("t1"), at_expiry))
        is None
    )
    assert database.run_sync(
        lambda uow: uow.tokens.consume("reset_password", _hash("t1"), just_before)
    )


def test_a_rolled_back_consume_leaves_the_token_usable(database, make) -> None:
    account = make.account()
    _add(database, account.id, "t1")
    now = T0 + timedelta(minutes=1)

    def fails(uow):
        assert uow.tokens.consume("reset_password", _hash("t1"), now) is not None
        raise RuntimeError("the password check failed")

    with pytest.raises(RuntimeError):
        database.run_sync(fails)
    assert database.run_sync(lambda uow: uow.tokens.consume("reset_password", _hash("t1"), now))


def test_touch_slides_the_expiry(database, make) -> None:
    account = make.account()
    _add(database, account.id, "s1", purpose="session", ttl=60)
    later = T0 + timedelta(minutes=50)
    database.run_sync(
        lambda uow: uow.tokens.touch("session", _hash("s1"), later, later + timedelta(minutes=60))
    )
    after_first_expiry = T0 + timedelta(minutes=90)
    found = database.run_sync(
        lambda uow: uow.tokens.lookup("session", _hash("s1"), after_first_expiry)
    )
    assert found is not None
    assert found.last_used_at == later and found.expires_at == later + timedelta(minutes=60)


def test_delete_delete_for_account_and_count_recent(database, make) -> None:
    ani, budi = make.account(), make.account()
    _add(database, ani.id, "v1", purpose="verify_email", created_at=T0)
    _add(database, ani.id, "v2", purpose="verify_email", created_at=T0 + timedelta(minutes=10))
    _add(database, ani.id, "s1", purpose="session")
    _add(database, ani.id, "s2", purpose="session")
    _add(database, ani.id, "a1", purpose="api")
    _add(database, budi.id, "s3", purpose="session")
    now = T0 + timedelta(minutes=20)

    def count(purpose, since):
        return database.run_sync(lambda uow: uow.tokens.count_recent(ani.id, purpose, since))

    assert count("verify_email", T0) == 2
    assert count("verify_email", T0 + timedelta(minutes=10)) == 2 - 1
    assert count("reset_password", T0) == 0

    database.run_sync(lambda uow: uow.tokens.delete("session", _hash("s1")))
    assert database.run_sync(lambda uow: uow.tokens.lookup("session", _hash("s1"), now)) is None
    assert database.run_sync(lambda uow: uow.tokens.lookup("session", _hash("s2"), now))

    assert database.run_sync(lambda uow: uow.tokens.delete_for_account(ani.id, [])) == 0
    assert (
        database.run_sync(lambda uow: uow.tokens.delete_for_account(ani.id, ["session", "api"]))
        == 2
    )
    assert count("verify_email", T0) == 2
    assert database.run_sync(lambda uow: uow.tokens.delete_for_account(ani.id)) == 2
    assert count("verify_email", T0) == 0
    assert database.run_sync(lambda uow: uow.tokens.lookup("session", _hash("s3"), now))


@pytest.mark.anyio
async def test_add_for_active_adds_only_for_an_active_account_of_that_version(
    database, make
) -> None:
    from aspirasi_core.storage.tables import accounts

    account = make.account()
    version = account.auth_version
    later = T0 + timedelta(hours=1)

    def add(names: list[str], auth_version: int):
        return lambda uow: uow.tokens.add_for_active(
            account_id=account.id,
            auth_version=auth_version,
            created_at=T0,
            tokens=[("session" if n.startswith("s") else "api", _hash(n), later) for n in names],
        )

    assert await database.transaction(add(["s1", "a1"], version), write=True) is True
    found = database.run_sync(lambda uow: uow.tokens.lookup("session", _hash("s1"), T0))
    assert found is not None
    assert (found.account_id, found.created_at, found.expires_at, found.auth_version) == (
        account.id,
        T0,
        later,
        version,
    )
    assert database.run_sync(lambda uow: uow.tokens.lookup("api", _hash("a1"), T0)) is not None
    assert await database.transaction(add(["a2"], version), write=True) is True
    # Another version (the password changed), an inactive or a missing account: nothing.
    assert await database.transaction(add(["s3", "a3"], version + 1), write=True) is False
    database.run_sync(
        lambda uow: uow.connection.execute(
            accounts.update().where(accounts.c.id == account.id).values(is_active=False)
        )
    )
    assert await database.transaction(add(["s4"], version), write=True) is False
    for name, purpose in (("s3", "session"), ("a3", "api"), ("s4", "session")):
        assert database.run_sync(lambda uow: uow.tokens.lookup(purpose, _hash(name), T0)) is None
    with pytest.raises(ValueError):
        database.run_sync(add([], version))
