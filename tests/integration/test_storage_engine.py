"""Engines: URL handling, SQLite pragmas and the BEGIN IMMEDIATE / read-only split."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError, StatementError

from aspirasi_core.storage import SqlDatabase, make_engine
from aspirasi_core.storage.database import NestedWriteTransaction
from aspirasi_core.storage.engine import normalize_url
from aspirasi_core.storage.tables import categories

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_plain_postgresql_urls_get_the_psycopg_driver() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_unsupported_and_in_memory_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://u@h/db")
    with pytest.raises(ValueError, match="file"):
        make_engine("sqlite://")
    with pytest.raises(ValueError, match="file"):
        make_engine("sqlite:///:memory:")


def test_sqlite_creates_the_folder_and_sets_the_pragmas(tmp_path) -> None:
    path = tmp_path / "deep" / "er" / "aspirasi.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
        assert path.exists()
        assert pragma == {
            "journal_mode": "wal",
            "busy_timeout": 10000,  # ASPIRASI_SQLITE_BUSY_TIMEOUT_MS's default
            "foreign_keys": 1,
            "synchronous": 1,  # NORMAL
        }
    finally:
        engine.dispose()


def test_the_sqlite_busy_timeout_is_its_own_setting(tmp_path) -> None:
    """Not PostgreSQL's lock timeout: a SQLite writer waits for every writer ahead."""
    from aspirasi_core.settings import Settings

    engine = make_engine(
        f"sqlite:///{tmp_path / 'a.db'}", lock_timeout_ms=50, sqlite_busy_timeout_ms=1234
    )
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
    finally:
        engine.dispose()
    defaults = Settings()
    assert defaults.sqlite_busy_timeout_ms > defaults.db_statement_timeout_ms
    assert Settings.from_env(
        {"ASPIRASI_SQLITE_BUSY_TIMEOUT_MS": "2500"}
    ).sqlite_busy_timeout_ms == (2500)
    with pytest.raises(ValueError, match="ASPIRASI_SQLITE_BUSY_TIMEOUT_MS"):
        Settings.from_env({"ASPIRASI_SQLITE_BUSY_TIMEOUT_MS": "-1"}).check_production()


def test_each_sqlite_connection_gets_the_configured_page_cache(tmp_path) -> None:
    """A worker keeps a connection per database thread, each with its own page cache:
    ASPIRASI_SQLITE_CACHE_KIB (512 KiB) on every connection, not SQLite's 2000 KiB."""
    from aspirasi_core.settings import Settings

    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert Settings().sqlite_cache_kib == 512
    assert Settings.from_env({"ASPIRASI_SQLITE_CACHE_KIB": "64"}).sqlite_cache_kib == 64
    with pytest.raises(ValueError, match="ASPIRASI_SQLITE_CACHE_KIB"):
        Settings.from_env({"ASPIRASI_SQLITE_CACHE_KIB": "-1"}).check_production()
    for kib, expected in ((None, -512), (64, -64), (0, -2000)):
        engine = make_engine(url) if kib is None else make_engine(url, sqlite_cache_kib=kib)
        try:
            # Two connections of the pool at once: the pragma is per connection.
            one, two = engine.raw_connection(), engine.raw_connection()
            sizes = [c.execute("PRAGMA cache_size").fetchone()[0] for c in (one, two)]
            one.close()
            two.close()
        finally:
            engine.dispose()
        assert sizes == [expected, expected], kib


def _hold_transaction(
    db: SqlDatabase, *, write: bool
) -> tuple[threading.Event, threading.Event, threading.Thread]:
    """Open a transaction in a thread that only runs a SELECT, and keep it open."""
    opened, release = threading.Event(), threading.Event()

    def script(uow) -> None:
        uow.connection.execute(select(categories.c.id)).all()
        opened.set()
        assert release.wait(10)

    thread = threading.Thread(target=db.run_sync, args=(script,), kwargs={"write": write})
    thread.start()
    assert opened.wait(10)
    return opened, release, thread


def test_sqlite_write_transactions_take_the_write_lock_at_begin(sqlite_database) -> None:
    # The script only reads, yet another connection cannot start writing: the lock
    # was taken by BEGIN IMMEDIATE, not at the first write.
    _, release, thread = _hold_transaction(sqlite_database, write=True)
    other = sqlite3.connect(sqlite_database.engine.url.database, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        release.set()
        thread.join()
        other.close()


def test_sqlite_read_transactions_do_not_block_writers(sqlite_database) -> None:
    _, release, thread = _hold_transaction(sqlite_database, write=False)
    try:
        sqlite_database.run_sync(lambda uow: uow.directory.add_agency("dinas-pu", "Dinas PU"))
    finally:
        release.set()
        thread.join()
    assert sqlite_database.run_sync(
        lambda uow: uow.directory.agency_by_code("dinas-pu"), write=False
    )


def test_sqlite_read_transactions_refuse_writes(sqlite_database) -> None:
    with pytest.raises(OperationalError, match="readonly"):
        sqlite_database.run_sync(
            lambda uow: uow.directory.add_agency("dinas-pu", "Dinas PU"), write=False
        )
    # The pooled connection switches back for the next write, and back again.
    sqlite_database.run_sync(lambda uow: uow.directory.add_agency("dinas-pu", "Dinas PU"))
    assert sqlite_database.run_sync(lambda uow: len(uow.directory.agencies()), write=False) == 1
    with pytest.raises(OperationalError, match="readonly"):
        sqlite_database.run_sync(lambda uow: uow.directory.add_agency("x", "X"), write=False)


def test_a_nested_sqlite_write_transaction_is_refused_not_deadlocked(sqlite_database) -> None:
    def outer(uow) -> None:
        sqlite_database.run_sync(lambda inner: None)

    with pytest.raises(NestedWriteTransaction):
        sqlite_database.run_sync(outer)
    # Also through another SqlDatabase on the same file (they share the lock).
    twin = SqlDatabase(make_engine(sqlite_database.engine.url), sqlite_database.crypto)
    try:
        with pytest.raises(NestedWriteTransaction):
            sqlite_database.run_sync(lambda uow: twin.run_sync(lambda inner: None))
        twin.run_sync(
            lambda uow: uow.directory.add_agency("after", "After")
        )  # the lock was released
    finally:
        twin.dispose()
    # Reads inside a write are fine (their own connection, a snapshot).
    assert (
        sqlite_database.run_sync(
            lambda uow: sqlite_database.run_sync(
                lambda inner: len(inner.directory.categories()), write=False
            )
        )
        == 2
    )


def test_naive_datetimes_are_refused(database) -> None:
    with pytest.raises((ValueError, StatementError), match="naive"):
        database.run_sync(lambda uow: uow.outbox.add("t", {}, created_at=datetime(2025, 1, 1)))


def test_postgresql_sessions_use_utc(pg_database) -> None:
    with pg_database.engine.connect() as conn:
        assert conn.execute(text("SHOW timezone")).scalar() == "UTC"


def test_transaction_threads_and_the_postgresql_pool_follow_db_threads(tmp_path) -> None:
    from aspirasi_core.security.crypto import Crypto
    from aspirasi_core.settings import Settings
    from aspirasi_core.storage.database import create_database

    crypto = Crypto("x" * 40)
    pg = create_database("postgresql://postgres@127.0.0.1/test", crypto)  # no connection yet
    lite = create_database(f"sqlite:///{tmp_path / 'a.db'}", crypto)
    tuned = create_database("postgresql://postgres@127.0.0.1/test", crypto, threads=24)
    try:
        assert (pg.threads, pg.engine.pool.size()) == (8, 8)
        assert lite.threads == 8
        assert (tuned.threads, tuned.engine.pool.size()) == (24, 24)
    finally:
        for db in (pg, lite, tuned):
            db.dispose()
    assert Settings.from_env({"ASPIRASI_DB_THREADS": "24"}).db_threads == 24
    for bad in ("-1", "257"):
        with pytest.raises(ValueError, match="ASPIRASI_DB_THREADS"):
            Settings.from_env({"ASPIRASI_DB_THREADS": bad}).check_production()


def test_the_default_postgresql_pool_is_the_default_of_the_threads(monkeypatch) -> None:
    from aspirasi_core.storage import database

    monkeypatch.setattr(database, "default_threads", lambda dialect: 5)
    engine = make_engine("postgresql://postgres@127.0.0.1/test")  # no connection yet
    try:
        assert engine.pool.size() == 5
    finally:
        engine.dispose()
