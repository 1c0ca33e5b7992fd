"""Faults of the database and the disk come out of the storage layer named
(``Unavailable``, ``StorageFull``) — provoked for real: timeouts and locks on
PostgreSQL and SQLite, a SQLite file at its size limit, a write to a full device."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from aspirasi_core.domain.errors import StorageFull, Unavailable
from aspirasi_core.security.crypto import Crypto
from aspirasi_core.storage import create_database, upgrade
from aspirasi_core.storage.faults import classify

CRYPTO = Crypto("test-secret-key-" * 3)


def test_a_write_full_device_is_storage_full() -> None:
    with pytest.raises(OSError) as raised, open("/dev/full", "wb", buffering=0) as device:
        device.write(b"x")
    assert isinstance(classify(raised.value), StorageFull)


def test_a_sqlite_file_at_its_size_limit_is_storage_full(tmp_path: Path) -> None:
    path = tmp_path / "small.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE t (x BLOB)")
    raw.execute("PRAGMA max_page_count=8")
    with pytest.raises(sqlite3.OperationalError) as raised:
        for _ in range(100):
            raw.execute("INSERT INTO t VALUES (zeroblob(4000))")
    raw.close()
    found = classify(raised.value)
    assert isinstance(found, StorageFull) and found.code == "storage_full"


def test_a_sqlite_writer_of_this_process_holding_on_makes_the_next_one_busy(
    sqlite_url: str,
) -> None:
    db = create_database(sqlite_url, CRYPTO, sqlite_busy_timeout_ms=200)
    upgrade(db.engine)
    holding, release = threading.Event(), threading.Event()

    def hold(uow) -> None:  # type: ignore[no-untyped-def]
        holding.set()
        release.wait(10)

    holder = threading.Thread(target=lambda: db.run_sync(hold))
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(Unavailable) as raised:
            db.run_sync(lambda uow: None)
        assert raised.value.code == "database_busy" and raised.value.retry_after >= 1
        db.run_sync(lambda uow: None, write=False)  # reads go on
    finally:
        release.set()
        holder.join()
    db.run_sync(lambda uow: None)  # and the next writer gets through
    db.dispose()


@pytest.mark.postgres
def test_postgresql_timeouts_are_busy_and_a_bad_host_is_unavailable(pg_url: str) -> None:
    db = create_database(pg_url, CRYPTO, statement_timeout_ms=300, lock_timeout_ms=200)
    upgrade(db.engine)
    try:
        with pytest.raises(Unavailable) as slow:
            db.run_sync(lambda uow: uow.connection.execute(text("SELECT pg_sleep(2)")))
        assert slow.value.code == "database_busy"
        holder = psycopg.connect(
            make_url(pg_url).set(drivername="postgresql").render_as_string(False)
        )
        try:
            holder.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(Unavailable) as locked:
                db.run_sync(lambda uow: uow.accounts.get(1), write=False)
            assert locked.value.code == "database_busy"
        finally:
            holder.close()
        assert db.run_sync(lambda uow: uow.accounts.get(1), write=False) is None
    finally:
        db.dispose()
    # Nothing listens on port 1: refused at once, named.
    nowhere = make_url(pg_url).set(port=1).render_as_string(hide_password=False)
    unreachable = create_database(nowhere, CRYPTO, connect_timeout_s=2)
    try:
        with pytest.raises(Unavailable) as down:
            unreachable.ping()
        assert down.value.code == "database_unavailable" and down.value.retry_after >= 1
    finally:
        unreachable.dispose()
