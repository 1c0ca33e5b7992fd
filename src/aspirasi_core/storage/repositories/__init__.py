"""SQLAlchemy Core implementations of the repositories of ``services.ports``."""

from .accounts import SqlAccountRepository
from .audit import SqlAuditRepository
from .directory import SqlDirectoryRepository
from .idempotency import SqlIdempotencyRepository
from .log_chain import SqlLogChainRepository
from .mail_quota import SqlMailQuotaRepository
from .messages import SqlMessageRepository
from .notifications import SqlNotificationRepository
from .outbox import SqlOutboxRepository
from .tokens import SqlTokenRepository

__all__ = [
    "SqlAccountRepository",
    "SqlAuditRepository",
    "SqlDirectoryRepository",
    "SqlIdempotencyRepository",
    "SqlLogChainRepository",
    "SqlMailQuotaRepository",
    "SqlMessageRepository",
    "SqlNotificationRepository",
    "SqlOutboxRepository",
    "SqlTokenRepository",
]
