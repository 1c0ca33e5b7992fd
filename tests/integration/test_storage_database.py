"""SqlDatabase: one transaction per script, commit or roll back, sync and async."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from aspirasi_core.storage import SqlDatabase, SqlUnitOfWork, create_database, upgrade
from aspirasi_core.storage.engine import make_engine
from aspirasi_core.storage.tables import agencies, metadata


def test_a_script_commits_when_it_returns(database) -> None:
    agency = database.run_sync(lambda uow: uow.directory.add_agency("dinas-pu", "Dinas PU"))
    assert database.run_sync(lambda uow: uow.directory.agency(agency.id), write=False) == agency


def test_a_script_rolls_back_when_it_raises(database) -> None:
    def script(uow: SqlUnitOfWork) -> None:
        uow.directory.add_agency("dinas-pu", "Dinas PU")
        uow.outbox.add("mail", {"to": "x"}, created_at=datetime.now(UTC))
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        database.run_sync(script)
    assert database.run_sync(lambda uow: uow.directory.agencies(include_inactive=True)) == []
    assert database.run_sync(lambda uow: uow.outbox.list()) == []


def test_the_unit_of_work_exposes_every_repository_on_one_connection(database) -> None:
    def script(uow: SqlUnitOfWork) -> tuple:
        return (
            uow.dialect,
            {
                type(r).__name__
                for r in (
                    uow.accounts,
                    uow.tokens,
                    uow.messages,
                    uow.notifications,
                    uow.directory,
                    uow.outbox,
                )
            },
            uow.connection.in_transaction(),
        )

    dialect, names, in_transaction = database.run_sync(script)
    assert dialect == database.dialect and database.dialect in ("sqlite", "postgresql")
    assert len(names) == 6 and in_transaction


@pytest.mark.anyio
async def test_transaction_runs_in_a_worker_thread(database) -> None:
    loop_thread = threading.get_ident()

    def script(uow: SqlUnitOfWork) -> int:
        assert threading.get_ident() != loop_thread
        return uow.directory.add_agency("dinas-pu", "Dinas PU").id

    agency_id = await database.transaction(script)
    found = await database.transaction(lambda uow: uow.directory.agency(agency_id), write=False)
    assert found is not None and found.code == "dinas-pu"
    with pytest.raises(ZeroDivisionError):
        await database.transaction(lambda uow: (uow.directory.add_agency("x", "X"), 1 / 0))
    assert await database.transaction(lambda uow: uow.directory.agency_by_code("x")) is None


@pytest.mark.anyio
async def test_a_single_statement_commits_on_its_own(database) -> None:
    """On PostgreSQL in autocommit (no BEGIN/COMMIT round trips), in a worker
    thread; on SQLite a write transaction (it holds the write lock)."""
    loop_thread = threading.get_ident()

    def script(uow: SqlUnitOfWork) -> tuple[bool, bool]:
        assert threading.get_ident() != loop_thread
        uow.connection.execute(agencies.insert().values(code="dinas-pu", name="Dinas PU"))
        raw = uow.connection.connection.driver_connection
        if database.dialect == "postgresql":
            # IDLE: the insert has committed already, no transaction is open.
            return bool(raw.autocommit), raw.info.transaction_status.name == "IDLE"
        return raw.in_transaction, database._write_lock.locked()

    autocommit_or_open, flag = await database.single_statement(script)
    if database.dialect == "postgresql":
        assert autocommit_or_open is True and flag is True  # autocommit, committed
    else:
        assert autocommit_or_open is True and flag is True  # in BEGIN IMMEDIATE, locked
    found = await database.read(lambda uow: uow.directory.agency_by_code("dinas-pu"))
    assert found is not None


@pytest.mark.anyio
async def test_a_single_statement_gives_its_connection_back_transactional(database, crypto) -> None:
    """On PostgreSQL the one pooled connection leaves autocommit when it goes back:
    the next transaction on it has BEGIN and COMMIT (and can roll back)."""
    if database.dialect != "postgresql":
        pytest.skip("autocommit is PostgreSQL's path")
    one = SqlDatabase(make_engine(database.engine.url, pool_size=1, max_overflow=0), crypto)
    try:
        await one.single_statement(
            lambda uow: uow.connection.execute(agencies.insert().values(code="a", name="A"))
        )
        assert (
            one.run_sync(lambda uow: uow.connection.connection.driver_connection.autocommit)
            is False
        )
        with pytest.raises(ZeroDivisionError):
            one.run_sync(
                lambda uow: (
                    uow.connection.execute(agencies.insert().values(code="b", name="B")),
                    1 / 0,
                )
            )
        assert one.run_sync(lambda uow: uow.directory.agency_by_code("b")) is None
    finally:
        one.dispose()


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_every_test_starts_from_the_freshly_migrated_state(database, round_) -> None:
    # Run three times: with a reused PostgreSQL database, the earlier rounds' rows
    # and sequence values must be gone.
    with database.engine.connect() as conn:
        counts = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }
    assert counts.pop("categories") == 2
    assert set(counts.values()) == {0}
    assert database.run_sync(lambda uow: uow.directory.add_agency("a", "A")).id == 1
    assert database.run_sync(lambda uow: uow.directory.add_category("c", "C")).id == 3


def test_create_database_and_dispose(sqlite_url, crypto) -> None:
    db = create_database(sqlite_url, crypto)
    try:
        assert isinstance(db, SqlDatabase) and db.dialect == "sqlite"
        upgrade(db.engine)
        assert len(db.run_sync(lambda uow: uow.directory.categories())) == 2
        assert "aspirasi.db" in repr(db)
    finally:
        db.dispose()
