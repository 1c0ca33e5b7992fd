"""Alembic environment of Aspirasi: runs on the connection handed over by
:func:`aspirasi_core.storage.migrate.upgrade` (``config.attributes['connection']``)."""

from __future__ import annotations

from alembic import context

from aspirasi_core.storage.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run the migrations through aspirasi_core.storage.migrate.upgrade"
        " (or `aspirasi db upgrade`)"
    )

context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata", metadata),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
