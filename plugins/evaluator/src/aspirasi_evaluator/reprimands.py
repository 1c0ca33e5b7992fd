"""Reprimands (teguran): what one is, the checks of what people type into one,
and reading them back with their names and messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import select

from aspirasi_core.domain.errors import Invalid, NotFound
from aspirasi_core.domain.validation import check_id, clean_text
from aspirasi_core.plugin_types import Transaction

from .core_tables import accounts, agencies, messages
from .tables import reprimand_messages, reprimands

#: Longest reprimand text and response, in characters.
TEXT_MAX = 4000
#: Most messages one reprimand may name.
MESSAGES_MAX = 200
#: Why a reprimand is issued: code → its label (a message id).
REASONS: dict[str, str] = {
    "overdue": "The SOP deadline has passed",
    "not_followed_up": "The message was not followed up",
    "poor_answer": "The answer was poor or incomplete",
    "other": "Another reason (see the text)",
}
#: Escalation: the n-th reprimand of one agency within :data:`ESCALATION_DAYS`.
LEVELS: dict[int, str] = {
    1: "First notice",
    2: "Warning",
    3: "Report to the governor's office",
}
#: The period over which an agency's reprimands add up.
ESCALATION_DAYS = 90
#: Kind of the in-app notifications.
NOTIFICATION_ISSUED = "evaluator_reprimand"
NOTIFICATION_ACKNOWLEDGED = "evaluator_reprimand_acknowledged"


@attrs.frozen
class ReprimandMessage:
    """A message a reprimand names. ``hidden``: the reader is an operator of
    another agency than the message's current one (it was re-forwarded since):
    only the ticket is shown, ``id``, ``subject`` and ``status`` are None."""

    id: int | None
    ticket: str
    subject: str | None
    status: str | None
    agency_id: int | None = None
    hidden: bool = False
    #: Past its SOP deadline when the reprimand was issued.
    overdue: bool = True

    def hide(self) -> ReprimandMessage:
        return ReprimandMessage(
            None, self.ticket, None, None, None, hidden=True, overdue=self.overdue
        )


@attrs.frozen
class Reprimand:
    id: int
    agency_id: int
    agency_name: str
    issued_by: int
    issued_by_name: str
    text: str
    created_at: datetime
    acknowledged_by: int | None
    acknowledged_by_name: str | None
    acknowledged_at: datetime | None
    response: str | None
    messages: tuple[ReprimandMessage, ...]
    #: A code of :data:`REASONS`.
    reason: str = "overdue"
    #: The escalation level (:data:`LEVELS`).
    level: int = 1

    @property
    def reason_label(self) -> str:
        return REASONS.get(self.reason, self.reason)

    @property
    def level_label(self) -> str:
        return LEVELS.get(self.level, LEVELS[3])

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def checked_text(value: Any, field: str, *, required_message: str) -> str:
    """A reprimand's text or a response: the core's :func:`clean_text` (NFC,
    stripped, no control or format characters such as NUL, ESC or bidi
    overrides; line breaks kept), with the plugin's messages for the
    empty and the too long text."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid.field(field, "text_required", required_message)
    try:
        return clean_text(value, field, max_length=TEXT_MAX, multiline=True)
    except Invalid as exc:
        codes = {e.code for e in exc.errors}
        if "required" in codes:
            raise Invalid.field(field, "text_required", required_message) from None
        if "too_long" in codes:
            raise Invalid.field(
                field, "text_too_long", "At most %(max)s characters, please.", max=TEXT_MAX
            ) from None
        raise


def _id(value: Any, field: str) -> int | None:
    """An id (1..2**62) from JSON or a form, or None: the core's :func:`check_id`
    (digit strings of at most 19 digits, so never a huge ``int()``)."""
    if isinstance(value, str) and len(value) > 64:
        return None
    try:
        return check_id(value, field)
    except Invalid:
        return None


def checked_message_ids(value: Any) -> list[int]:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise Invalid.field(
            "message_ids", "messages_required", "Choose at least one overdue message."
        )
    if len(value) > 10 * MESSAGES_MAX:
        raise Invalid.field(
            "message_ids",
            "too_many_messages",
            "At most %(max)s messages in one reprimand.",
            max=MESSAGES_MAX,
        )
    ids: list[int] = []
    for item in value:
        checked = _id(item, "message_ids")
        if checked is None:
            raise Invalid.field("message_ids", "bad_id", "Choose a valid value.")
        ids.append(checked)
    ids = sorted(set(ids))
    if len(ids) > MESSAGES_MAX:
        raise Invalid.field(
            "message_ids",
            "too_many_messages",
            "At most %(max)s messages in one reprimand.",
            max=MESSAGES_MAX,
        )
    return ids


def checked_reason(value: Any) -> str:
    """A code of :data:`REASONS`."""
    if not isinstance(value, str) or value not in REASONS:
        raise Invalid.field("reason", "reason_required", "Choose the reason of the reprimand.")
    return value


def level_after(earlier: int) -> int:
    """The level of a reprimand that follows ``earlier`` ones of the same agency
    within :data:`ESCALATION_DAYS`."""
    return min(earlier + 1, max(LEVELS))


def checked_agency_id(value: Any) -> int:
    checked = _id(value, "agency_id")
    if checked is None:
        raise Invalid.field("agency_id", "agency_required", "Choose an agency.")
    return checked


def checked_reprimand_id(value: Any) -> int:
    """A reprimand id from the path; out of range (≥ 2**62) is as unknown."""
    checked = _id(value, "reprimand_id")
    if checked is None:
        raise NotFound("The reprimand was not found.", code="reprimand_not_found")
    return checked


# ----------------------------------------------------------------------------- reading


def load_reprimands(conn: Transaction, ids: Sequence[int]) -> list[Reprimand]:
    """Reprimands by id (in the order given), with names and messages."""
    if not ids:
        return []
    issuer = accounts.alias("issuer")
    acker = accounts.alias("acker")
    rows = conn.execute(
        select(
            reprimands,
            agencies.c.name.label("agency_name"),
            issuer.c.full_name.label("issued_by_name"),
            acker.c.full_name.label("acknowledged_by_name"),
        )
        .select_from(
            reprimands.join(agencies, agencies.c.id == reprimands.c.agency_id)
            .join(issuer, issuer.c.id == reprimands.c.issued_by)
            .outerjoin(acker, acker.c.id == reprimands.c.acknowledged_by)
        )
        .where(reprimands.c.id.in_(list(ids)))
    ).all()
    linked: dict[int, list[ReprimandMessage]] = {i: [] for i in ids}
    for r in conn.execute(
        select(
            reprimand_messages.c.reprimand_id,
            messages.c.id,
            messages.c.ticket,
            messages.c.subject,
            messages.c.status,
            messages.c.agency_id,
            reprimand_messages.c.overdue,
        )
        .select_from(
            reprimand_messages.join(messages, messages.c.id == reprimand_messages.c.message_id)
        )
        .where(reprimand_messages.c.reprimand_id.in_(list(ids)))
        .order_by(reprimand_messages.c.reprimand_id, messages.c.id)
    ):
        linked[r.reprimand_id].append(
            ReprimandMessage(
                r.id, r.ticket, r.subject, r.status, r.agency_id, overdue=bool(r.overdue)
            )
        )
    by_id = {
        r.id: Reprimand(
            id=r.id,
            agency_id=r.agency_id,
            agency_name=r.agency_name,
            issued_by=r.issued_by,
            issued_by_name=r.issued_by_name,
            text=r.text,
            created_at=r.created_at,
            acknowledged_by=r.acknowledged_by,
            acknowledged_by_name=r.acknowledged_by_name,
            acknowledged_at=r.acknowledged_at,
            response=r.response,
            messages=tuple(linked[r.id]),
            reason=r.reason,
            level=r.level,
        )
        for r in rows
    }
    return [by_id[i] for i in ids if i in by_id]
