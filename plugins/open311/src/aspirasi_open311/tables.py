"""The plugin's own tables (SQLAlchemy Core), created by its Alembic branch
``open311`` (``migrations/o001_api_keys.py``, ``o002_requests.py``; keep them in step).

They live in their own ``MetaData``; the core's tables they refer to by foreign
key are declared here with the one column the keys need (never created from
here: the core's migrations own them). Queries of the core's tables go through
:data:`aspirasi_core.plugin_api.schema`.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, MetaData, String, Table, Text

from aspirasi_core.plugin_api import Id, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The core's tables the plugin's keys point to (one column each).
core_metadata = MetaData()
_accounts = Table("accounts", core_metadata, Column("id", Id, primary_key=True))
_messages = Table("messages", core_metadata, Column("id", Id, primary_key=True))

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: An Open311 client's API key. Only the SHA-256 of the key is kept; ``prefix``
#: (its first characters) tells keys apart in the list. ``account_id`` is the
#: verified citizen account the client files messages as.
api_keys = Table(
    "open311_api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("client_name", String(120), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("account_id", Id, ForeignKey(_accounts.c.id), nullable=False),
    #: The key's own limit, in the ``limits`` notation (``60/minute;1000/day``).
    Column("rate_limit", String(100), nullable=False),
    Column("created_by", Id, ForeignKey(_accounts.c.id), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_by", Id, ForeignKey(_accounts.c.id), nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

#: What a ``POST requests`` carried that the core's message has no place for,
#: and the request's token. Never shown publicly (see the package docstring).
requests = Table(
    "open311_requests",
    metadata,
    Column("message_id", Id, ForeignKey(_messages.c.id), primary_key=True),
    Column("api_key_id", Id, ForeignKey(api_keys.c.id), nullable=False, index=True),
    Column("token", String(64), nullable=False, unique=True),
    #: The sub-category the client asked for (the admin classifies on forwarding).
    Column("service_code", Id, nullable=True),
    Column("lat", Float, nullable=True),
    Column("long", Float, nullable=True),
    Column("address_string", Text, nullable=True),
    Column("media_url", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
