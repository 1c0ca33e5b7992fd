"""The unit of work and the :class:`~aspirasi_core.services.ports.Database` on SQLAlchemy.

One transaction script = one connection + one transaction. ``transaction`` runs
the script in a worker thread (:class:`~.threads.WorkerThreads`), so the event loop
never waits on the database or on a lock; ``run_sync`` runs it in the calling thread.

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

import contextlib
import functools
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from sqlalchemy import Connection, Engine

from ..security.crypto import Crypto
from ..services.ports import (
    AccountRepository,
    AuditRepository,
    Database,
    DirectoryRepository,
    IdempotencyRepository,
    MailQuotaRepository,
    MessageRepository,
    NotificationRepository,
    OutboxRepository,
    TokenRepository,
    UnitOfWork,
)
from ..threads import WorkerThreads
from . import faults
from .engine import SQLITE_BUSY_TIMEOUT_S, WRITE_OPTION, make_engine
from .repositories import (
    SqlAccountRepository,
    SqlAuditRepository,
    SqlDirectoryRepository,
    SqlIdempotencyRepository,
    SqlMailQuotaRepository,
    SqlMessageRepository,
    SqlNotificationRepository,
    SqlOutboxRepository,
    SqlTokenRepository,
)

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
        "idempotency",
        "mail_quota",
        "messages",
        "notifications",
        "outbox",
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

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run a SQLAlchemy Core statement in this transaction (the port's ``execute``)."""
        return self.connection.execute(statement, parameters)


class NestedWriteTransaction(RuntimeError):
    """A SQLite write transaction was opened inside another one in the same thread.

    It could only wait for the outer one forever; pass the unit of work down instead.
    """


class SqlDatabase:
    """:class:`~aspirasi_core.services.ports.Database` on a SQLAlchemy engine.

    ``inline_reads``: :meth:`read` runs in the calling thread (default: on SQLite).
    ``threads``: worker threads for :meth:`transaction` (default
    :func:`default_threads`: 4 on SQLite, whose writes run one at a time, and 8 on
    PostgreSQL, matching its connection pool).
    ``lock_timeout``: seconds a SQLite write waits for another write of this
    process before it gives up with ``Unavailable`` (``database_busy``).
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
        inline_reads: bool | None = None,
        threads: int | None = None,
        lock_timeout: float = SQLITE_BUSY_TIMEOUT_S,
        retries: int = 3,
        retry_pause_s: float = 0.05,
    ) -> None:
        self.engine = engine
        self.lock_timeout = lock_timeout
        self.crypto = crypto
        self.dialect: str = engine.dialect.name
        self.retries = retries
        self.retry_pause_s = retry_pause_s
        self._write_lock = _sqlite_write_lock(engine) if self.dialect == "sqlite" else None
        #: Whether :meth:`read` runs in the calling thread (default: on SQLite only).
        self.inline_reads = self.dialect == "sqlite" if inline_reads is None else inline_reads
        # Threads for transactions. SQLite runs one write at a time and its bounded
        # reads inline, so a few threads do; PostgreSQL overlaps its round trips.
        self._workers = WorkerThreads(threads or default_threads(self.dialect), "aspirasi-db")
        # Inline reads keep one connection per thread (the event loop's), so a
        # look-up pays neither the pool's check-out nor its reset.
        self._local = threading.local()
        self._readers: list[Connection] = []

    async def transaction(self, fn: Callable[[SqlUnitOfWork], T], *, write: bool = True) -> T:
        """Run ``fn`` in one transaction in a worker thread; commit if it returns,
        roll back (and re-raise) if it raises."""
        # The log context (request id) goes along to the thread.
        return await self._workers.run(functools.partial(self.run_sync, fn, write=write))

    async def read(self, fn: Callable[[SqlUnitOfWork], T]) -> T:
        """A short read transaction, bounded by an index and a page size.

        On SQLite (``inline_reads``) it runs in the calling thread: a WAL read never
        waits for a writer, and such a read costs less than the hand-off to a thread.
        On PostgreSQL it runs in a worker thread in autocommit mode: no ``BEGIN`` and
        ``COMMIT`` round trips, so each statement sees the latest committed data
        (use :meth:`transaction` with ``write=False`` when several statements must
        see one snapshot). Never use it for a scan (text search, reports): on SQLite
        that would stall every other request.
        """
        if self.inline_reads:
            try:
                conn = self._reader()
                with conn.begin():
                    return fn(SqlUnitOfWork(conn, self.crypto))
            except Exception as exc:
                if (found := faults.name(exc)) is None:
                    raise
                raise found from exc
        if self.dialect == "postgresql":
            return await self._workers.run(
                functools.partial(self._retrying, functools.partial(self._autocommit, fn))
            )
        return await self.transaction(fn, write=False)

    async def single_statement(self, fn: Callable[[SqlUnitOfWork], T]) -> T:
        """Run ``fn``, which runs exactly one statement (a write), as its own
        transaction: on PostgreSQL in autocommit mode in a worker thread (one round
        trip instead of three), elsewhere as :meth:`transaction` (on SQLite a write
        transaction, which takes the write lock). Never for more than one statement:
        on PostgreSQL each would commit on its own."""
        if self.dialect == "postgresql":
            return await self._workers.run(
                functools.partial(self._retrying, functools.partial(self._autocommit, fn))
            )
        return await self.transaction(fn, write=True)

    def _autocommit(self, fn: Callable[[SqlUnitOfWork], T]) -> T:
        with self._connected(isolation_level="AUTOCOMMIT") as conn:
            return fn(SqlUnitOfWork(conn, self.crypto))

    @contextlib.contextmanager
    def _connected(self, **options: Any) -> Iterator[Connection]:
        """A pooled connection with these execution options. Faults come out named
        (:mod:`.faults`), and a connection lost under a statement is dropped."""
        try:
            with self.engine.connect() as conn:
                if options:
                    conn.execution_options(**options)
                try:
                    yield conn
                except Exception as exc:
                    self._drop_if_lost(conn, exc)
                    raise
        except Exception as exc:
            if (found := faults.name(exc)) is None:
                raise
            raise found from exc

    def _reader(self) -> Connection:
        local = self._local
        conn: Connection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid() or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            conn.execution_options(**{WRITE_OPTION: False})
            local.conn, local.pid = conn, os.getpid()
            self._readers.append(conn)
        return conn

    def run_sync(self, fn: Callable[[SqlUnitOfWork], T], *, write: bool = True) -> T:
        """The same as :meth:`transaction`, in the calling thread."""
        return self._retrying(functools.partial(self._attempt, fn, write))

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

    def _attempt(self, fn: Callable[[SqlUnitOfWork], T], write: bool) -> T:
        lock = self._write_lock
        if not write or lock is None:
            return self._run(fn, write)
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
            return self._run(fn, write)
        finally:
            _held.locks = held
            lock.release()

    def _run(self, fn: Callable[[SqlUnitOfWork], T], write: bool) -> T:
        with self._connected(**({} if write else {WRITE_OPTION: False})) as conn, conn.begin():
            return fn(SqlUnitOfWork(conn, self.crypto))

    def _drop_if_lost(self, conn: Connection, exc: Exception) -> None:
        """The connection was lost under a statement of the fast path, which SQLAlchemy
        does not see: invalidate it (returning it to the pool would fail its reset)
        and start a new pool, since the others were most likely lost with it (the
        server went away). SQLAlchemy does the same for the errors it sees."""
        if conn.invalidated or not faults.lost_connection(exc):
            return
        conn.invalidate(exc)
        self.engine.dispose(close=False)

    def ping(self) -> None:
        """``SELECT 1`` on a pooled connection, in the calling thread; faults come out
        as :class:`~aspirasi_core.domain.errors.Unavailable`."""
        self._run(lambda uow: uow.connection.exec_driver_sql("SELECT 1").scalar(), write=False)

    def dispose(self) -> None:
        """Close every pooled connection and stop the worker threads."""
        readers, self._readers = self._readers, []
        for conn in readers:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()
        self.engine.dispose()
        self._workers.shutdown()

    def __repr__(self) -> str:
        return f"SqlDatabase({self.engine.url.render_as_string(hide_password=True)!r})"


def default_threads(dialect: str) -> int:
    """Transaction threads of a worker when ``ASPIRASI_DB_THREADS`` is 0: 4 on SQLite
    (writes run one at a time; bounded reads run inline), 8 on PostgreSQL. On one
    core more threads only contend for the GIL and for the same hot rows: 16 served
    a fifth fewer submissions than 4 or 8 against a local PostgreSQL."""
    return 4 if dialect == "sqlite" else 8


def create_database(
    url: str,
    crypto: Crypto,
    *,
    threads: int = 0,
    statement_timeout_ms: int = 0,
    lock_timeout_ms: int = 0,
    connect_timeout_s: int = 0,
    retries: int = 3,
    **engine_kwargs: Any,
) -> SqlDatabase:
    """A :class:`SqlDatabase` on a new engine for ``url`` (see :func:`.make_engine`,
    which also explains the timeouts), with ``threads`` transaction threads (0:
    :func:`default_threads`) and, on PostgreSQL, as many pooled connections unless
    ``engine_kwargs`` say otherwise; ``retries``: see :class:`SqlDatabase`.

    It does not migrate: call :func:`aspirasi_core.storage.upgrade` first.
    """
    engine = make_engine(
        url,
        pool_threads=threads,
        statement_timeout_ms=statement_timeout_ms,
        lock_timeout_ms=lock_timeout_ms,
        connect_timeout_s=connect_timeout_s,
        **engine_kwargs,
    )
    lock_timeout = lock_timeout_ms / 1000 if lock_timeout_ms > 0 else SQLITE_BUSY_TIMEOUT_S
    return SqlDatabase(
        engine, crypto, threads=threads or None, lock_timeout=lock_timeout, retries=retries
    )


if TYPE_CHECKING:
    # mypy proves the classes implement the ports.
    def _implements_the_ports(db: SqlDatabase, uow: SqlUnitOfWork) -> tuple[Database, UnitOfWork]:
        return db, uow
