"""A transaction the database gave up on because of other transactions is run
again (a bounded number of times, after random pauses), then refused with
``Busy`` — with real deadlocks, lock time-outs and SQLite's "database is locked".

Interleavings are forced with events and observed in ``pg_stat_activity``, never
slept on.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest
import structlog
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError
from tests.racing import db_url as _url
from tests.racing import run_threads as _run_threads
from tests.racing import wait_for_lock_waiter

from aspirasi_core.domain.errors import Busy
from aspirasi_core.storage import SqlDatabase, make_engine
from aspirasi_core.storage.database import transient_reason
from aspirasi_core.storage.tables import agencies


def _rename(uow: Any, agency_id: int, name: str) -> None:
    uow.connection.execute(update(agencies).where(agencies.c.id == agency_id).values(name=name))


def test_a_deadlock_victim_is_run_again_and_both_commit(pg_database, make) -> None:
    """Two transactions take two rows in opposite orders: PostgreSQL aborts one
    (40P01); it is run again from the start and commits after the other."""
    db = pg_database
    first, second = make.agency(), make.agency()
    a_has_first, b_has_second = threading.Event(), threading.Event()
    runs = {"a": 0, "b": 0}

    def a(uow: Any) -> None:
        runs["a"] += 1
        # A checks for deadlocks only after 10 s: B, which waits second, is the
        # one PostgreSQL aborts (after its 1 s default).
        uow.connection.execute(text("SET LOCAL deadlock_timeout = '10s'"))
        _rename(uow, first.id, "a")
        a_has_first.set()
        assert b_has_second.wait(30)
        _rename(uow, second.id, "a")  # waits for B

    def b(uow: Any) -> None:
        runs["b"] += 1
        if runs["b"] == 1:
            assert a_has_first.wait(30)
            _rename(uow, second.id, "b")
            b_has_second.set()
            assert wait_for_lock_waiter(db.engine)  # A waits for B's row
            _rename(uow, first.id, "b")  # and B for A's: a deadlock
        else:
            _rename(uow, second.id, "b")
            _rename(uow, first.id, "b")

    with structlog.testing.capture_logs() as logs:
        _run_threads(2, lambda i: db.run_sync(a if i == 0 else b))
    assert runs == {"a": 1, "b": 2}
    retried = [e for e in logs if e["event"] == "transaction_retried"]
    assert [e["reason"] for e in retried] == ["40P01"]
    with db.engine.connect() as conn:
        names = dict(conn.execute(select(agencies.c.id, agencies.c.name)).all())
    # B ran last, whole: both rows carry its name.
    assert names[first.id] == names[second.id] == "b"


def test_a_lock_that_stays_taken_ends_in_busy_after_the_retries(pg_database, make) -> None:
    """55P03 (lock_timeout) on every attempt: 1 + retries attempts, then Busy."""
    db = SqlDatabase(make_engine(_url(pg_database)), pg_database.crypto, retries=2)
    agency = make.agency()
    attempts = 0

    def script(uow: Any) -> None:
        nonlocal attempts
        attempts += 1
        uow.connection.execute(text("SET LOCAL lock_timeout = '50ms'"))
        _rename(uow, agency.id, "blocked")

    holder = pg_database.engine.connect()
    try:
        holder.begin()
        holder.execute(select(agencies).where(agencies.c.id == agency.id).with_for_update())
        with structlog.testing.capture_logs() as logs, pytest.raises(Busy) as exc:
            db.run_sync(script)
    finally:
        holder.rollback()
        holder.close()
        db.dispose()
    assert attempts == 3
    assert exc.value.retry_after >= 1 and exc.value.code == "busy"
    assert [e["reason"] for e in logs if e["event"] == "transaction_retried"] == ["55P03"] * 2
    assert [e["attempts"] for e in logs if e["event"] == "transaction_gave_up"] == [3]


def test_a_lock_released_between_attempts_lets_the_retry_commit(pg_database, make) -> None:
    agency = make.agency()
    release, released = threading.Event(), threading.Event()
    attempts = 0

    def hold() -> None:
        with pg_database.engine.connect() as conn, conn.begin():
            conn.execute(select(agencies).where(agencies.c.id == agency.id).with_for_update())
            holding.set()
            assert release.wait(30)
        released.set()

    def script(uow: Any) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 2:  # the first attempt failed: let the holder go
            release.set()
            assert released.wait(30)
        uow.connection.execute(text("SET LOCAL lock_timeout = '50ms'"))
        _rename(uow, agency.id, "renamed")

    holding = threading.Event()
    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        pg_database.run_sync(script)
    finally:
        release.set()
        holder.join(30)
    assert attempts == 2
    with pg_database.engine.connect() as conn:
        name = conn.execute(select(agencies.c.name).where(agencies.c.id == agency.id)).scalar()
    assert name == "renamed"


def test_other_errors_are_not_retried(database, make) -> None:
    agency = make.agency()
    attempts = 0

    def script(uow: Any) -> None:
        nonlocal attempts
        attempts += 1
        uow.connection.execute(agencies.insert().values(code=agency.code, name="again"))

    with pytest.raises(IntegrityError) as exc:
        database.run_sync(script)
    assert attempts == 1
    assert transient_reason(exc.value) is None


_HOLD_THE_WRITE_LOCK = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("holding", flush=True)
    sys.stdin.readline()  # until the test says so
    conn.execute("ROLLBACK")
    print("released", flush=True)
    """
)


def _short_busy_timeout(db: SqlDatabase, ms: int) -> None:
    """The engine's connections wait ``ms`` for another process's write lock
    (the default, 30 s, is long for a test), set after the engine's own."""

    @event.listens_for(db.engine, "connect")
    def _timeout(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={ms}")


def test_sqlite_database_locked_is_retried_then_busy(sqlite_database, make) -> None:
    """Another process holds the write lock longer than the busy timeout: each
    attempt answers "database is locked"; after the retries, Busy. Once the
    other process lets go, the same write commits."""
    path = sqlite_database.engine.url.database
    db = SqlDatabase(make_engine(_url(sqlite_database)), sqlite_database.crypto, retries=2)
    _short_busy_timeout(db, 50)
    agency = make.agency()
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_WRITE_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "holding"
        attempts = 0

        def script(uow: Any) -> None:
            nonlocal attempts
            attempts += 1
            _rename(uow, agency.id, "renamed")

        with structlog.testing.capture_logs() as logs, pytest.raises(Busy):
            db.run_sync(script)
        # BEGIN IMMEDIATE itself waited and failed three times: the script never ran.
        assert attempts == 0
        assert [e["attempts"] for e in logs if e["event"] == "transaction_gave_up"] == [3]
        reasons = [e["reason"] for e in logs if e["event"] == "transaction_retried"]
        assert reasons == ["database_locked"] * 2
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "released"
        db.run_sync(script)
        assert attempts == 1
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(30)
        db.dispose()
    with sqlite_database.engine.connect() as conn:
        name = conn.execute(select(agencies.c.name).where(agencies.c.id == agency.id)).scalar()
    assert name == "renamed"
