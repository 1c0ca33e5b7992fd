"""A transaction PostgreSQL aborted because of other transactions (a deadlock, a
serialisation failure) is run again, a bounded number of times after random
pauses, then refused with ``Unavailable`` (``database_busy``); a lock that was not
granted in time (PostgreSQL's lock_timeout, SQLite's "database is locked") is
refused at once, not retried. With real deadlocks, serialisation failures and locks.

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
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from tests.racing import db_url as _url
from tests.racing import run_threads as _run_threads
from tests.racing import wait_for_lock_waiter

from aspirasi_core.domain.errors import Unavailable
from aspirasi_core.storage import SqlDatabase, make_engine
from aspirasi_core.storage.faults import transient_reason
from aspirasi_core.storage.tables import agencies


def _rename(conn: Any, agency_id: int, name: str) -> None:
    conn.execute(update(agencies).where(agencies.c.id == agency_id).values(name=name))


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
        _rename(uow.connection, first.id, "a")
        a_has_first.set()
        assert b_has_second.wait(30)
        _rename(uow.connection, second.id, "a")  # waits for B

    def b(uow: Any) -> None:
        runs["b"] += 1
        if runs["b"] == 1:
            assert a_has_first.wait(30)
            _rename(uow.connection, second.id, "b")
            b_has_second.set()
            assert wait_for_lock_waiter(db.engine)  # A waits for B's row
            _rename(uow.connection, first.id, "b")  # and B for A's: a deadlock
        else:
            _rename(uow.connection, second.id, "b")
            _rename(uow.connection, first.id, "b")

    with structlog.testing.capture_logs() as logs:
        _run_threads(2, lambda i: db.run_sync(a if i == 0 else b))
    assert runs == {"a": 1, "b": 2}
    retried = [e for e in logs if e["event"] == "transaction_retried"]
    assert [e["reason"] for e in retried] == ["40P01"]
    with db.engine.connect() as conn:
        names = dict(conn.execute(select(agencies.c.id, agencies.c.name)).all())
    # B ran last, whole: both rows carry its name.
    assert names[first.id] == names[second.id] == "b"


def _spoiled(db: SqlDatabase, agency_id: int, spoil: int) -> tuple[Any, list[int]]:
    """A script that renames the agency in a REPEATABLE READ transaction; on its
    first ``spoil`` attempts another session renames it after the script's
    snapshot was taken, so the script's own update fails with 40001."""
    attempts: list[int] = []

    def script(uow: Any) -> None:
        attempts.append(len(attempts) + 1)
        conn = uow.connection
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        conn.execute(select(agencies.c.name).where(agencies.c.id == agency_id))  # the snapshot
        if len(attempts) <= spoil:
            with db.engine.begin() as other:
                _rename(other, agency_id, f"other {len(attempts)}")
        _rename(uow.connection, agency_id, "mine")

    return script, attempts


def _name(db: SqlDatabase, agency_id: int) -> str:
    with db.engine.connect() as conn:
        return str(conn.execute(select(agencies.c.name).where(agencies.c.id == agency_id)).scalar())


def test_a_serialization_failure_is_run_again_and_commits(pg_database, make) -> None:
    agency = make.agency()
    script, attempts = _spoiled(pg_database, agency.id, spoil=1)
    with structlog.testing.capture_logs() as logs:
        pg_database.run_sync(script)
    assert attempts == [1, 2]
    assert [e["reason"] for e in logs if e["event"] == "transaction_retried"] == ["40001"]
    assert _name(pg_database, agency.id) == "mine"


def test_a_transaction_failing_on_every_attempt_is_database_busy(pg_database, make) -> None:
    """1 + retries attempts, then ``Unavailable`` (``database_busy``): nothing of
    the script is written."""
    db = SqlDatabase(make_engine(_url(pg_database)), pg_database.crypto, retries=2)
    agency = make.agency()
    script, attempts = _spoiled(db, agency.id, spoil=99)
    try:
        with structlog.testing.capture_logs() as logs, pytest.raises(Unavailable) as exc:
            db.run_sync(script)
    finally:
        db.dispose()
    assert attempts == [1, 2, 3]
    assert exc.value.code == "database_busy" and exc.value.retry_after >= 1
    assert [e["reason"] for e in logs if e["event"] == "transaction_retried"] == ["40001"] * 2
    gave_up = [e for e in logs if e["event"] == "transaction_gave_up"]
    assert [(e["attempts"], e["code"]) for e in gave_up] == [(3, "database_busy")]
    assert _name(pg_database, agency.id) == "other 3"


def test_a_lock_timeout_is_not_retried(pg_database, make) -> None:
    """55P03: the statement already waited ``lock_timeout`` for a lock that is
    most likely still held, so the request answers at once instead of waiting
    that long again for each retry."""
    db = SqlDatabase(
        make_engine(_url(pg_database), lock_timeout_ms=50), pg_database.crypto, retries=2
    )
    agency = make.agency()
    attempts = 0

    def script(uow: Any) -> None:
        nonlocal attempts
        attempts += 1
        _rename(uow.connection, agency.id, "blocked")

    holder = pg_database.engine.connect()
    try:
        holder.begin()
        holder.execute(select(agencies).where(agencies.c.id == agency.id).with_for_update())
        with structlog.testing.capture_logs() as logs, pytest.raises(Unavailable) as exc:
            db.run_sync(script)
        holder.rollback()
        db.run_sync(script)  # the lock is gone: the same write commits
    finally:
        holder.close()
        db.dispose()
    assert attempts == 2
    assert exc.value.code == "database_busy" and exc.value.retry_after >= 1
    assert not [e for e in logs if e["event"] == "transaction_retried"]
    assert _name(pg_database, agency.id) == "blocked"


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


def test_sqlite_database_locked_is_not_retried(sqlite_database, make) -> None:
    """Another process holds the write lock longer than the busy timeout:
    ``BEGIN IMMEDIATE`` waited the whole timeout once, and the request answers
    ``database_busy`` without waiting it again. Once the other process lets go,
    the same write commits."""
    path = sqlite_database.engine.url.database
    db = SqlDatabase(
        make_engine(_url(sqlite_database), sqlite_busy_timeout_ms=50),
        sqlite_database.crypto,
        retries=2,
    )
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
            _rename(uow.connection, agency.id, "renamed")

        with structlog.testing.capture_logs() as logs, pytest.raises(Unavailable) as exc:
            db.run_sync(script)
        assert attempts == 0  # BEGIN IMMEDIATE itself waited and failed
        assert exc.value.code == "database_busy"
        # Once: no retry waited the busy timeout again.
        assert not [e for e in logs if e["event"] == "transaction_retried"]
        assert [e["code"] for e in logs if e["event"] == "service_unavailable"] == ["database_busy"]
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
    assert _name(sqlite_database, agency.id) == "renamed"
