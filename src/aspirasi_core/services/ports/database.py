"""The database port: the unit of work of one transaction and where the use
cases run their transaction scripts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from .accounts import AccountRepository
from .audit import AuditRepository
from .directory import DirectoryRepository
from .followups import FollowupRepository, ReviewRepository
from .idempotency import IdempotencyRepository
from .log_chain import LogChainRepository
from .messages import MessageRepository
from .notifications import NotificationRepository
from .outbox import MailQuotaRepository, OutboxRepository
from .tokens import TokenRepository

T = TypeVar("T")


class UnitOfWork(Protocol):
    """The repositories of one transaction."""

    accounts: AccountRepository
    tokens: TokenRepository
    messages: MessageRepository
    notifications: NotificationRepository
    directory: DirectoryRepository
    outbox: OutboxRepository
    audit: AuditRepository
    idempotency: IdempotencyRepository
    mail_quota: MailQuotaRepository
    #: The hash chains of the message logs and their daily roots.
    log_chain: LogChainRepository
    followups: FollowupRepository
    reviews: ReviewRepository
    #: The database's SQLAlchemy dialect name: ``sqlite`` or ``postgresql``.
    dialect: str

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run a SQLAlchemy Core statement in this transaction and return its
        ``Result``: for plugins' own tables and their reads of the core's
        (:data:`aspirasi_core.plugin_api.schema`), through
        :class:`~aspirasi_core.plugin_types.Transaction`."""


class Database(Protocol):
    """Where the use cases run their transaction scripts: one ``transaction``, for
    reads (``write=False``) and writes alike, and its twin :meth:`run_sync` for code
    that already runs in a thread of its own."""

    async def transaction(
        self, fn: Callable[[UnitOfWork], T], *, write: bool = True, report: bool = False
    ) -> T:
        """Run ``fn`` in one transaction in a worker thread; commit if it returns,
        roll back if it raises. ``write=False`` opens a read-only transaction (one
        snapshot on PostgreSQL, no write lock on SQLite). Writes are serialized on
        SQLite (``BEGIN IMMEDIATE`` plus an in-process lock) so they never fail with
        "database is locked".

        ``report=True`` (with ``write=False``): a long read-only report (the
        evaluator's report, an export), which runs on PostgreSQL under
        ``ASPIRASI_DB_REPORT_STATEMENT_TIMEOUT_MS`` instead of the service's
        ``ASPIRASI_DB_STATEMENT_TIMEOUT_MS``.

        A transaction the database aborted because of others (deadlock,
        serialisation failure) is run again, ``fn`` included, a bounded number of
        times; then :class:`~aspirasi_core.domain.errors.Unavailable`
        (``database_busy``) is raised, as it is at once for a lock or statement
        timeout. ``fn`` must only work through the unit of work."""

    def run_sync(
        self, fn: Callable[[UnitOfWork], T], *, write: bool = True, report: bool = False
    ) -> T:
        """:meth:`transaction` in the calling thread (sweeps, the outbox dispatcher,
        the CLI, migrations, tests); never on the event loop."""

    def refresh_statistics(self) -> None:
        """Refresh the query planner's statistics, in the calling thread (the
        sweep of :mod:`aspirasi_core.services.statistics`): a sampled ``ANALYZE``
        on SQLite, nothing on PostgreSQL (autovacuum keeps them)."""

    def ping(self) -> None:
        """Run a trivial statement on a pooled connection (readiness probes); raise
        :class:`~aspirasi_core.domain.errors.Unavailable` when the database does not
        answer."""
