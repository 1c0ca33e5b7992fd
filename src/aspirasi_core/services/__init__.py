"""Use cases of Aspirasi: an async API usable without the web.

Build the whole thing with :func:`aspirasi_core.bootstrap.bootstrap`, then call
``app.accounts``, ``app.messages``, ``app.queries``, ``app.notifications`` and
``app.admin``, ``app.audit``, ``app.privacy``. Every use case takes a :class:`Context` naming the caller and runs
in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs
import structlog

from ..domain.errors import Unavailable
from .accounts import LANGUAGES, AccountService, LoginResult, RegisterInput
from .admin import UNSET, AccountChanges, AdminService, StaffDirectory, StaffInput
from .attachments import AttachmentSweep
from .audit import AuditQuery, AuditService
from .context import Context, SystemClock
from .core import CoreDeps
from .data_rights import DataExport, DataRightsService
from .followups import FollowupService, ReviewService
from .health import HealthService, Readiness
from .idempotency import (
    IdempotencyClaim,
    IdempotencyRequest,
    IdempotencyService,
    StoredResponse,
    check_key,
)
from .log_chain import LogChainService, Lookup, VerifyReport
from .messages import MessageService, SubmitInput, Upload
from .nik_claims import NikClaimService
from .notifications import NotificationService
from .outbox import OutboxDispatcher
from .privacy import PrivacyService, RevealedSender
from .queries import BackofficeQuery, MessageDetail, PublicMessage, QueryService, TrackedMessage
from .sop import SopService
from .statistics import PlannerStatistics


@attrs.define
class Aspirasi:
    """The use cases, wired to one set of dependencies."""

    deps: CoreDeps
    accounts: AccountService
    messages: MessageService
    queries: QueryService
    notifications: NotificationService
    admin: AdminService
    outbox: OutboxDispatcher
    #: Idempotency keys of requests that create something (see :mod:`.idempotency`).
    idempotency: IdempotencyService
    #: SOP deadlines, the lateness sweep and the calendar's days off.
    sop: SopService
    #: The audit log of personal-data reads (record, list).
    audit: AuditService
    #: The audited reveal of an anonymous sender.
    privacy: PrivacyService
    #: A citizen's export and deletion of their own data; attachment retention.
    data_rights: DataRightsService
    #: Readiness checks (``/readyz``).
    health: HealthService
    #: Settles attachment files a killed process left pending.
    attachments: AttachmentSweep
    #: A NIK verified by someone else: the super admin finds and releases it.
    nik_claims: NikClaimService
    #: The hash-chained message logs: verify, daily roots, the public check.
    log_chain: LogChainService
    #: Follow-ups between the sender and the agency while a message is open.
    followups: FollowupService
    #: Oversight reviews of poorly rated messages (reopen or dismiss).
    reviews: ReviewService
    #: The pluggy plugin manager the use cases call (set by ``bootstrap``).
    plugin_manager: object = None

    @classmethod
    def from_deps(cls, deps: CoreDeps) -> Aspirasi:
        sop = SopService(deps)
        data_rights = DataRightsService(deps)
        attachments = AttachmentSweep(deps)
        idempotency = IdempotencyService(deps)
        accounts = AccountService(deps)
        audit = AuditService(deps)
        log_chain = LogChainService(deps)
        return cls(
            deps=deps,
            accounts=accounts,
            messages=MessageService(deps, sop),
            queries=QueryService(deps),
            notifications=NotificationService(deps),
            admin=AdminService(deps),
            outbox=OutboxDispatcher(
                deps,
                sweep=periodic_sweeps(
                    sop.sweep,
                    data_rights.sweep,
                    attachments.sweep,
                    idempotency.sweep,
                    accounts.sweep_unverified,
                    audit.sweep,
                    log_chain.sweep,
                    PlannerStatistics(deps).sweep,
                ),
            ),
            idempotency=idempotency,
            sop=sop,
            audit=audit,
            privacy=PrivacyService(deps),
            data_rights=data_rights,
            health=HealthService(deps),
            attachments=attachments,
            nik_claims=NikClaimService(deps),
            log_chain=log_chain,
            followups=FollowupService(deps),
            reviews=ReviewService(deps),
        )


def periodic_sweeps(*sweeps: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """One sweep for the outbox worker that runs each of ``sweeps`` in turn (every
    ``ASPIRASI_SOP_SWEEP_SECONDS``); one that fails is logged and the next still runs.
    Returns how many things they handled together."""

    async def sweep() -> int:
        handled = 0
        for one in sweeps:
            try:
                handled += await one()
            except Unavailable as exc:  # named and logged by the storage layer
                structlog.get_logger("aspirasi.sweep").warning(
                    "sweep_skipped", sweep=getattr(one, "__qualname__", repr(one)), code=exc.code
                )
            except Exception:
                structlog.get_logger("aspirasi.sweep").exception(
                    "sweep_failed", sweep=getattr(one, "__qualname__", repr(one))
                )
        return handled

    return sweep


__all__ = [
    "LANGUAGES",
    "UNSET",
    "AccountChanges",
    "AccountService",
    "AdminService",
    "Aspirasi",
    "AttachmentSweep",
    "AuditQuery",
    "AuditService",
    "BackofficeQuery",
    "Context",
    "CoreDeps",
    "DataExport",
    "DataRightsService",
    "FollowupService",
    "HealthService",
    "IdempotencyClaim",
    "IdempotencyRequest",
    "IdempotencyService",
    "LogChainService",
    "LoginResult",
    "Lookup",
    "MessageDetail",
    "MessageService",
    "NikClaimService",
    "NotificationService",
    "OutboxDispatcher",
    "PrivacyService",
    "PublicMessage",
    "QueryService",
    "Readiness",
    "RegisterInput",
    "RevealedSender",
    "ReviewService",
    "SopService",
    "StaffDirectory",
    "StaffInput",
    "StoredResponse",
    "SubmitInput",
    "SystemClock",
    "TrackedMessage",
    "Upload",
    "VerifyReport",
    "check_key",
    "periodic_sweeps",
]
