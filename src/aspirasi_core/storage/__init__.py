"""Storage: SQLAlchemy Core tables, repositories, unit of work and Alembic migrations.

Implements the ports of :mod:`aspirasi_core.services.ports` on SQLite (the embedded
default) and PostgreSQL (production)::

    from aspirasi_core.storage import create_database, upgrade

    upgrade("sqlite:///var/aspirasi.db")
    db = create_database("sqlite:///var/aspirasi.db", crypto)
    account = db.run_sync(lambda uow: uow.accounts.get(1), write=False)
"""

import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine

from .database import SqlDatabase, SqlUnitOfWork, create_database
from .engine import make_engine


def upgrade(
    engine_or_url: Engine | str,
    extra_locations: Iterable[str | os.PathLike[str]] = (),
    *,
    target: str = "heads",
    settings: Any = None,
) -> None:
    """:func:`aspirasi_core.storage.migrate.upgrade`. Alembic is imported only when
    migrating: a serving worker does not need its 10 MB."""
    from .migrate import upgrade as _upgrade

    _upgrade(engine_or_url, extra_locations, target=target, settings=settings)


def current(engine_or_url: Engine | str) -> set[str]:
    """:func:`aspirasi_core.storage.migrate.current`, imported on use like :func:`upgrade`."""
    from .migrate import current as _current

    return _current(engine_or_url)


__all__ = [
    "SqlDatabase",
    "SqlUnitOfWork",
    "create_database",
    "current",
    "make_engine",
    "upgrade",
]
