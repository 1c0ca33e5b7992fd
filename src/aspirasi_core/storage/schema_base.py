"""What every table module of the core shares: the one ``MetaData`` (with its
naming convention) and the column and index helpers."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    MetaData,
    text,
)

from .types import Id

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def pk() -> Column:  # type: ignore[type-arg]
    return Column("id", Id, primary_key=True, autoincrement=True)


def fk(name: str, target: str, *, nullable: bool, ondelete: str | None = None) -> Column:  # type: ignore[type-arg]
    return Column(name, Id, ForeignKey(target, ondelete=ondelete), nullable=nullable)


def partial_index(name: str, column: str, where: str, *, unique: bool = True) -> Index:
    """An index over the rows matching ``where`` only (SQLite and PostgreSQL)."""
    return Index(
        name,
        column,
        unique=unique,
        sqlite_where=text(where),
        postgresql_where=text(where),
    )
