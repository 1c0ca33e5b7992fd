"""storage/fast.py: precompiled statements give exactly what SQLAlchemy gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import sqlite

from aspirasi_core.storage import fast
from aspirasi_core.storage.tables import auth_tokens
from aspirasi_core.storage.types import UTCDateTime

aware = st.datetimes(
    min_value=datetime(1000, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)
_SQLITE = sqlite.dialect()
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
