"""The ports the use cases depend on: small Protocols, no concrete database.

``aspirasi_core.storage`` implements them with SQLAlchemy Core on SQLite and
PostgreSQL. Every repository method is synchronous and runs inside one
transaction opened by :meth:`Database.transaction`, which executes the whole
transaction script in a worker thread so the event loop never waits on the
database or on a lock.

Lists use keyset pagination on the message id (newest first): callers pass
``before_id`` (exclusive) and ``limit``; repositories return up to ``limit``
rows and the services ask for one more to know whether a next page exists.

One module an area (:mod:`.accounts`, :mod:`.messages`, :mod:`.database`, …);
every name is importable from here.
"""

from __future__ import annotations

from .accounts import AccountRepository, NewAccount
from .audit import AuditFilter, AuditRepository, NewAuditEntry
from .database import Database, T, UnitOfWork
from .directory import DirectoryRepository
from .followups import FollowupRepository, ReviewRepository
from .idempotency import IdempotencyRecord, IdempotencyRepository, NewIdempotencyClaim
from .log_chain import FoundEntry, LogChainRepository, LogRoot, StoredChain
from .messages import (
    BackofficeFilter,
    MessageRepository,
    NewAttachment,
    NewMessage,
    PublicMessage,
    TrackedLogEntry,
    TrackedMessage,
)
from .notifications import NotificationRepository
from .outbox import MailQuotaRepository, OutboxItem, OutboxRepository
from .system import AttachmentStore, Clock, KeyedCrypto, PasswordHashing
from .tokens import TokenRecord, TokenRepository

__all__ = [
    "AccountRepository",
    "AttachmentStore",
    "AuditFilter",
    "AuditRepository",
    "BackofficeFilter",
    "Clock",
    "Database",
    "DirectoryRepository",
    "FollowupRepository",
    "FoundEntry",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "KeyedCrypto",
    "LogChainRepository",
    "LogRoot",
    "MailQuotaRepository",
    "MessageRepository",
    "NewAccount",
    "NewAttachment",
    "NewAuditEntry",
    "NewIdempotencyClaim",
    "NewMessage",
    "NotificationRepository",
    "OutboxItem",
    "OutboxRepository",
    "PasswordHashing",
    "PublicMessage",
    "ReviewRepository",
    "StoredChain",
    "T",
    "TokenRecord",
    "TokenRepository",
    "TrackedLogEntry",
    "TrackedMessage",
    "UnitOfWork",
]
