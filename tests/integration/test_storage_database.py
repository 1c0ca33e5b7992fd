"""SqlDatabase: one transaction per script, commit or roll back, sync and async."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import anyio
import anyio.to_thread
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
async def test_a_write_transaction_holds_the_write_lock_and_commits(database) -> None:
    """One door for reads and writes: ``write=True`` opens a transaction (on SQLite
    ``BEGIN IMMEDIATE`` under the process's write lock) that commits when the
    script returns."""

    def script(uow: SqlUnitOfWork) -> tuple[bool, bool]:
        uow.connection.execute(agencies.insert().values(code="dinas-pu", name="Dinas PU"))
        raw = uow.connection.connection.driver_connection
        if database.dialect == "postgresql":
            return not raw.autocommit, raw.info.transaction_status.name == "INTRANS"
        return raw.in_transaction, database._write_lock.locked()

    assert await database.transaction(script, write=True) == (True, True)
    found = await database.transaction(
        lambda uow: uow.directory.agency_by_code("dinas-pu"), write=False
    )
    assert found is not None


@pytest.mark.anyio
async def test_a_report_runs_under_the_report_statement_timeout(database, crypto) -> None:
    """``report=True``: PostgreSQL's ``statement_timeout`` for that transaction
    only (``SET LOCAL``); the next transaction on the connection has the
    service's again. A report is read-only."""
    reporting = SqlDatabase(
        make_engine(database.engine.url, pool_size=1, max_overflow=0, statement_timeout_ms=5000),
        crypto,
        report_statement_timeout_ms=60000,
    )

    def timeout(uow: SqlUnitOfWork) -> str | None:
        if uow.dialect != "postgresql":
            return None
        return uow.connection.exec_driver_sql("SHOW statement_timeout").scalar()

    try:
        during = await reporting.transaction(timeout, write=False, report=True)
        after = await reporting.transaction(timeout, write=False)
        if database.dialect == "postgresql":
            assert (during, after) == ("1min", "5s")
        else:
            assert (during, after) == (None, None)  # SQLite has no statement timeout
        with pytest.raises(ValueError, match="read-only"):
            await reporting.transaction(timeout, write=True, report=True)
    finally:
        reporting.dispose()


@pytest.mark.anyio
async def test_no_more_transactions_run_at_once_than_threads(database, crypto) -> None:
    """The worker threads are bounded (``threads``, ASPIRASI_DB_THREADS): with one,
    a second transaction starts only once the first has ended."""
    one = SqlDatabase(database.engine, crypto, threads=1)
    first_running, second_started = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first(uow: SqlUnitOfWork) -> None:
        first_running.set()
        # The second cannot start while this one holds the only thread: the wait
        # runs out (a limiter that let it through would set the event at once).
        seen.append(second_started.wait(0.5))

    def second(uow: SqlUnitOfWork) -> None:
        second_started.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: one.transaction(first, write=False))
        await anyio.to_thread.run_sync(first_running.wait, 10)
        tg.start_soon(lambda: one.transaction(second, write=False))
    assert seen == [False] and second_started.is_set()


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
