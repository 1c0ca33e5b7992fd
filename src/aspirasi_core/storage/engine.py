"""Engines for SQLite (embedded default) and PostgreSQL (psycopg 3).

SQLite needs care to never answer "database is locked":

* WAL journal, so readers never block the writer and the writer never blocks readers;
* ``busy_timeout`` so a writer waits for another process's write lock instead of failing;
* pysqlite's own transaction handling is switched off and we emit ``BEGIN IMMEDIATE``
  for write transactions: the write lock is taken up front, where the busy handler
  can wait for it. A deferred transaction that reads and then writes would have to
  *upgrade* its lock, and SQLite answers that with an immediate ``SQLITE_BUSY`` when
  another writer committed in between, whatever the timeout;
* read transactions (``BEGIN`` deferred) run with ``PRAGMA query_only`` on, so a write
  slipped into a read transaction fails loudly in tests instead of sporadically under
  load. The pragma is only re-issued when a pooled connection switches mode.

A connection says which kind of transaction it wants through the execution option
``aspirasi_write`` (default True, the safe choice for anyone calling
``engine.begin()`` directly, Alembic included).
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.url import URL

#: Milliseconds a SQLite writer waits for another writer's lock by default
#: (``ASPIRASI_SQLITE_BUSY_TIMEOUT_MS``).
SQLITE_BUSY_TIMEOUT_MS = 10_000

#: KiB of page cache each SQLite connection keeps by default
#: (``ASPIRASI_SQLITE_CACHE_KIB``; SQLite's own default is 2000). A worker keeps a
#: connection per database thread, each with its own cache, and SQLite's sorter
#: holds up to this much in memory before it spills to a temporary file; a page
#: that is not cached is a read from the operating system's file cache.
SQLITE_CACHE_KIB = 512

WRITE_OPTION = "aspirasi_write"


def normalize_url(url: str | URL) -> URL:
    """Pick the driver: ``postgresql://`` becomes ``postgresql+psycopg://``."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database: {parsed.get_backend_name()!r}")
    return parsed


def make_engine(
    url: str | URL,
    *,
    pool_threads: int = 0,
    statement_timeout_ms: int = 0,
    lock_timeout_ms: int = 0,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    sqlite_cache_kib: int = SQLITE_CACHE_KIB,
    connect_timeout_s: int = 0,
    **engine_kwargs: Any,
) -> Engine:
    """A sync engine for ``sqlite:///path`` or ``postgresql://…``.

    ``pool_threads``: the transaction threads that will use it (PostgreSQL keeps as
    many connections; 0: the default of :class:`~.database.SqlDatabase`,
    :func:`~.database.default_threads`).
    ``statement_timeout_ms`` and ``lock_timeout_ms``: PostgreSQL's
    ``statement_timeout`` and ``lock_timeout`` on every connection (0: none, the
    default, right for migrations). ``sqlite_busy_timeout_ms``: SQLite's busy
    timeout (0: :data:`SQLITE_BUSY_TIMEOUT_MS`), longer than PostgreSQL's timeouts
    because a SQLite writer waits for every other writer, not for one row.
    ``sqlite_cache_kib``: SQLite's page cache of each connection, in KiB
    (``PRAGMA cache_size``; 0: SQLite's default, 2000 KiB).
    ``connect_timeout_s``: libpq's ``connect_timeout`` (0: wait as long as the
    network does).
    ``engine_kwargs`` go to :func:`sqlalchemy.create_engine` (pool sizes, echo).
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        busy_ms = sqlite_busy_timeout_ms if sqlite_busy_timeout_ms > 0 else SQLITE_BUSY_TIMEOUT_MS
        return _sqlite_engine(parsed, engine_kwargs, busy_ms / 1000, sqlite_cache_kib)
    if not pool_threads:
        # Imported here: the database module imports this one.
        from .database import default_threads

        pool_threads = default_threads("postgresql")
    connect_args = engine_kwargs["connect_args"] = dict(engine_kwargs.get("connect_args", {}))
    options = ["-c timezone=UTC"]
    if statement_timeout_ms > 0:
        options.append(f"-c statement_timeout={int(statement_timeout_ms)}")
    if lock_timeout_ms > 0:
        options.append(f"-c lock_timeout={int(lock_timeout_ms)}")
    # Timestamps come back in UTC; the column type converts anyway, this saves work.
    connect_args.setdefault("options", " ".join(options))
    if connect_timeout_s > 0:
        connect_args.setdefault("connect_timeout", int(connect_timeout_s))
    return _postgresql_engine(parsed, engine_kwargs, pool_threads)


def _sqlite_engine(
    url: URL, engine_kwargs: dict[str, Any], busy_s: float, cache_kib: int
) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise ValueError("use a file for SQLite (in-memory databases are not supported)")
    folder = os.path.dirname(os.path.abspath(database))
    os.makedirs(folder, exist_ok=True)
    connect_args = dict(engine_kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", busy_s)
    engine_kwargs.setdefault("pool_size", 10)
    engine_kwargs.setdefault("max_overflow", 30)
    engine = create_engine(url, connect_args=connect_args, **engine_kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Hand transaction control to SQLAlchemy (and to the begin hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_s * 1000)}")
            _ensure_wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if cache_kib > 0:
                # Negative: a size in KiB rather than a number of pages.
                cursor.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        finally:
            cursor.close()
        connection_record.info["query_only"] = False

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, True)
        pooled = conn.connection
        info = pooled.info
        # Straight on the DBAPI connection: these run on every transaction, and
        # SQLAlchemy's statement machinery would cost more than SQLite does.
        raw: Any = pooled.driver_connection
        if info.get("query_only", False) is write:
            raw.execute("PRAGMA query_only=" + ("OFF" if write else "ON"))
            info["query_only"] = not write
        raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _ensure_wal(cursor: Any) -> None:
    """Switch the file to WAL (a persistent setting: only its first opening does).

    Changing the journal mode answers "database is locked" at once, without the
    busy handler, while another connection is using the file, which happens when
    several workers open a new database together: retry until the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _postgresql_engine(url: URL, engine_kwargs: dict[str, Any], threads: int) -> Engine:
    connect_args = dict(engine_kwargs.pop("connect_args", {}))
    # psycopg prepares a statement on a connection the second time it runs there
    # (its prepared-statement cache is bounded: prepared_max, 100 by default). The
    # service's statements are built once, so a statement run twice runs again; a
    # prepared one skips the server's parse and plan. A rollback makes psycopg
    # forget them (DEALLOCATE ALL), which committed transactions never cause.
    connect_args.setdefault("prepare_threshold", 1)
    # As many kept connections as the database threads of a worker (see
    # SqlDatabase): past pool_size, SQLAlchemy closes every returned connection,
    # and a new PostgreSQL connection costs a process on the server.
    if "poolclass" not in engine_kwargs:
        engine_kwargs.setdefault("pool_size", threads)
        engine_kwargs.setdefault("max_overflow", 8)
    return create_engine(url, connect_args=connect_args, **engine_kwargs)


#: Rows SQLite's ``ANALYZE`` samples per index (``PRAGMA analysis_limit``): enough
#: for the planner to tell a covering index from another with the same columns in
#: front, and ~30 ms for every table at 1M messages, where a full ``ANALYZE``
#: reads the whole file.
SQLITE_ANALYSIS_LIMIT = 400


def refresh_statistics(conn: Connection) -> None:
    """Refresh the query planner's statistics, in ``conn``'s transaction.

    SQLite gathers none by itself: without them it weighs indexes with the same
    leading columns as equal, and can take one that makes it read every row of a
    range from the table (the evaluator's year at 1M messages: ~4 s against
    ~0.3 s). It runs ``ANALYZE`` with a small :data:`SQLITE_ANALYSIS_LIMIT`, as
    SQLite's documentation recommends for long-lived applications (``PRAGMA
    optimize``, which in SQLite 3.40 analyzes only tables the connection has
    queried). PostgreSQL's autovacuum keeps its own statistics: nothing to do."""
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
    conn.exec_driver_sql("ANALYZE")
