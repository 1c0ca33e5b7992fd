"""The plugin's domain events, recorded by :mod:`aspirasi_evaluator.service` in
the transaction of the change, so ``aspirasi_outbox_items`` (notify_email)
turns them into mails in the same transaction, and ``aspirasi_after_event``
hears them after the commit."""

from __future__ import annotations

from datetime import datetime

import attrs

from aspirasi_core.domain.events import Event


@attrs.frozen
class ReprimandIssued(Event):
    """An evaluator issued a reprimand (teguran) to an agency."""

    reprimand_id: int
    agency_id: int
    agency_name: str
    issued_by: int
    text: str
    #: Tickets of the overdue messages it is about, in id order.
    tickets: tuple[str, ...]
    at: datetime


@attrs.frozen
class ReprimandAcknowledged(Event):
    """An operator of the agency acknowledged a reprimand with a response."""

    reprimand_id: int
    agency_id: int
    agency_name: str
    issued_by: int
    acknowledged_by: int
    response: str
    at: datetime
