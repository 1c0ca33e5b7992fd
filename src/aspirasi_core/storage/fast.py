"""Run a cached Core statement straight on the DBAPI cursor of a transaction.

SQLAlchemy's ``Connection.execute`` costs 50–100 µs of Python per statement (cache
key, execution context, result metadata, row objects) — more than an indexed SQLite
look-up itself, and most of a hot request's budget (see docs/performance.md).
:func:`rows` compiles a statement once per dialect and then only binds, executes
and converts, with the same bind and result processors SQLAlchemy would apply, so
the values are exactly those of ``conn.execute(stmt, params)``.

Use it only with statements built once (module level or ``functools.cache``): the
plan is cached on the statement object. Statements the fast path cannot run as
compiled (expanding ``IN`` parameters, post-compile parameters) silently take
SQLAlchemy's path, and so does a bare ``text()`` (its columns are unknown).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, bindparam, insert
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
    return _Plan(
        sql=compiled.string,
        order=order,
        defaults=dict(compiled.params),
        bind_processors=procs,
        row_type=row_type,
        returns_rows=bool(columns),
        converters=tuple(converters),
    )


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
    args: Any = tuple(values[n] for n in plan.order) if plan.order is not None else values
    raw: Any = conn.connection.driver_connection
    if plan.order is not None:  # sqlite3
        fetched = raw.execute(plan.sql, args).fetchall()
    else:  # psycopg
        with raw.cursor() as cur:
            cur.execute(plan.sql, args)
            # (cursor.description builds Column objects: known from the plan instead)
            fetched = cur.fetchall() if plan.returns_rows else []
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
    if returning is not None:
        stmt = stmt.returning(table.c[returning])
    return stmt
