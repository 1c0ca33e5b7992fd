"""Run a cached Core statement straight on the DBAPI cursor of a transaction.

SQLAlchemy's ``Connection.execute`` costs 50–100 µs of Python per statement (cache
key, execution context, result metadata, row objects) — more than an indexed SQLite
look-up itself, and most of a hot request's budget (see docs/performance.md).
:func:`rows` compiles a statement once per dialect and then only binds, executes
and converts, with the same bind and result processors SQLAlchemy would apply, so
the values are exactly those of ``conn.execute(stmt, params)``.

On PostgreSQL a plan runs through libpq itself (psycopg's ``pgconn``, its C
generators and its loaders), not a psycopg cursor: the cursor's own Python cost
~40 µs per statement, about what a round trip costs. Each statement is prepared
once per connection, and the ``BEGIN`` of a transaction travels in the same round
trip as its first statement (libpq's pipeline mode). psycopg itself prepares
nothing (``prepare_threshold=None``, see :mod:`.engine`): once it has statements of
its own, it answers a rollback with ``DEALLOCATE ALL``.

Use it only with statements built once (module level or ``functools.cache``): the
plan is cached on the statement object. Statements the fast path cannot run as
compiled (expanding ``IN`` parameters, post-compile parameters) silently take
SQLAlchemy's path, and so does a bare ``text()`` (its columns are unknown).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    LargeBinary,
    Table,
    TypeDecorator,
    bindparam,
    insert,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import TextClause

from .types import UTCDateTime

_fromisoformat = datetime.fromisoformat


def _sqlite_utc(value: str | None) -> datetime | None:
    """SQLite's naive UTC text (``2026-11-02 01:00:00.000000``) → an aware UTC datetime.

    Parsing the text with ``+00:00`` appended is one C call (``.replace(tzinfo=…)``
    costs seven times as much in Python 3.11); a list page converts a hundred."""
    if value is None:
        return None
    try:
        return _fromisoformat(value + "+00:00")
    except ValueError:  # not our naive text: parse it as it is
        parsed = _fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _sqlite_utc_bind(value: Any) -> str | None:
    """:class:`UTCDateTime`'s bind on SQLite (naive UTC text with microseconds), in
    a few C calls: the same text as ``process_bind_param`` plus SQLite's DATETIME."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetimes are not stored; pass a timezone-aware UTC value")
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


class _Plan(NamedTuple):
    sql: str
    #: PostgreSQL: the statement with ``$n`` placeholders, the bind names in that
    #: order (one per placeholder number), and the name it is prepared under on
    #: every connection; None elsewhere.
    pg_sql: bytes | None
    pg_order: tuple[str, ...] | None
    pg_name: bytes | None
    #: The parameter types it is prepared with (0: the server infers the type).
    pg_types: tuple[int, ...] | None
    #: Bind names in placeholder order (positional paramstyles) or None (named).
    order: tuple[str, ...] | None
    defaults: dict[str, Any]
    bind_processors: dict[str, Callable[[Any], Any]]
    row_type: Callable[..., Any]
    #: Whether the statement returns rows (a select, a RETURNING).
    returns_rows: bool
    #: (column index, result processor) for the columns that need one.
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]


#: (id of the statement, dialect) → (the statement, its plan or None for "not fast").
_plans: dict[tuple[int, str], tuple[ClauseElement, _Plan | None]] = {}


def _make_plan(stmt: ClauseElement, dialect: Dialect) -> _Plan | None:
    if isinstance(stmt, TextClause):
        # Its result columns are unknown until it runs (``text().columns()`` is a
        # TextualSelect and knows them): SQLAlchemy's path.
        return None
    compiled: Any = stmt.compile(dialect=dialect)
    if any(b.expanding for b in compiled.binds.values()) or compiled.literal_execute_params:
        return None
    if getattr(compiled, "post_compile_params", None):
        return None
    positional = dialect.paramstyle in ("qmark", "numeric", "format")
    if positional and dialect.paramstyle != "qmark":
        return None  # only SQLite's qmark and psycopg's pyformat are used here
    order = tuple(compiled.positiontup) if positional else None
    procs = {k: v for k, v in compiled._bind_processors.items() if v is not None and callable(v)}
    if dialect.name == "sqlite":
        for name, bind in compiled.binds.items():
            if isinstance(bind.type, UTCDateTime) and name in procs:
                procs[name] = _sqlite_utc_bind
    columns = compiled._result_columns or []
    names = [c.keyname for c in columns]
    converters = []
    for i, col in enumerate(columns):
        if dialect.name == "sqlite" and isinstance(col.type, UTCDateTime):
            converters.append((i, _sqlite_utc))  # what UTCDateTime gives, in one C call
            continue
        proc = col.type._cached_result_processor(dialect, None)
        if proc is not None:
            converters.append((i, proc))
    row_type: Any = collections.namedtuple("FastRow", names, rename=True)  # type: ignore[misc]
    pg_sql, pg_order = _numbered(compiled) if dialect.name == "postgresql" else (None, None)
    pg_types = None
    if pg_order is not None:
        pg_types = tuple(_pg_type_oid(compiled.binds[n].type) for n in pg_order)
    return _Plan(
        sql=compiled.string,
        pg_sql=pg_sql,
        pg_order=pg_order,
        pg_name=None if pg_sql is None else b"aspirasi_%d" % next(_statement_numbers),
        pg_types=pg_types,
        order=order,
        defaults=dict(compiled.params),
        bind_processors=procs,
        row_type=row_type,
        returns_rows=bool(columns),
        converters=tuple(converters),
    )


_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")
_statement_numbers = itertools.count(1)


def _numbered(compiled: Any) -> tuple[bytes, tuple[str, ...]]:
    """psycopg's SQL (``%(name)s`` placeholders, ``%%`` for a percent sign) as libpq
    wants it (``$1``, ``$2``… with a name used twice getting one number), and the bind
    names in number order."""
    escaped: dict[str, str] = getattr(compiled, "escaped_bind_names", None) or {}
    original = {v: k for k, v in escaped.items()}
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"
        placeholder = match.group(1)
        name = original.get(placeholder, placeholder)
        return f"${numbers.setdefault(name, len(numbers) + 1)}"

    sql = _PLACEHOLDER.sub(number, compiled.string)
    return sql.encode(), tuple(numbers)


def _pg_type_oid(type_: Any) -> int:
    """The PostgreSQL type a parameter is prepared with: 0 (the server infers it)
    unless SQLAlchemy writes no cast around its placeholder and the server could
    infer wrong (a bare ``$1`` in a select list is text): binary data, booleans,
    JSON."""
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, JSONB):
        return 3802
    if isinstance(type_, JSON):
        return 114
    if isinstance(type_, LargeBinary):
        return 17
    if isinstance(type_, Boolean):
        return 16
    return 0


class _Libpq(NamedTuple):
    """What the PostgreSQL path uses of psycopg, imported once it is first needed
    (a SQLite worker never loads psycopg)."""

    transformer: Any
    text_format: Any
    wait: Callable[..., Any]
    execute: Callable[[Any], Any]
    send: Callable[[Any], Any]
    fetch_many: Callable[[Any], Any]
    error_from_result: Callable[..., Exception]
    idle: Any
    ok: frozenset[Any]


@functools.cache
def _libpq() -> _Libpq:
    from psycopg import errors, generators, pq, waiting
    from psycopg.adapt import PyFormat, Transformer

    return _Libpq(
        transformer=Transformer,
        text_format=PyFormat.TEXT,
        wait=waiting.wait,
        execute=generators.execute,
        send=generators.send,
        fetch_many=generators.fetch_many,
        error_from_result=errors.error_from_result,
        idle=pq.TransactionStatus.IDLE,
        ok=frozenset({pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK}),
    )


#: Seconds between checks for an interrupt while waiting on the server (psycopg's).
_WAIT_INTERVAL = 0.1


def _begin_command(raw: Any) -> bytes:
    """The ``BEGIN`` psycopg sends before the first statement of a transaction, with
    the connection's isolation level, read-only and deferrable settings."""
    parts = [b"BEGIN"]
    if raw.isolation_level is not None:
        parts.append(b"ISOLATION LEVEL " + raw.isolation_level.name.replace("_", " ").encode())
    if raw.read_only is not None:
        parts.append(b"READ ONLY" if raw.read_only else b"READ WRITE")
    if raw.deferrable is not None:
        parts.append(b"DEFERRABLE" if raw.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _pipelined(raw: Any, lib: _Libpq, commands: list[Callable[[], None]]) -> list[Any]:
    """Send ``commands`` (libpq ``send_*`` calls) in one pipeline ending in a sync,
    so they cost one round trip; the last result of each command."""
    pgconn = raw.pgconn
    socket = pgconn.socket
    pgconn.enter_pipeline_mode()
    done = False
    try:
        for command in commands:
            command()
        pgconn.pipeline_sync()
        lib.wait(lib.send(pgconn), socket, interval=_WAIT_INTERVAL)
        results = [
            lib.wait(lib.fetch_many(pgconn), socket, interval=_WAIT_INTERVAL)[-1]
            for _ in range(len(commands) + 1)  # and the sync's
        ]
        done = True
    finally:
        if done:
            pgconn.exit_pipeline_mode()
        else:  # the connection is unusable anyway: keep the first error
            with contextlib.suppress(Exception):
                pgconn.exit_pipeline_mode()
    return results[:-1]


#: SQLSTATE of "prepared statement does not exist".
_UNKNOWN_STATEMENT = "26000"


def _send_prepared(
    raw: Any, lib: _Libpq, plan: _Plan, name: bytes, params: Any, prepared: set[bytes]
) -> list[Any]:
    """Execute the prepared ``name``, preparing it first if this connection has not,
    and starting the transaction if it is the first statement of one: all in one
    round trip. The results (errors included) of what was sent."""
    pgconn = raw.pgconn
    commands: list[Callable[[], None]] = []
    if not raw.autocommit and pgconn.transaction_status == lib.idle:
        commands.append(functools.partial(pgconn.send_query_params, _begin_command(raw), None))
    prepare_at = -1
    if name not in prepared:
        prepare_at = len(commands)
        commands.append(functools.partial(pgconn.send_prepare, name, plan.pg_sql, plan.pg_types))
    if not commands:
        pgconn.send_query_prepared(name, params, None, 0)
        return lib.wait(lib.execute(pgconn), pgconn.socket, interval=_WAIT_INTERVAL)  # type: ignore[no-any-return]
    commands.append(functools.partial(pgconn.send_query_prepared, name, params, None, 0))
    results = _pipelined(raw, lib, commands)
    if prepare_at >= 0 and results[prepare_at].status in lib.ok:
        prepared.add(name)
    return results


def _pg_fetch(raw: Any, plan: _Plan, values: Mapping[str, Any]) -> list[Any]:
    """Run ``plan`` on a psycopg connection straight through libpq: the rows
    ``cursor.execute`` + ``fetchall`` would give (the same text-format values and
    loaders, the same ``BEGIN``), without the cursor's Python (~40 µs of a worker's
    CPU per statement) and with the transaction's ``BEGIN`` in the same round trip
    as its first statement.

    Each statement is prepared once per connection under a name of its own
    (psycopg's ``_pg3_*`` statements are not touched), its parameter types left to
    the server, which takes them from the columns and the casts SQLAlchemy writes
    around placeholders, except those :func:`_pg_type_oid` names; the values are
    sent as text. A server error is raised as psycopg raises it."""
    lib = _libpq()
    pgconn = raw.pgconn
    name = plan.pg_name
    assert name is not None and plan.pg_order is not None
    # Dumped before anything is sent: a value that cannot be sent fails here.
    tx = lib.transformer(raw)
    args = [values[n] for n in plan.pg_order]
    params = tx.dump_sequence(args, [lib.text_format] * len(args))
    prepared: set[bytes] | None = getattr(raw, "_aspirasi_prepared", None)
    if prepared is None:
        prepared = raw._aspirasi_prepared = set()
    for attempt in (1, 2):
        results = _send_prepared(raw, lib, plan, name, params, prepared)
        failed = next((r for r in results if r.status not in lib.ok), None)
        if failed is None:
            break
        error = lib.error_from_result(failed, encoding=raw.info.encoding)
        if getattr(error, "sqlstate", None) != _UNKNOWN_STATEMENT:
            raise error
        # Someone deallocated the connection's statements (DEALLOCATE ALL,
        # DISCARD ALL): prepare them again, at once when no transaction was
        # aborted by the error.
        prepared.clear()
        if attempt == 2 or pgconn.transaction_status != lib.idle:
            raise error
    result = results[-1]
    if not plan.returns_rows:
        return []
    tx.set_pgresult(result)
    return tx.load_rows(0, result.ntuples, tuple)  # type: ignore[no-any-return]


def rows(conn: Connection, stmt: ClauseElement, params: Mapping[str, Any]) -> Sequence[Any]:
    """The rows of ``stmt`` (named tuples: ``row.id``) — see the module docstring."""
    dialect = conn.dialect
    key = (id(stmt), dialect.name)
    entry = _plans.get(key)
    if entry is None or entry[0] is not stmt:
        entry = _plans[key] = (stmt, _make_plan(stmt, dialect))
    plan = entry[1]
    if plan is None:
        return list(conn.execute(stmt, params))  # type: ignore[call-overload]
    values = {**plan.defaults, **params} if plan.defaults else dict(params)
    for name, proc in plan.bind_processors.items():
        if name in values:
            values[name] = proc(values[name])
    raw: Any = conn.connection.driver_connection
    if plan.order is not None:  # sqlite3
        fetched = raw.execute(plan.sql, tuple(values[n] for n in plan.order)).fetchall()
    else:  # psycopg
        fetched = _pg_fetch(raw, plan, values)
    make = plan.row_type
    converters = plan.converters
    if not converters:
        return [make(*r) for r in fetched]
    out = []
    for r in fetched:
        values_ = list(r)
        for i, proc in converters:
            values_[i] = proc(values_[i])
        out.append(make(*values_))
    return out


def insert_statement(table: Table, *columns: str, returning: str | None = "id") -> Insert:
    """``INSERT INTO table (columns…) VALUES (:column…) [RETURNING returning]``, built
    once (module level) for :func:`rows`: an insert built per call with
    ``.values(dict)`` spends most of its time making SQLAlchemy objects."""
    stmt = insert(table).values({c: bindparam(c, type_=table.c[c].type) for c in columns})
    if returning is None:
        # Without it SQLAlchemy adds ``RETURNING id`` on PostgreSQL all the same
        # (implicit returning of the new primary key): a row nobody reads.
        return stmt.inline()
    return stmt.returning(table.c[returning])
