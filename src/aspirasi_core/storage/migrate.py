"""Alembic migrations, configured in code (there is no ``alembic.ini``).

The core keeps its revisions in ``migrations/versions`` on the branch
``aspirasi_core``; each plugin keeps its own version folder and branch (its first
revision ``depends_on`` the core revision it needs), so upgrades go to ``heads``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine

from .engine import WRITE_OPTION, make_engine, refresh_statistics

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CORE_VERSIONS_DIR = MIGRATIONS_DIR / "versions"
CORE_BRANCH = "aspirasi_core"

#: Key of the PostgreSQL advisory lock that lets one process migrate at a time.
_PG_MIGRATION_LOCK = 0x61737069  # "aspi"


def _escape(value: str) -> str:
    # Config values go through configparser interpolation.
    return value.replace("%", "%%")


def make_config(
    connection: Connection | None = None,
    extra_locations: Iterable[str | os.PathLike[str]] = (),
    *,
    settings: Any = None,
) -> Config:
    """An Alembic config for the core's migrations plus ``extra_locations``.

    ``connection`` reaches ``env.py`` through ``config.attributes['connection']``;
    ``settings`` (:class:`~aspirasi_core.settings.Settings`, or None) reaches the
    revisions whose backfill follows them (``0012_sop_kept``: the SOP) through
    ``config.attributes['settings']``.
    """
    config = Config()
    config.set_main_option("script_location", _escape(str(MIGRATIONS_DIR)))
    config.set_main_option("path_separator", "os")
    locations = [str(CORE_VERSIONS_DIR), *(str(Path(p).resolve()) for p in extra_locations)]
    config.set_main_option("version_locations", _escape(os.pathsep.join(dict.fromkeys(locations))))
    config.attributes["connection"] = connection
    config.attributes["settings"] = settings
    return config


@contextmanager
def _engine(engine_or_url: Engine | str) -> Iterator[Engine]:
    if isinstance(engine_or_url, Engine):
        yield engine_or_url
        return
    engine = make_engine(engine_or_url)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(
    engine_or_url: Engine | str,
    extra_locations: Iterable[str | os.PathLike[str]] = (),
    *,
    target: str = "heads",
    settings: Any = None,
) -> None:
    """Upgrade the database to ``target`` (default: every branch head) in one transaction.

    ``extra_locations`` are the version folders of plugins; pass the folder of every
    plugin that was ever migrated here, or Alembic cannot find the recorded revision.
    ``settings``: what a revision's backfill follows (the SOP of ``0012_sop_kept``);
    None: the environment's (:meth:`Settings.from_env <aspirasi_core.settings.Settings.from_env>`).

    Safe to run from several processes at once: PostgreSQL takes an advisory lock,
    SQLite's ``BEGIN IMMEDIATE`` takes the write lock. On SQLite foreign keys are off
    while migrating (Alembic's batch mode rebuilds tables, and dropping the old copy
    would fire ``ON DELETE CASCADE``) and checked before the commit.
    """
    with _engine(engine_or_url) as engine, engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Outside any transaction, or SQLite ignores the pragma.
            _raw_sqlite(conn).execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if not sqlite:
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
                command.upgrade(make_config(conn, extra_locations, settings=settings), target)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:10]}")
        finally:
            if sqlite:
                _raw_sqlite(conn).execute("PRAGMA foreign_keys=ON")
        if sqlite:
            with conn.begin():
                refresh_statistics(conn)


def _raw_sqlite(conn: Connection) -> Any:
    return conn.connection.driver_connection


def current(engine_or_url: Engine | str) -> set[str]:
    """The revisions the database is at (empty when never migrated)."""
    with _engine(engine_or_url) as engine, engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: False})
        with conn.begin():
            return set(MigrationContext.configure(conn).get_current_heads())
