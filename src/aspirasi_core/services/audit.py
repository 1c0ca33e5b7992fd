"""The audit log: recording staff reads of personal data (and other audited
acts), and the super admin's filtered view of it.

Recording, for any use case (core or plugin):

* inside the transaction of the act itself — the entry commits or rolls back
  with it::

      from aspirasi_core.services.audit import record

      def script(uow):
          ...  # release the NIK
          record(uow, ctx, "account.nik_release", at=deps.clock.now(),
                 subject_account_id=account.id, reason=reason)

* on its own, after a read whose answer must not leave without an entry::

      await app.audit.record(ctx, "account.data_export", subject_account_id=me.id)

The actor and the client address come from the :class:`Context`. Action names
are ``<object>.<verb>`` (:func:`aspirasi_core.domain.audit.check_action`); the
core's own are in :class:`~aspirasi_core.domain.audit.AuditAction`. Never put a
NIK, a password or a token into ``reason`` or ``details``.

Entries are never changed; :meth:`AuditService.sweep` (run by the periodic
sweep) removes those older than ``ASPIRASI_AUDIT_RETENTION_DAYS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import anyio.to_thread
import attrs
import structlog

from ..domain.audit import ACTION_MAX, ACTION_PATTERN, AuditEntry, check_action
from ..domain.errors import Unauthenticated
from ..domain.model import Page
from ..domain.policy import Perm
from ..domain.validation import LIMITS, Collector, check_id, clean_text
from .context import Context
from .core import CoreDeps
from .cursor import decode_cursor, encode_cursor, page_size
from .ports import AuditFilter, NewAuditEntry, UnitOfWork

log = structlog.get_logger("aspirasi.audit")

#: Entries removed per transaction by the retention sweep.
RETENTION_BATCH = 1000
#: Longest client address kept (an IPv6 address with a zone fits).
CLIENT_IP_MAX = 64
#: At most this many ``details``, each value at most this long.
DETAILS_MAX = 20
DETAIL_VALUE_MAX = 200


def audit_entry(
    ctx: Context,
    action: str,
    *,
    at: datetime,
    subject_account_id: int | None = None,
    subject_message_id: int | None = None,
    reason: str = "",
    details: Mapping[str, object] | None = None,
) -> NewAuditEntry:
    """The entry :func:`record` writes, checked: ``action`` must be a valid name
    (else ``ValueError``), ``reason`` is cleaned like any typed text (at most
    2,000 characters; else :class:`Invalid` on the field ``reason``)."""
    check_action(action)
    cleaned = clean_text(
        reason, "reason", max_length=LIMITS["reason"], required=False, multiline=True
    )
    extra = {str(k): str(v) for k, v in (details or {}).items()}
    if len(extra) > DETAILS_MAX or any(len(v) > DETAIL_VALUE_MAX for v in extra.values()):
        raise ValueError(
            f"audit details: at most {DETAILS_MAX} values of {DETAIL_VALUE_MAX} characters"
        )
    ip = ctx.client_ip[:CLIENT_IP_MAX] if ctx.client_ip else None
    return NewAuditEntry(
        at=at,
        action=action,
        actor_id=ctx.actor.account_id if ctx.actor is not None else None,
        subject_account_id=subject_account_id,
        subject_message_id=subject_message_id,
        reason=cleaned or "",
        client_ip=ip,
        details=extra,
    )


def record(
    uow: UnitOfWork,
    ctx: Context,
    action: str,
    *,
    at: datetime,
    subject_account_id: int | None = None,
    subject_message_id: int | None = None,
    reason: str = "",
    details: Mapping[str, object] | None = None,
) -> int:
    """Write one audit entry in the open transaction ``uow`` and return its id.

    ``ctx`` gives the actor (None: the system) and the client address; ``at`` is
    the time of the act (``deps.clock.now()``); ``subject_account_id`` is whose
    personal data was read or changed, ``subject_message_id`` the message
    concerned; ``reason`` what the actor wrote to justify it; ``details`` small
    extra facts (text). See :func:`audit_entry` for the checks.
    """
    entry = audit_entry(
        ctx,
        action,
        at=at,
        subject_account_id=subject_account_id,
        subject_message_id=subject_message_id,
        reason=reason,
        details=details,
    )
    return uow.audit.add(entry)


@attrs.frozen
class AuditQuery:
    """What the super admin filters the audit log by (all optional), as typed:
    ``actor`` is an account id, a username or an e-mail address; ``action`` an
    action name; ``subject_account_id`` and ``subject_message_id`` ids;
    ``ticket`` a message's ticket (instead of its id); ``at_from`` (inclusive)
    and ``at_to`` (exclusive) instants."""

    actor: str | int | None = None
    action: str | None = None
    subject_account_id: str | int | None = None
    subject_message_id: str | int | None = None
    ticket: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None


class AuditService:
    """``app.audit``: record an entry in a transaction of its own, and list the log."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    async def record(
        self,
        ctx: Context,
        action: str,
        *,
        subject_account_id: int | None = None,
        subject_message_id: int | None = None,
        reason: str = "",
        details: Mapping[str, object] | None = None,
    ) -> int:
        """:func:`record` (same parameters, ``at`` being now) as a transaction of
        its own (one statement); returns the entry's id. For an act that has a
        transaction of its own, call :func:`record` inside it instead."""
        at = self._d.clock.now()
        return await self._d.db.transaction(
            lambda uow: record(
                uow,
                ctx,
                action,
                at=at,
                subject_account_id=subject_account_id,
                subject_message_id=subject_message_id,
                reason=reason,
                details=details,
            ),
            write=True,
        )

    def sweep_sync(self, *, limit: int = RETENTION_BATCH) -> int:
        """Remove the entries older than ``ASPIRASI_AUDIT_RETENTION_DAYS`` (with the
        client addresses they hold), in batches; returns how many. Nothing when
        the setting is 0."""
        days = self._d.settings.audit_retention_days
        if days <= 0:
            return 0
        before = self._d.clock.now() - timedelta(days=days)
        removed = 0
        while True:
            count = self._d.db.run_sync(
                lambda uow: uow.audit.delete_older_than(before, limit=limit), write=True
            )
            removed += count
            if count < limit:
                break
        if removed:
            log.info("audit_entries_expired", removed=removed, retention_days=days)
        return removed

    async def sweep(self, *, limit: int = RETENTION_BATCH) -> int:
        """:meth:`sweep_sync` in a worker thread."""
        return await anyio.to_thread.run_sync(lambda: self.sweep_sync(limit=limit))

    def _filter(self, uow: UnitOfWork, query: AuditQuery) -> AuditFilter | None:
        """The checked filter; None when it names an actor or a ticket that does
        not exist (nothing can match)."""
        collector = Collector()
        actor_id: int | None = None
        if query.actor not in (None, ""):
            raw = query.actor
            if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()):
                actor_id = collector.check(check_id, raw, "actor")
            elif isinstance(raw, str) and len(raw) <= LIMITS["email"]:
                found = uow.accounts.find_by_login(raw.strip().lower())
                if found is None:
                    return None
                actor_id = found.id
            else:
                collector.add("actor", "actor_invalid", "Enter an account id or a username.")
        action = query.action.strip() if isinstance(query.action, str) else None
        if action and (len(action) > ACTION_MAX or not ACTION_PATTERN.fullmatch(action)):
            collector.add("action", "action_invalid", "Choose a known action.")
        subject_account_id = (
            collector.check(check_id, query.subject_account_id, "subject_account_id")
            if query.subject_account_id not in (None, "")
            else None
        )
        subject_message_id = (
            collector.check(check_id, query.subject_message_id, "subject_message_id")
            if query.subject_message_id not in (None, "")
            else None
        )
        ticket = query.ticket.strip() if isinstance(query.ticket, str) else None
        if query.at_from and query.at_to and query.at_to <= query.at_from:
            collector.add("at_to", "date_order", "The end date must come after the start date.")
        collector.raise_if_any()
        if ticket:
            message = uow.messages.get_by_ticket(ticket.upper()) if len(ticket) <= 32 else None
            if message is None:
                return None
            if subject_message_id is not None and subject_message_id != message.id:
                return None
            subject_message_id = message.id
        return AuditFilter(
            actor_id=actor_id,
            action=action or None,
            subject_account_id=subject_account_id,
            subject_message_id=subject_message_id,
            at_from=query.at_from,
            at_to=query.at_to,
        )

    async def list(
        self,
        ctx: Context,
        query: AuditQuery | None = None,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[AuditEntry]:
        """The audit log, newest first, filtered; super admins only (``audit.read``)."""
        if ctx.actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        self._d.policy.require(ctx.actor, Perm.AUDIT_READ)
        before = decode_cursor(cursor)
        size = page_size(limit)
        wanted = query or AuditQuery()

        def script(uow: UnitOfWork) -> list[AuditEntry]:
            flt = self._filter(uow, wanted)
            if flt is None:
                return []
            return uow.audit.list(flt, before_id=before, limit=size + 1)

        rows = await self._d.db.transaction(script, write=False)
        items = tuple(rows[:size])
        next_cursor = encode_cursor(items[-1].id) if len(rows) > size and items else None
        return Page(items=items, next_cursor=next_cursor)


__all__ = ["AuditEntry", "AuditQuery", "AuditService", "audit_entry", "record"]
