"""The core's tables as this plugin reads them: the few columns it uses, nothing more.

The plugin does not import ``aspirasi_core.storage`` (its tables, types and
statement helpers are the core's internals, not an API; see issue 21). These
definitions name the columns the report, the drill-down and the reprimands read,
in their own ``MetaData`` (never created from here: the core's migrations own
the tables). A column the core renames or drops breaks the plugin's tests, not
silently its figures.

:class:`UTCDateTime` stores timestamps as the core does: ``timestamptz`` on
PostgreSQL, naive UTC text on SQLite (which sorts and compares as text), and
hands out aware UTC values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: Keys: BIGINT on PostgreSQL, INTEGER on SQLite (where only ``INTEGER PRIMARY
#: KEY`` aliases the rowid), as the core declares them.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp, stored the way the core stores it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError("expected a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The core's tables (read only), apart from the plugin's own ``metadata``.
core_metadata = MetaData()

agencies = Table(
    "agencies",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64)),
    Column("name", String(200)),
    Column("is_active", Boolean),
)

categories = Table(
    "categories",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64)),
    Column("name", String(200)),
)

subcategories = Table(
    "subcategories",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("category_id", Id),
    Column("code", String(64)),
    Column("name", String(200)),
    Column("is_active", Boolean),
)

accounts = Table(
    "accounts",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("full_name", String(200)),
)

messages = Table(
    "messages",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("ticket", String(32)),
    Column("subject", String(300)),
    Column("status", String(32)),
    Column("category_id", Id),
    Column("subcategory_id", Id),
    Column("agency_id", Id),
    Column("created_at", UTCDateTime),
    Column("due_at", UTCDateTime),
)

message_log = Table(
    "message_log",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("message_id", Id),
    Column("action", String(32)),
    Column("to_status", String(32)),
    Column("at", UTCDateTime),
)

ratings = Table(
    "ratings",
    core_metadata,
    Column("message_id", Id, primary_key=True),
    Column("stars", Integer),
)
