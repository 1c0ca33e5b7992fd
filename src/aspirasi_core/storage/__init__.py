"""Storage: SQLAlchemy Core tables, repositories, unit of work and Alembic migrations.

Implements the ports of :mod:`aspirasi_core.services.ports` on SQLite (the embedded
default) and PostgreSQL (production)::

    from aspirasi_core.storage import create_database, upgrade

    upgrade("sqlite:///var/aspirasi.db")
    db = create_database("sqlite:///var/aspirasi.db", crypto)
    account = db.run_sync(lambda uow: uow.accounts.get(1), write=False)
"""

from .database import SqlDatabase, SqlUnitOfWork, create_database
from .engine import make_engine
from .migrate import current, upgrade

__all__ = [
    "SqlDatabase",
    "SqlUnitOfWork",
    "create_database",
    "current",
    "make_engine",
    "upgrade",
]
