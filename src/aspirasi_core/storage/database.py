"""The unit of work and the :class:`~aspirasi_core.services.ports.Database` on SQLAlchemy.

One transaction script = one connection + one transaction, through one door:
:meth:`SqlDatabase.transaction` (``write=True`` or ``False``) runs the script in a
worker thread (``anyio.to_thread.run_sync``, at most ``threads`` at a time per event
loop: a :class:`anyio.CapacityLimiter`), so the event loop never waits on the
database or on a lock; :meth:`SqlDatabase.run_sync` is the same transaction in the
calling thread, for code that already runs in one (sweeps, the outbox dispatcher,
the CLI). Statements go through SQLAlchemy Core's ``Connection.execute`` (its
compiled cache), and on PostgreSQL psycopg prepares the statements a connection
runs again (``prepare_threshold``, see :mod:`.engine`).

On SQLite, write transactions are serialized inside the process by a lock shared
by every engine on the same file, and across processes by ``BEGIN IMMEDIATE`` plus
``busy_timeout`` (see :mod:`.engine`). Threads of one process therefore queue on a
cheap Python lock instead of polling SQLite's file lock.

A transaction PostgreSQL aborted because of other transactions (a deadlock, a
serialisation failure: :func:`.faults.transient_reason`) is rolled back and run
again, a bounded number of times after a random pause (exponential back-off with
full jitter); then :func:`.faults.busy` (``Unavailable``, ``database_busy``) is
raised, which the web app answers with 503 and ``Retry-After``. A lock or
statement timeout is not retried: it comes out as ``database_busy`` at once (see
:mod:`.faults`). The script therefore runs once per attempt and must do nothing
but database work (the use cases prepare files and hashes before it and call
plugins' ``after_*`` hooks after the commit).
"""

from __future__ import annotations

import functools
import os
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
import structlog
from anyio.lowlevel import RunVar
from sqlalchemy import Connection, Engine

from ..security.crypto import Crypto
from ..services.ports import (
    AccountRepository,
    AuditRepository,
    Database,
    DirectoryRepository,
    IdempotencyRepository,
    LogChainRepository,
    MailQuotaRepository,
    MessageRepository,
    NotificationRepository,
    OutboxRepository,
    TokenRepository,
    UnitOfWork,
)
from ..services.ports.followups import FollowupRepository, ReviewRepository
from . import faults
from .engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_CACHE_KIB,
    WRITE_OPTION,
    make_engine,
    refresh_statistics,
)
from .repositories import (
    SqlAccountRepository,
    SqlAuditRepository,
    SqlDirectoryRepository,
    SqlIdempotencyRepository,
    SqlLogChainRepository,
    SqlMailQuotaRepository,
    SqlMessageRepository,
    SqlNotificationRepository,
    SqlOutboxRepository,
    SqlTokenRepository,
)
from .repositories.followups import SqlFollowupRepository, SqlReviewRepository

T = TypeVar("T")
log = structlog.get_logger("aspirasi.storage")

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
#: The write locks the current thread holds (to refuse a nested write, not deadlock).
_held = threading.local()


def _reset_locks_in_child() -> None:
    # A forked child inherits the locks in whatever state other threads left them.
    global _locks, _locks_guard
    _locks = {}
    _locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_reset_locks_in_child)


def _sqlite_write_lock(engine: Engine) -> threading.Lock:
    """The process-wide write lock of one SQLite file."""
    path = os.path.realpath(engine.url.database or "")
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


class SqlUnitOfWork:
    """The repositories of one transaction, all on the same connection.

    :meth:`execute` runs a plugin's statements (its own tables, reads of the
    core's) in the same transaction.
    """

    __slots__ = (
        "accounts",
        "audit",
        "connection",
        "crypto",
        "dialect",
        "directory",
        "followups",
        "idempotency",
        "log_chain",
        "mail_quota",
        "messages",
        "notifications",
        "outbox",
        "reviews",
        "tokens",
    )

    def __init__(self, conn: Connection, crypto: Crypto) -> None:
        self.connection = conn
        self.crypto = crypto
        self.dialect: str = conn.dialect.name
        # Typed as the ports, so mypy checks that each repository implements its port.
        self.accounts: AccountRepository = SqlAccountRepository(conn)
        self.tokens: TokenRepository = SqlTokenRepository(conn)
        self.messages: MessageRepository = SqlMessageRepository(conn)
        self.notifications: NotificationRepository = SqlNotificationRepository(conn)
        self.directory: DirectoryRepository = SqlDirectoryRepository(conn)
        self.outbox: OutboxRepository = SqlOutboxRepository(conn, crypto)
        self.audit: AuditRepository = SqlAuditRepository(conn)
        self.idempotency: IdempotencyRepository = SqlIdempotencyRepository(conn)
        self.mail_quota: MailQuotaRepository = SqlMailQuotaRepository(conn)
        self.log_chain: LogChainRepository = SqlLogChainRepository(conn)
        self.followups: FollowupRepository = SqlFollowupRepository(conn)
        self.reviews: ReviewRepository = SqlReviewRepository(conn)

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run a SQLAlchemy Core statement in this transaction (the port's ``execute``)."""
        return self.connection.execute(statement, parameters)


class NestedWriteTransaction(RuntimeError):
    """A SQLite write transaction was opened inside another one in the same thread.

    It could only wait for the outer one forever; pass the unit of work down instead.
    """


class SqlDatabase:
    """:class:`~aspirasi_core.services.ports.Database` on a SQLAlchemy engine.

    ``threads``: how many transactions of one event loop run at once in worker
    threads (default :func:`default_threads`; PostgreSQL keeps as many pooled
    connections).
    ``lock_timeout``: seconds a SQLite write waits for another write of this
    process before it gives up with ``Unavailable`` (``database_busy``).
    ``report_statement_timeout_ms``: PostgreSQL's ``statement_timeout`` for a
    transaction run with ``report=True`` (``SET LOCAL``; 0: the connection's).
    ``retries``: new attempts of a transaction that failed by deadlock or
    serialisation (:func:`.faults.transient_reason`), after pauses drawn at random
    from [0, ``retry_pause_s`` × 2ⁿ] for the n-th retry; then
    ``Unavailable`` (``database_busy``). 0: none.

    Faults of the database (unreachable, timeouts, a full disk) come out of every
    method as :class:`~aspirasi_core.domain.errors.Unavailable` (see :mod:`.faults`).
    """

    def __init__(
        self,
        engine: Engine,
        crypto: Crypto,
        *,
        threads: int | None = None,
        lock_timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000,
        report_statement_timeout_ms: int = 0,
        retries: int = 3,
        retry_pause_s: float = 0.05,
    ) -> None:
        self.engine = engine
        self.lock_timeout = lock_timeout
        self.report_statement_timeout_ms = report_statement_timeout_ms
        self.crypto = crypto
        self.dialect: str = engine.dialect.name
        self.retries = retries
        self.retry_pause_s = retry_pause_s
        self.threads = threads or default_threads(self.dialect)
        self._write_lock = _sqlite_write_lock(engine) if self.dialect == "sqlite" else None
        # One limiter per event loop (a limiter belongs to the loop that made it).
        self._limiters: RunVar[anyio.CapacityLimiter] = RunVar("aspirasi_db_threads")

    def _limiter(self) -> anyio.CapacityLimiter:
        limiter = self._limiters.get(None)
        if limiter is None:
            limiter = anyio.CapacityLimiter(self.threads)
            self._limiters.set(limiter)
        return limiter

    async def transaction(
        self, fn: Callable[[SqlUnitOfWork], T], *, write: bool = True, report: bool = False
    ) -> T:
        """Run ``fn`` in one transaction in a worker thread; commit if it returns,
        roll back (and re-raise) if it raises. ``write=False``: a read-only
        transaction (on SQLite it takes no write lock). ``report=True`` (read-only
        only): a long report, run on PostgreSQL under
        ``report_statement_timeout_ms`` instead of the connection's timeout."""
        # The context variables (the log context, the request id) go along.
        return await anyio.to_thread.run_sync(
            functools.partial(self.run_sync, fn, write=write, report=report),
            limiter=self._limiter(),
        )

    def run_sync(
        self, fn: Callable[[SqlUnitOfWork], T], *, write: bool = True, report: bool = False
    ) -> T:
        """The same as :meth:`transaction`, in the calling thread."""
        if write and report:
            raise ValueError("a report transaction is read-only: pass write=False")
        return self._retrying(functools.partial(self._attempt, fn, write, report))

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` (one whole transaction) until it does not fail with a
        :func:`.faults.transient_reason`, at most ``1 + retries`` times; then raise
        :func:`.faults.busy`. The pause between attempts holds no lock, so the
        transaction that won goes on first."""
        failures = 0
        while True:
            try:
                return attempt()
            except Exception as exc:
                reason = faults.transient_reason(exc)
                if reason is None:
                    raise
                failures += 1
                if failures > self.retries:
                    found = faults.busy()
                    log.warning(
                        "transaction_gave_up", reason=reason, attempts=failures, code=found.code
                    )
                    raise found from exc
                pause = random.uniform(0, self.retry_pause_s * 2 ** (failures - 1))
                log.info(
                    "transaction_retried",
                    reason=reason,
                    attempt=failures + 1,
                    pause_ms=round(pause * 1000),
                )
            time.sleep(pause)

    def _attempt(self, fn: Callable[[SqlUnitOfWork], T], write: bool, report: bool) -> T:
        lock = self._write_lock
        if not write or lock is None:
            return self._run(fn, write, report)
        held: set[threading.Lock] = getattr(_held, "locks", None) or set()
        if lock in held:
            raise NestedWriteTransaction("a write transaction is already open in this thread")
        # Another writer of this process holds the file: wait as long as SQLite's
        # busy handler would wait for another process's.
        if not lock.acquire(timeout=self.lock_timeout):
            faults.log.warning("service_unavailable", code="database_busy", error="write lock")
            raise faults.busy()
        try:
            _held.locks = held | {lock}
            return self._run(fn, write, report)
        finally:
            _held.locks = held
            lock.release()

    def _run(self, fn: Callable[[SqlUnitOfWork], T], write: bool, report: bool = False) -> T:
        """One attempt: a pooled connection, one transaction. Faults come out named
        (:mod:`.faults`)."""
        try:
            with self.engine.connect() as conn:
                if not write:
                    conn.execution_options(**{WRITE_OPTION: False})
                with conn.begin():
                    timeout = self.report_statement_timeout_ms
                    if report and timeout > 0 and self.dialect == "postgresql":
                        # Only this transaction: SET LOCAL ends with it.
                        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout)}")
                    return fn(SqlUnitOfWork(conn, self.crypto))
        except Exception as exc:
            if (found := faults.name(exc)) is None:
                raise
            raise found from exc

    def ping(self) -> None:
        """``SELECT 1`` on a pooled connection, in the calling thread; faults come out
        as :class:`~aspirasi_core.domain.errors.Unavailable`."""
        self._run(lambda uow: uow.connection.exec_driver_sql("SELECT 1").scalar(), write=False)

    def refresh_statistics(self) -> None:
        """Refresh the query planner's statistics (SQLite: a sampled ``ANALYZE``,
        see :func:`.engine.refresh_statistics`; PostgreSQL: nothing), in the
        calling thread."""
        if self.dialect == "sqlite":
            self._attempt(lambda uow: refresh_statistics(uow.connection), True, False)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"SqlDatabase({self.engine.url.render_as_string(hide_password=True)!r})"


def default_threads(dialect: str) -> int:
    """Transactions of a worker that run at once when ``ASPIRASI_DB_THREADS`` is 0:
    8 on both databases. SQLite runs its writes one at a time (the others wait on
    the write lock), PostgreSQL overlaps round trips. On one core more threads only
    contend for the GIL and for the same hot rows: 16 served a fifth fewer
    submissions than 4 or 8 against a local PostgreSQL."""
    return 8


def create_database(
    url: str,
    crypto: Crypto,
    *,
    threads: int = 0,
    statement_timeout_ms: int = 0,
    report_statement_timeout_ms: int = 0,
    lock_timeout_ms: int = 0,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    sqlite_cache_kib: int = SQLITE_CACHE_KIB,
    connect_timeout_s: int = 0,
    retries: int = 3,
    **engine_kwargs: Any,
) -> SqlDatabase:
    """A :class:`SqlDatabase` on a new engine for ``url`` (see :func:`.make_engine`,
    which also explains the timeouts), with ``threads`` transaction threads (0:
    :func:`default_threads`) and, on PostgreSQL, as many pooled connections unless
    ``engine_kwargs`` say otherwise; ``report_statement_timeout_ms`` and
    ``retries``: see :class:`SqlDatabase`. On SQLite a write waits up to
    ``sqlite_busy_timeout_ms`` for another write, of this process or another, and
    each connection keeps a page cache of ``sqlite_cache_kib``.

    It does not migrate: call :func:`aspirasi_core.storage.upgrade` first.
    """
    engine = make_engine(
        url,
        pool_threads=threads,
        statement_timeout_ms=statement_timeout_ms,
        lock_timeout_ms=lock_timeout_ms,
        sqlite_busy_timeout_ms=sqlite_busy_timeout_ms,
        sqlite_cache_kib=sqlite_cache_kib,
        connect_timeout_s=connect_timeout_s,
        **engine_kwargs,
    )
    busy_ms = sqlite_busy_timeout_ms if sqlite_busy_timeout_ms > 0 else SQLITE_BUSY_TIMEOUT_MS
    return SqlDatabase(
        engine,
        crypto,
        threads=threads or None,
        lock_timeout=busy_ms / 1000,
        report_statement_timeout_ms=report_statement_timeout_ms,
        retries=retries,
    )


if TYPE_CHECKING:
    # mypy proves the classes implement the ports.
    def _implements_the_ports(db: SqlDatabase, uow: SqlUnitOfWork) -> tuple[Database, UnitOfWork]:
        return db, uow
