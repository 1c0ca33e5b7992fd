"""Small helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, bindparam, insert, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from ...domain.errors import Conflict, NotFound

LIKE_ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """``%text%`` with the LIKE wildcards of ``text`` escaped (use with ``escape=LIKE_ESCAPE``)."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def contains_text(text: str, *columns: Any) -> ColumnElement[bool]:
    """Case-insensitive substring match on any of ``columns``."""
    pattern = like_pattern(text)
    return or_(*(column.ilike(pattern, escape=LIKE_ESCAPE) for column in columns))


def keyset(stmt: Select[Any], id_column: Any, before_id: int | None, limit: int) -> Select[Any]:
    """Newest first, strictly before ``before_id``, at most ``limit`` rows."""
    if before_id is not None:
        stmt = stmt.where(id_column < before_id)
    return stmt.order_by(id_column.desc()).limit(max(0, limit))


def execute_unique(
    conn: Connection,
    statement: Any,
    *,
    conflict: Callable[[], Conflict | None],
) -> list[Row[Any]]:
    """Execute ``statement`` (which must have a RETURNING clause) inside a SAVEPOINT
    and return its rows; a unique violation becomes a :class:`Conflict`.

    ``conflict`` runs after the savepoint was rolled back (the outer transaction is
    still usable) and returns the error to raise, or None when the violation was not
    a uniqueness clash (a foreign key, say): the original error is then re-raised.
    """
    try:
        with conn.begin_nested():
            # Fetched before RELEASE: SQLite cannot release a savepoint while a
            # statement is still open.
            return list(conn.execute(statement).all())
    except IntegrityError:
        error = conflict()
        if error is None:
            raise
        raise error from None


def insert_unless_taken(table: Table, columns: tuple[str, ...], unique: str, dialect: str) -> Any:
    """``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING id`` with a named
    parameter per column, for ``dialect`` (SQLite or PostgreSQL): a value that is
    taken returns no row instead of aborting the statement (no savepoint needed).
    Build it once per dialect (``functools.cache``)."""
    from sqlalchemy.dialects import postgresql, sqlite

    module: Any = postgresql if dialect == "postgresql" else sqlite
    values = {c: bindparam(c, type_=table.c[c].type) for c in columns}
    return (
        module.insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=[table.c[unique]])
        .returning(table.c.id)
    )


def insert_statement(table: Table, *columns: str, returning: str | None = "id") -> Insert:
    """``INSERT INTO table (columns…) VALUES (:column…) [RETURNING returning]``, built
    once (module level): the same statement object every call, so SQLAlchemy's
    compiled cache hits, and passing a list of parameter dicts to
    ``Connection.execute`` makes one multi-row ``insertmanyvalues`` statement."""
    stmt = insert(table).values({c: bindparam(c, type_=table.c[c].type) for c in columns})
    if returning is None:
        # Without it SQLAlchemy adds ``RETURNING id`` on PostgreSQL all the same
        # (implicit returning of the new primary key): a row nobody reads.
        return stmt.inline()
    return stmt.returning(table.c[returning])


def not_found(what: str, ident: int) -> NotFound:
    return NotFound(f"The {what} was not found.", code=f"{what}_not_found", params={"id": ident})


def check_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"cannot update {sorted(unknown)}; allowed: {sorted(allowed)}")
