"""storage/fast.py: precompiled statements give exactly what SQLAlchemy gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import pq
from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    LargeBinary,
    String,
    bindparam,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

from aspirasi_core.security.crypto import Crypto
from aspirasi_core.storage import fast
from aspirasi_core.storage.database import SqlDatabase
from aspirasi_core.storage.engine import make_engine
from aspirasi_core.storage.tables import agencies, auth_tokens
from aspirasi_core.storage.types import UTCDateTime

aware = st.datetimes(
    min_value=datetime(1000, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)
_SQLITE = sqlite.dialect()
_PG = postgresql.psycopg.dialect()
_BIND = UTCDateTime()._cached_bind_processor(_SQLITE)


@settings(max_examples=300)
@given(aware)
def test_sqlite_bind_is_sqlalchemys_text(value: datetime) -> None:
    assert fast._sqlite_utc_bind(value) == _BIND(value)


@settings(max_examples=300)
@given(aware)
def test_sqlite_result_is_utcdatetimes_value(value: datetime) -> None:
    text = _BIND(value)
    ours = fast._sqlite_utc(text)
    theirs = UTCDateTime().process_result_value(datetime.fromisoformat(text), _SQLITE)
    assert ours == theirs == value
    assert ours is not None and ours.tzinfo is UTC


def test_sqlite_bind_refuses_what_utcdatetime_refuses() -> None:
    with pytest.raises(ValueError, match="naive"):
        fast._sqlite_utc_bind(datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        fast._sqlite_utc_bind("2026-01-01")
    assert fast._sqlite_utc_bind(None) is None and fast._sqlite_utc(None) is None
    # text that already carries an offset is still read right
    assert fast._sqlite_utc("2026-01-01 08:00:00+08:00") == datetime(2026, 1, 1, tzinfo=UTC)


_INSERT = fast.insert_statement(
    auth_tokens,
    "account_id",
    "purpose",
    "token_hash",
    "created_at",
    "expires_at",
    "auth_version",
    returning="id",
)
_SELECT = select(
    auth_tokens.c.id, auth_tokens.c.created_at, auth_tokens.c.expires_at, auth_tokens.c.token_hash
).where(
    auth_tokens.c.account_id == bindparam("account_id"),
    auth_tokens.c.created_at >= bindparam("since", type_=UTCDateTime),
)


def test_rows_match_sqlalchemy_on_both_databases(database, make) -> None:
    account = make.account()
    t0 = datetime(2026, 11, 2, 1, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))

    def script(uow):
        conn = uow.connection
        ids = [
            fast.rows(
                conn,
                _INSERT,
                {
                    "account_id": account.id,
                    "purpose": "api",
                    "token_hash": bytes([i]) * 32,
                    "created_at": t0 + timedelta(minutes=i),
                    "expires_at": t0 + timedelta(days=i),
                    "auth_version": 1,
                },
            )[0].id
            for i in range(3)
        ]
        params = {"account_id": account.id, "since": t0 + timedelta(minutes=1)}
        ours = fast.rows(conn, _SELECT, params)
        theirs = conn.execute(_SELECT, params).all()
        return ids, ours, theirs

    ids, ours, theirs = database.run_sync(script)
    assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
    assert [r.id for r in ours] == ids[1:]
    assert ours[0].created_at == t0 + timedelta(minutes=1)
    assert ours[0].created_at.tzinfo is not None and ours[0].created_at.utcoffset() == timedelta(0)


_TEXT = text("SELECT 1 AS one, 'two' AS two")


def test_a_bare_text_statement_takes_sqlalchemys_path(database) -> None:
    """``text()`` does not say whether it returns rows: it is not run as compiled
    (which would fetch nothing), and still gives its rows."""
    found = database.run_sync(lambda uow: fast.rows(uow.connection, _TEXT, {}), write=False)
    assert [tuple(r) for r in found] == [(1, "two")]
    assert found[0].one == 1


# --------------------------------------------------------------------------- PostgreSQL
# On PostgreSQL a plan runs through libpq: its own prepared statements, the
# transaction's BEGIN in the round trip of the first statement.


def test_placeholders_are_numbered_for_libpq() -> None:
    stmt = select(
        bindparam("a", type_=Integer) + bindparam("b", type_=Integer),
        bindparam("a", type_=Integer),
        literal_column("'50%'").label("pct"),
    )
    sql, order = fast._numbered(stmt.compile(dialect=_PG))
    assert order == ("a", "b")
    assert b"$1" in sql and b"$2" in sql and b"$3" not in sql
    assert b"%(" not in sql and b"'50%'" in sql and b"%%" not in sql


def _one_connection(pg_database: SqlDatabase, crypto: Crypto) -> SqlDatabase:
    """A database on one pooled connection, so every call sees the same session."""
    return SqlDatabase(
        make_engine(pg_database.engine.url, pool_size=1, max_overflow=0), crypto, threads=1
    )


_ADD_AGENCY = fast.insert_statement(agencies, "code", "name")
_AGENCY = select(agencies.c.id, agencies.c.name).where(agencies.c.code == bindparam("code"))


def test_the_first_statement_begins_the_transaction(pg_database, crypto) -> None:
    """The BEGIN sent along with the first statement makes it part of the
    transaction: rolled back with it, and the connection is in a transaction."""
    one = _one_connection(pg_database, crypto)
    try:

        def script(uow):
            fast.rows(uow.connection, _ADD_AGENCY, {"code": "rolled", "name": "Back"})
            status = uow.connection.connection.driver_connection.pgconn.transaction_status
            assert status == pq.TransactionStatus.INTRANS
            raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            one.run_sync(script)
        found = one.run_sync(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "rolled"}))
        assert found == []
        one.run_sync(lambda uow: fast.rows(uow.connection, _ADD_AGENCY, {"code": "k", "name": "K"}))
        found = one.run_sync(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "k"}))
        assert [r.name for r in found] == ["K"]
    finally:
        one.dispose()


def test_statements_outlive_a_rollback(pg_database, crypto) -> None:
    """psycopg, once it has prepared statements of its own, answers a rollback with
    DEALLOCATE ALL: the engine tells it to prepare none, so ours stay."""
    one = _one_connection(pg_database, crypto)
    try:
        one.run_sync(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "x"}))

        def busy_then_fail(uow):
            for _ in range(8):  # past psycopg's default prepare threshold (5)
                uow.connection.execute(select(agencies.c.id).where(agencies.c.code == "y")).all()
            raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            one.run_sync(busy_then_fail)
        # In a transaction, a missing statement could not be prepared again.
        assert one.run_sync(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "x"})) == []
    finally:
        one.dispose()


@pytest.mark.anyio
async def test_a_deallocated_statement_is_prepared_again(pg_database, crypto) -> None:
    one = _one_connection(pg_database, crypto)

    def deallocate(uow):
        uow.connection.exec_driver_sql("DEALLOCATE ALL")

    try:
        one.run_sync(lambda uow: fast.rows(uow.connection, _ADD_AGENCY, {"code": "d", "name": "D"}))
        await one.read(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "d"}))
        # Outside a transaction (autocommit reads): prepared again and run at once.
        await one.read(deallocate)
        found = await one.read(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "d"}))
        assert [r.name for r in found] == ["D"]
        # Inside one, the error has aborted it: it fails, and the next one works.
        await one.read(deallocate)
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            one.run_sync(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "d"}))
        found = one.run_sync(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "d"}))
        assert [r.name for r in found] == ["D"]
    finally:
        one.dispose()


_UNCAST = select(
    bindparam("data", type_=LargeBinary),
    bindparam("flag", type_=Boolean),
    bindparam("doc", type_=JSON),
    bindparam("word", type_=String),
)


def test_parameters_without_a_cast_keep_their_type(pg_database) -> None:
    """A bare ``$n`` in a select list would be text: bytes, booleans and JSON are
    prepared with their types (as in ``INSERT … SELECT``)."""
    params = {"data": b"\x00\xffabc", "flag": False, "doc": {"a": [1, "b"]}, "word": "kata"}
    ours = pg_database.run_sync(lambda uow: fast.rows(uow.connection, _UNCAST, params))
    theirs = pg_database.run_sync(lambda uow: uow.connection.execute(_UNCAST, params).all())
    assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
    assert tuple(ours[0]) == (b"\x00\xffabc", False, {"a": [1, "b"]}, "kata")


_ADD_AGENCY_2 = fast.insert_statement(agencies, "code", "name")


def test_a_server_error_is_psycopgs_and_the_statement_stays_prepared(pg_database, crypto) -> None:
    """A statement whose first run fails was prepared all the same (in the same
    round trip): the next run uses it instead of preparing it twice."""
    one = _one_connection(pg_database, crypto)
    add = fast.rows
    try:
        one.run_sync(lambda uow: add(uow.connection, _ADD_AGENCY, {"code": "u", "name": "U"}))
        with pytest.raises(psycopg.errors.UniqueViolation):
            one.run_sync(lambda uow: add(uow.connection, _ADD_AGENCY_2, {"code": "u", "name": "V"}))
        one.run_sync(lambda uow: add(uow.connection, _ADD_AGENCY_2, {"code": "w", "name": "W"}))
        found = one.run_sync(lambda uow: fast.rows(uow.connection, _AGENCY, {"code": "u"}))
        assert [r.name for r in found] == ["U"]
    finally:
        one.dispose()


def test_an_insert_without_returning_returns_nothing_on_postgresql() -> None:
    """SQLAlchemy would add ``RETURNING id`` (implicit returning): a row for nobody."""
    stmt = fast.insert_statement(agencies, "code", "name", returning=None)
    assert "RETURNING" not in str(stmt.compile(dialect=_PG))
    assert "RETURNING agencies.id" in str(
        fast.insert_statement(agencies, "code", "name").compile(dialect=_PG)
    )
