"""Faults of the database and the disk, named: driver errors that mean "not now"
become :class:`~aspirasi_core.domain.errors.Unavailable` (or
:class:`~aspirasi_core.domain.errors.StorageFull`), so adapters answer 503/507
with ``Retry-After`` instead of an unknown error.

Recognised:

* the database cannot be reached (refused, reset, shut down, too many
  connections, a standby that cannot write) — ``database_unavailable``;
* a statement or lock timeout ran out (PostgreSQL ``statement_timeout`` or
  ``lock_timeout``, SQLite's busy timeout, the pool's check-out wait) —
  ``database_busy``;
* the disk of the database or of the attachments is full — ``storage_full``;
* the attachments' disk cannot be written for now (read-only, an I/O error, a
  network mount that went away) — ``storage_unavailable``.

Deadlocks and serialisation failures are not named here: a transaction that
failed that way is worth running again (:func:`transient_reason`), which the
transaction runner (:class:`~.database.SqlDatabase`) does; when its retries run
out it raises :func:`busy` too. A lock or statement timeout is named at once and
not retried: it already waited ``lock_timeout``, and a lock held that long is
most likely still held. Anything else is left as it is (a bug stays a bug).
"""

from __future__ import annotations

import errno
import sqlite3
import sys

import structlog
from sqlalchemy import exc as sa_exc

from ..domain.errors import StorageFull, Unavailable
from ..logging import mask_text

log = structlog.get_logger("aspirasi.storage")

#: Seconds a client is asked to wait, per fault.
RETRY_UNREACHABLE = 5
RETRY_BUSY = 2
RETRY_FULL = 300

_BUSY_SQLSTATES = frozenset({"57014", "55P03"})  # query_canceled, lock_not_available
#: PostgreSQL failures caused by other transactions that the same transaction run
#: again will likely not meet, and that come without a long wait: deadlock
#: detected, serialization failure.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})
_FULL_SQLSTATES = frozenset({"53100"})  # disk_full
_DOWN_SQLSTATES = frozenset(
    {
        "53200",  # out_of_memory
        "53300",  # too_many_connections
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now
        "25006",  # read_only_sql_transaction (a standby after a fail-over)
    }
)
_STORAGE_DOWN_ERRNOS = frozenset(
    {errno.EROFS, errno.EIO, errno.ESTALE, errno.ENOTCONN, errno.EHOSTDOWN, errno.ETIMEDOUT}
)
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_DOWN = ("disk i/o error", "unable to open database file")


def unreachable() -> Unavailable:
    """The database cannot be reached."""
    return Unavailable(
        "The service is briefly unavailable. Please try again in a moment.",
        code="database_unavailable",
        retry_after=RETRY_UNREACHABLE,
    )


def busy() -> Unavailable:
    """A statement or a lock waited longer than its timeout, or a transaction
    still failed by deadlock or serialisation after its retries."""
    return Unavailable(
        "The service is very busy. Please try again in a moment.",
        code="database_busy",
        retry_after=RETRY_BUSY,
    )


def storage_unavailable() -> Unavailable:
    """The attachments' disk cannot be written for now."""
    return Unavailable(
        "The service is briefly unavailable. Please try again in a moment.",
        code="storage_unavailable",
        retry_after=RETRY_UNREACHABLE,
    )


def full() -> StorageFull:
    """No room on a disk."""
    return StorageFull(retry_after=RETRY_FULL)


def _from_psycopg(error: BaseException) -> Unavailable | None:
    psycopg = sys.modules.get("psycopg")  # never imported on a SQLite worker
    if psycopg is None or not isinstance(error, psycopg.Error):
        return None
    state = getattr(error, "sqlstate", None)
    if state in _BUSY_SQLSTATES:
        return busy()
    if state in _FULL_SQLSTATES:
        return full()
    if state in _DOWN_SQLSTATES or (state or "").startswith("08"):
        return unreachable()
    if state is None and isinstance(error, psycopg.OperationalError):
        return unreachable()  # the connection failed or broke: no server answer at all
    return None


def _from_sqlite(error: BaseException) -> Unavailable | None:
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        if any(t in text for t in _SQLITE_BUSY):
            return busy()
        if "database or disk is full" in text:
            return full()
        if any(t in text for t in _SQLITE_DOWN):
            return unreachable()
    return None


def transient_reason(error: BaseException) -> str | None:
    """Why ``error`` is worth a new attempt of its transaction (the SQLSTATE in
    :data:`RETRY_SQLSTATES`), or None. Takes SQLAlchemy's wrapped errors
    (``DBAPIError.orig``) and the drivers' own. SQLite has none: its writes run one at a time (``BEGIN IMMEDIATE``),
    so its "database is locked" is a busy timeout that ran out (:func:`busy`)."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    state = getattr(orig, "sqlstate", None)
    return str(state) if state in RETRY_SQLSTATES else None


def classify(error: BaseException) -> Unavailable | None:
    """The :class:`Unavailable` that ``error`` stands for, or None when it is not
    a recognised fault. Takes SQLAlchemy's wrapped errors, the drivers' own
    (the SQLite ``BEGIN`` hook of :mod:`.engine` runs on the driver's connection)
    and ``OSError``."""
    if isinstance(error, Unavailable):
        return error
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free
        return busy()
    if isinstance(error, sa_exc.DBAPIError):
        found = classify(error.orig) if error.orig is not None else None
        if found is None and error.connection_invalidated:
            found = unreachable()
        return found
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return full()
    if isinstance(error, OSError) and error.errno in _STORAGE_DOWN_ERRNOS:
        return storage_unavailable()
    return _from_psycopg(error) or _from_sqlite(error)


def name(error: BaseException) -> Unavailable | None:
    """The :class:`Unavailable` that ``error`` stands for, logged once as a named
    warning (no traceback), or None when ``error`` is not a recognised fault::

        except Exception as exc:
            if (found := faults.name(exc)) is None:
                raise
            raise found from exc
    """
    found = classify(error)
    if found is None or found is error:
        return None
    text = str(error)
    log.warning(
        "service_unavailable",
        code=found.code,
        error=type(error).__name__,
        detail=mask_text(text.splitlines()[0][:200]) if text else "",
    )
    return found
