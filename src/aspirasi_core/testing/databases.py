"""Database fixtures of :mod:`aspirasi_core.testing` (the core's own tests and
plugins' tests use the same).

* ``crypto`` — a :class:`Crypto` with a fixed test key.
* ``sqlite_url`` — a fresh SQLite file under ``tmp_path`` (nothing in it yet).
* ``pg_url`` — a fresh, empty PostgreSQL database ``aspirasi_t_<hex>``, dropped
  afterwards. The server is ``postgresql://postgres@127.0.0.1:5432/test`` unless
  ``ASPIRASI_TEST_PG_URL`` names another admin URL. Unreachable: the test is skipped
  with the reason, or fails when the ``CI`` variable is set.
* ``database_url`` — ``sqlite_url`` or ``pg_url`` (ids ``sqlite`` and ``pg``), empty.
* ``database`` — a migrated :class:`SqlDatabase` on both (ids ``sqlite`` and ``pg``),
  disposed afterwards; ``sqlite_database`` / ``pg_database`` — on one of them.

Tests that use PostgreSQL are marked ``postgres`` automatically.

Migrated databases are cheap: SQLite ones are copies of a file migrated once per
session, PostgreSQL ones come from a per-session pool of migrated databases that are
emptied between tests (rows deleted, the migration's own rows put back, sequences
reset). A database a test changed beyond rows (a plugin's migration, a new table) is
dropped rather than reused, so every test starts from exactly the migrated state.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from aspirasi_core.security.crypto import Crypto
from aspirasi_core.storage import SqlDatabase, make_engine, upgrade
from aspirasi_core.storage.engine import normalize_url
from aspirasi_core.storage.tables import metadata

TEST_SECRET_KEY = "test-secret-key-" * 3
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_FIXTURES = frozenset({"pg_url", "pg_database"})
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="pg", marks=pytest.mark.postgres),
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if set(getattr(item, "fixturenames", ())) & PG_FIXTURES:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def crypto() -> Crypto:
    return Crypto(TEST_SECRET_KEY)


# --------------------------------------------------------------------------- SQLite


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'aspirasi.db'}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; tests get copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "aspirasi.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    # Fold the WAL into the main file so copying that one file is enough.
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


# --------------------------------------------------------------------------- PostgreSQL


class _PgServer:
    """The admin connection to the test server (opened once per session) and a pool
    of migrated databases handed out to ``pg_database``/``database``."""

    def __init__(self) -> None:
        raw = os.environ.get("ASPIRASI_TEST_PG_URL") or DEFAULT_PG_ADMIN_URL
        self.given_url: URL = make_url(raw)
        self.url: URL = normalize_url(raw)
        self.engine: Engine | None = None
        self.error: str | None = None
        self.free: list[_PgMigrated] = []
        self.created: set[str] = set()

    def admin(self) -> Engine:
        if self.engine is None and self.error is None:
            engine = create_engine(
                self.url,
                isolation_level="AUTOCOMMIT",
                poolclass=NullPool,
                connect_args={"connect_timeout": 3},
            )
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
            except OperationalError as exc:
                safe = self.url.render_as_string(hide_password=True)
                self.error = f"PostgreSQL is unreachable at {safe}: {exc.orig}".strip()
            else:
                self.engine = engine
        if self.engine is None:
            message = f"{self.error} (set ASPIRASI_TEST_PG_URL to use another server)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        return self.engine

    def create(self) -> str:
        name = f"aspirasi_t_{secrets.token_hex(6)}"
        with self.admin().connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.add(name)
        return name

    def drop(self, name: str) -> None:
        self.created.discard(name)
        with self.admin().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url_of(self, name: str) -> str:
        return self.given_url.set(database=name).render_as_string(hide_password=False)

    def acquire_migrated(self) -> _PgMigrated:
        self.admin()
        if self.free:
            return self.free.pop()
        name = self.create()
        return _PgMigrated(name, self.url_of(name))

    def release_migrated(self, db: _PgMigrated) -> None:
        try:
            db.reset()
        except Exception:
            self.drop(db.name)
        else:
            self.free.append(db)

    def close(self) -> None:
        if self.engine is not None:
            for name in list(self.created):
                self.drop(name)
            self.engine.dispose()


class _PgMigrated:
    """A migrated PostgreSQL database and what it held right after the migration."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        engine = make_engine(url, poolclass=NullPool)
        try:
            upgrade(engine)
            with engine.connect() as conn:
                self.heads = self._heads(conn)
                self.tables = self._tables(conn)
                self.rows = {
                    table: [dict(r) for r in conn.execute(select(table)).mappings()]
                    for table in metadata.sorted_tables
                }
                sequences = []
                for table in metadata.sorted_tables:
                    if "id" in table.c and table.c.id.primary_key:
                        seq = conn.exec_driver_sql(
                            "SELECT pg_get_serial_sequence(%(t)s, 'id')", {"t": f'"{table.name}"'}
                        ).scalar()
                        if seq:
                            # (names of the core's own tables, not input)
                            biggest = f'(SELECT max(id) FROM "{table.name}")'  # noqa: S608
                            sequences.append(f"setval('{seq}', COALESCE({biggest}, 0) + 1, false)")
                self.reset_sequences = "SELECT " + ", ".join(sequences)
        finally:
            engine.dispose()

    @staticmethod
    def _heads(conn: Any) -> set[str]:
        return set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())

    @staticmethod
    def _tables(conn: Any) -> set[tuple[str, str]]:
        rows = conn.exec_driver_sql(
            "SELECT n.nspname, c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
            " AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i')"
        )
        return {(r[0], r[1]) for r in rows}

    def reset(self) -> None:
        """Back to the freshly migrated state, or raise when that is not possible."""
        engine = make_engine(self.url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                if self._heads(conn) != self.heads or self._tables(conn) != self.tables:
                    raise RuntimeError("the schema changed; not reusable")
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
                for table, rows in self.rows.items():
                    if rows:
                        conn.execute(table.insert(), rows)
                conn.exec_driver_sql(self.reset_sequences)
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def _pg_server() -> Iterator[_PgServer]:
    server = _PgServer()
    yield server
    server.close()


@pytest.fixture
def pg_url(_pg_server: _PgServer) -> Iterator[str]:
    name = _pg_server.create()
    try:
        yield _pg_server.url_of(name)
    finally:
        _pg_server.drop(name)


# --------------------------------------------------------------------------- both


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


def _sqlite_database(request: pytest.FixtureRequest, crypto: Crypto) -> Iterator[SqlDatabase]:
    url = str(request.getfixturevalue("sqlite_url"))
    template: Path = request.getfixturevalue("_sqlite_template")
    target = Path(make_url(url).database or "")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    db = SqlDatabase(make_engine(url), crypto)
    try:
        yield db
    finally:
        db.dispose()


def _pg_database(request: pytest.FixtureRequest, crypto: Crypto) -> Iterator[SqlDatabase]:
    server: _PgServer = request.getfixturevalue("_pg_server")
    migrated = server.acquire_migrated()
    db = SqlDatabase(make_engine(migrated.url), crypto)
    try:
        yield db
    finally:
        db.dispose()
        server.release_migrated(migrated)


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, crypto: Crypto) -> Iterator[SqlDatabase]:
    if request.param == "sqlite":
        yield from _sqlite_database(request, crypto)
    else:
        yield from _pg_database(request, crypto)


@pytest.fixture
def sqlite_database(request: pytest.FixtureRequest, crypto: Crypto) -> Iterator[SqlDatabase]:
    yield from _sqlite_database(request, crypto)


@pytest.fixture
def pg_database(request: pytest.FixtureRequest, crypto: Crypto) -> Iterator[SqlDatabase]:
    yield from _pg_database(request, crypto)
