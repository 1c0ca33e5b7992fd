"""OutboxRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from aspirasi_core.storage.tables import outbox

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
SECRET_LINK = "https://aspirasi.example/reset?token=SECRET-TOKEN-123"


def _raw_payloads(db) -> dict[int, bytes]:
    with db.engine.connect() as conn:
        return {
            row.id: bytes(row.payload)
            for row in conn.execute(select(outbox.c.id, outbox.c.payload))
        }


def test_payloads_are_encrypted_at_rest_and_erased_once_done(database) -> None:
    payload = {"to": "ani@example.test", "link": SECRET_LINK, "n": 3}
    item_id = database.run_sync(lambda uow: uow.outbox.add("mail", payload, created_at=T0))
    raw = _raw_payloads(database)[item_id]
    assert b"SECRET-TOKEN" not in raw and b"ani@example" not in raw
    assert database.crypto.decrypt_payload(raw) == payload

    [claimed] = database.run_sync(lambda uow: uow.outbox.claim(T0, limit=10, lease_seconds=60))
    assert claimed.payload == payload and claimed.topic == "mail"
    assert (claimed.status, claimed.attempts) == ("sending", 1)
    assert claimed.created_at == T0 and claimed.created_at.tzinfo is UTC

    database.run_sync(lambda uow: uow.outbox.complete(item_id, T0 + timedelta(seconds=5)))
    assert _raw_payloads(database)[item_id] == b""
    [done] = database.run_sync(lambda uow: uow.outbox.list(status="done"))
    assert (done.id, done.status, done.payload) == (item_id, "done", {})
    assert (
        database.run_sync(
            lambda uow: uow.outbox.claim(T0 + timedelta(hours=1), limit=10, lease_seconds=60)
        )
        == []
    )


def test_claim_takes_due_items_oldest_first_up_to_the_limit(database) -> None:
    def add(uow):
        ids = [
            uow.outbox.add("mail", {"i": i}, created_at=T0 + timedelta(seconds=i)) for i in range(5)
        ]
        later = uow.outbox.add("mail", {"i": "later"}, created_at=T0 + timedelta(hours=1))
        return ids, later

    ids, later = database.run_sync(add)
    now = T0 + timedelta(minutes=1)
    first = database.run_sync(lambda uow: uow.outbox.claim(now, limit=3, lease_seconds=60))
    assert [i.id for i in first] == ids[:3]
    rest = database.run_sync(lambda uow: uow.outbox.claim(now, limit=10, lease_seconds=60))
    assert [i.id for i in rest] == ids[3:]
    assert database.run_sync(lambda uow: uow.outbox.claim(now, limit=10, lease_seconds=60)) == []
    assert database.run_sync(lambda uow: uow.outbox.claim(now, limit=0, lease_seconds=60)) == []
    pending = database.run_sync(lambda uow: uow.outbox.list(status="pending"))
    assert [i.id for i in pending] == [later]


def test_an_expired_lease_is_claimed_again(database) -> None:
    item_id = database.run_sync(lambda uow: uow.outbox.add("mail", {"a": 1}, created_at=T0))
    database.run_sync(lambda uow: uow.outbox.claim(T0, limit=1, lease_seconds=60))
    # The worker died. Within the lease nobody else takes the item…
    assert (
        database.run_sync(
            lambda uow: uow.outbox.claim(T0 + timedelta(seconds=59), limit=1, lease_seconds=60)
        )
        == []
    )
    # …after it, another worker does.
    [again] = database.run_sync(
        lambda uow: uow.outbox.claim(T0 + timedelta(seconds=61), limit=1, lease_seconds=60)
    )
    assert (again.id, again.attempts, again.status) == (item_id, 2, "sending")


def test_fail_retries_later_then_dead_letters_then_manual_retry(database) -> None:
    item_id = database.run_sync(lambda uow: uow.outbox.add("mail", {"a": 1}, created_at=T0))
    database.run_sync(lambda uow: uow.outbox.claim(T0, limit=1, lease_seconds=60))
    retry_at = T0 + timedelta(minutes=5)
    database.run_sync(lambda uow: uow.outbox.fail(item_id, "smtp down", retry_at=retry_at))
    [pending] = database.run_sync(lambda uow: uow.outbox.list(status="pending"))
    assert (pending.available_at, pending.last_error, pending.attempts) == (
        retry_at,
        "smtp down",
        1,
    )
    assert (
        database.run_sync(
            lambda uow: uow.outbox.claim(retry_at - timedelta(seconds=1), limit=1, lease_seconds=60)
        )
        == []
    )
    [again] = database.run_sync(lambda uow: uow.outbox.claim(retry_at, limit=1, lease_seconds=60))
    assert again.attempts == 2

    assert not database.run_sync(lambda uow: uow.outbox.retry(item_id, retry_at))  # not dead
    database.run_sync(lambda uow: uow.outbox.fail(item_id, "x" * 5000, retry_at=None))
    [dead] = database.run_sync(lambda uow: uow.outbox.list(status="dead"))
    assert dead.id == item_id and dead.payload == {"a": 1} and len(dead.last_error) == 2000
    assert (
        database.run_sync(
            lambda uow: uow.outbox.claim(T0 + timedelta(days=9), limit=5, lease_seconds=60)
        )
        == []
    )

    now = T0 + timedelta(days=1)
    assert database.run_sync(lambda uow: uow.outbox.retry(item_id, now))
    [back] = database.run_sync(lambda uow: uow.outbox.list(status="pending"))
    assert (back.attempts, back.available_at) == (0, now)
    assert [
        i.id
        for i in database.run_sync(lambda uow: uow.outbox.claim(now, limit=5, lease_seconds=60))
    ] == [item_id]
    assert not database.run_sync(lambda uow: uow.outbox.retry(item_id + 100, now))


def test_list_is_oldest_first_and_limited(database) -> None:
    ids = database.run_sync(
        lambda uow: [uow.outbox.add("t", {"i": i}, created_at=T0) for i in range(4)]
    )
    assert [i.id for i in database.run_sync(lambda uow: uow.outbox.list())] == ids
    assert [i.id for i in database.run_sync(lambda uow: uow.outbox.list(limit=2))] == ids[:2]
    assert database.run_sync(lambda uow: uow.outbox.list(status="dead")) == []


def test_an_undecryptable_item_goes_to_the_dead_letters(database, crypto) -> None:
    from aspirasi_core.security.crypto import Crypto

    other_key = Crypto("another-secret-key-" * 2)
    bad = other_key.encrypt_payload({"x": 1})
    good_id = database.run_sync(lambda uow: uow.outbox.add("t", {"ok": True}, created_at=T0))
    with database.engine.begin() as conn:
        bad_id = conn.execute(
            outbox.insert()
            .values(
                topic="t", payload=bad, status="pending", attempts=0, created_at=T0, available_at=T0
            )
            .returning(outbox.c.id)
        ).scalar_one()
    claimed = database.run_sync(lambda uow: uow.outbox.claim(T0, limit=10, lease_seconds=60))
    assert [i.id for i in claimed] == [good_id]
    [dead] = database.run_sync(lambda uow: uow.outbox.list(status="dead"))
    assert dead.id == bad_id and dead.payload == {} and "decrypt" in dead.last_error
