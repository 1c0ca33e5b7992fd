"""The evaluator's use cases: the report, and reprimands (teguran).

Each takes a :class:`~aspirasi_core.services.Context` (the actor) and checks
access itself. Writes run in one transaction with
:func:`aspirasi_core.services.core.run_write`: the rows, the in-app
notifications and the event (turned into mails by notify_email in the same
transaction). Every change is logged with structlog (ids only, never texts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
import structlog
from sqlalchemy import Connection, insert, select, update

from aspirasi_core.domain.errors import (
    Conflict,
    FieldError,
    Invalid,
    NotAllowed,
    NotFound,
    Unauthenticated,
)
from aspirasi_core.domain.model import Actor, Page, Role
from aspirasi_core.domain.validation import check_id, clean_text
from aspirasi_core.services import Context
from aspirasi_core.services.core import CoreDeps, EventRecorder, run_write
from aspirasi_core.services.cursor import decode_cursor, encode_cursor, page_size
from aspirasi_core.storage.tables import accounts, agencies, messages

from . import EVALUATE
from .events import ReprimandAcknowledged, ReprimandIssued
from .report import DateRange, DrillFilter, DrillRow, Report, build_report, drill_rows
from .report import overdue_messages_of as _overdue_messages_of
from .tables import reprimand_messages, reprimands

log = structlog.get_logger("aspirasi.evaluator")

#: Longest reprimand text and response, in characters.
TEXT_MAX = 4000
#: Most messages one reprimand may name.
MESSAGES_MAX = 200
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

    def hide(self) -> ReprimandMessage:
        return ReprimandMessage(None, self.ticket, None, None, None, hidden=True)


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

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def _actor(ctx: Context) -> Actor:
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


def _text(value: Any, field: str, *, required_message: str) -> str:
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


def _ids(value: Any) -> list[int]:
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


def _agency_id(value: Any) -> int:
    checked = _id(value, "agency_id")
    if checked is None:
        raise Invalid.field("agency_id", "agency_required", "Choose an agency.")
    return checked


def _reprimand_id(value: Any) -> int:
    """A reprimand id from the path; out of range (≥ 2**62) is as unknown."""
    checked = _id(value, "reprimand_id")
    if checked is None:
        raise NotFound("The reprimand was not found.", code="reprimand_not_found")
    return checked


# ----------------------------------------------------------------------------- reading


def _load(conn: Connection, ids: Sequence[int]) -> list[Reprimand]:
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
        )
        .select_from(
            reprimand_messages.join(messages, messages.c.id == reprimand_messages.c.message_id)
        )
        .where(reprimand_messages.c.reprimand_id.in_(list(ids)))
        .order_by(reprimand_messages.c.reprimand_id, messages.c.id)
    ):
        linked[r.reprimand_id].append(
            ReprimandMessage(r.id, r.ticket, r.subject, r.status, r.agency_id)
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
        )
        for r in rows
    }
    return [by_id[i] for i in ids if i in by_id]


class EvaluatorService:
    """The use cases of the plugin, on the core's dependencies."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    # ------------------------------------------------------------------ access
    def is_evaluator(self, actor: Actor | None) -> bool:
        return self._d.policy.allows(actor, EVALUATE)

    def require_evaluator(self, ctx: Context) -> Actor:
        actor = _actor(ctx)
        self._d.policy.require(actor, EVALUATE)
        return actor

    @staticmethod
    def is_agency_operator(actor: Actor | None) -> bool:
        return (
            actor is not None
            and actor.active
            and actor.verified
            and actor.role == Role.OPERATOR
            and actor.agency_id is not None
        )

    def may_see_reprimands(self, actor: Actor | None) -> bool:
        return self.is_evaluator(actor) or self.is_agency_operator(actor)

    # ------------------------------------------------------------------ report
    def default_range(self) -> DateRange:
        return DateRange.default(self._d.clock.now(), self._d.settings.timezone)

    def parse_range(self, raw_from: str | None, raw_to: str | None) -> DateRange:
        return DateRange.parse(
            raw_from, raw_to, now=self._d.clock.now(), tz=self._d.settings.timezone
        )

    async def report(self, ctx: Context, rng: DateRange) -> Report:
        self.require_evaluator(ctx)
        now = self._d.clock.now()
        return await self._d.db.transaction(
            lambda uow: build_report(uow.connection, rng, now),  # type: ignore[attr-defined]
            write=False,
        )

    async def drill(
        self, ctx: Context, flt: DrillFilter, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[DrillRow]:
        self.require_evaluator(ctx)
        now = self._d.clock.now()
        before = decode_cursor(cursor)
        size = page_size(limit)
        rows = await self._d.db.transaction(
            lambda uow: drill_rows(
                uow.connection,  # type: ignore[attr-defined]
                flt,
                now,
                before_id=before,
                limit=size + 1,
            ),
            write=False,
        )
        items = tuple(rows[:size])
        return Page(
            items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
        )

    async def drill_all(self, ctx: Context, flt: DrillFilter, limit: int) -> list[DrillRow]:
        """Up to ``limit`` rows of a drill-down (for the exports)."""
        self.require_evaluator(ctx)
        now = self._d.clock.now()
        return await self._d.db.transaction(
            lambda uow: drill_rows(uow.connection, flt, now, limit=limit),  # type: ignore[attr-defined]
            write=False,
        )

    async def agency(self, ctx: Context, agency_id: int) -> Any:
        """An agency (for the reprimand form); NotFound when unknown."""
        self.require_evaluator(ctx)
        found = await self._d.db.transaction(
            lambda uow: uow.directory.agency(agency_id), write=False
        )
        if found is None:
            raise NotFound("The agency was not found.", code="agency_not_found")
        return found

    async def overdue_messages(self, ctx: Context, agency_id: int) -> list[DrillRow]:
        """The agency's currently overdue messages (what a reprimand may name)."""
        self.require_evaluator(ctx)
        now = self._d.clock.now()
        return await self._d.db.transaction(
            lambda uow: _overdue_messages_of(uow.connection, agency_id, now),  # type: ignore[attr-defined]
            write=False,
        )

    # ------------------------------------------------------------------ reprimands
    async def issue(self, ctx: Context, agency_id: Any, message_ids: Any, text: Any) -> Reprimand:
        """Issue a reprimand to ``agency_id`` about some of its overdue messages.

        Every message must currently be overdue and forwarded to that agency;
        otherwise :class:`Invalid` on ``message_ids`` naming the first offender.
        """
        actor = self.require_evaluator(ctx)
        errors: list[FieldError] = []
        parsed: dict[str, Any] = {}
        for name, fn in (
            ("agency_id", lambda: _agency_id(agency_id)),
            ("message_ids", lambda: _ids(message_ids)),
            (
                "text",
                lambda: _text(text, "text", required_message="Write the reprimand."),
            ),
        ):
            try:
                parsed[name] = fn()
            except Invalid as exc:
                errors.extend(exc.errors)
        if errors:
            raise Invalid(errors=errors)
        deps = self._d

        def script(uow: Any, events: EventRecorder) -> Reprimand:
            conn: Connection = uow.connection
            now = deps.clock.now()
            agency = uow.directory.agency(parsed["agency_id"])
            if agency is None:
                raise Invalid.field("agency_id", "agency_unknown", "Choose an agency.")
            if actor.agency_id is not None and actor.agency_id == agency.id:
                raise Invalid.field(
                    "agency_id", "own_agency", "You cannot reprimand your own agency."
                )
            rows = {
                r.id: r
                for r in conn.execute(
                    select(
                        messages.c.id,
                        messages.c.ticket,
                        messages.c.status,
                        messages.c.agency_id,
                        messages.c.due_at,
                    ).where(messages.c.id.in_(parsed["message_ids"]))
                )
            }
            for mid in parsed["message_ids"]:
                row = rows.get(mid)
                if row is None or row.status == "withdrawn" or row.agency_id != agency.id:
                    raise Invalid.field(
                        "message_ids",
                        "other_agency",
                        "Message %(ticket)s is not handled by this agency.",
                        ticket=row.ticket
                        if row is not None and row.status != "withdrawn"
                        else f"#{mid}",
                    )
                due = row.due_at
                if due is not None and due.tzinfo is None:
                    due = due.replace(tzinfo=now.tzinfo)
                if (
                    due is None
                    or due > now
                    or row.status not in ("submitted", "forwarded", "in_progress")
                ):
                    raise Invalid.field(
                        "message_ids",
                        "not_overdue",
                        "Message %(ticket)s is not overdue.",
                        ticket=row.ticket,
                    )
            new_id = conn.execute(
                insert(reprimands)
                .values(
                    agency_id=agency.id,
                    issued_by=actor.account_id,
                    text=parsed["text"],
                    created_at=now,
                )
                .returning(reprimands.c.id)
            ).scalar_one()
            conn.execute(
                insert(reprimand_messages),
                [{"reprimand_id": new_id, "message_id": mid} for mid in parsed["message_ids"]],
            )
            operators = uow.accounts.recipients(role=Role.OPERATOR, agency_id=agency.id)
            ids = sorted({a.id for a in operators if a.id != actor.account_id})
            if ids:
                uow.notifications.add_many(
                    ids,
                    kind=NOTIFICATION_ISSUED,
                    message_id=None,
                    text="Your agency received a reprimand (teguran) about %(count)s overdue"
                    " message(s). Open Reprimands to respond.",
                    params={"count": str(len(parsed["message_ids"]))},
                    created_at=now,
                )
            tickets = tuple(rows[mid].ticket for mid in parsed["message_ids"])
            events.record(
                ReprimandIssued(
                    reprimand_id=new_id,
                    agency_id=agency.id,
                    agency_name=agency.name,
                    issued_by=actor.account_id,
                    text=parsed["text"],
                    tickets=tickets,
                    at=now,
                )
            )
            [loaded] = _load(conn, [new_id])
            return loaded

        reprimand = await run_write(deps, script)
        log.info(
            "reprimand_issued",
            reprimand_id=reprimand.id,
            agency_id=reprimand.agency_id,
            issued_by=actor.account_id,
            message_ids=[m.id for m in reprimand.messages],
            request_id=ctx.request_id,
        )
        return reprimand

    async def acknowledge(self, ctx: Context, reprimand_id: int, response: Any) -> Reprimand:
        """An operator of the reprimanded agency acknowledges it, once, with a response.

        Someone who may not see the reprimand gets :class:`NotFound`; an
        evaluator who is not an operator of the agency :class:`NotAllowed`; a
        second acknowledgement :class:`Conflict`.
        """
        actor = _actor(ctx)
        if not self.may_see_reprimands(actor):
            raise NotAllowed("You are not allowed to do this.", code="forbidden")
        wanted = _reprimand_id(reprimand_id)
        deps = self._d

        def script(uow: Any, events: EventRecorder) -> Reprimand:
            conn: Connection = uow.connection
            now = deps.clock.now()
            found = _load(conn, [wanted])
            if not found or not self._visible(actor, found[0]):
                raise NotFound("The reprimand was not found.", code="reprimand_not_found")
            current = found[0]
            if not (self.is_agency_operator(actor) and actor.agency_id == current.agency_id):
                raise NotAllowed(
                    "Only an operator of the agency can acknowledge a reprimand.",
                    code="forbidden",
                )
            if current.issued_by == actor.account_id:
                raise NotAllowed(
                    "You issued this reprimand: another operator must acknowledge it.",
                    code="own_reprimand",
                )
            if current.acknowledged:
                raise Conflict(
                    "This reprimand was already acknowledged.",
                    code="reprimand_already_acknowledged",
                )
            text = _text(response, "response", required_message="Write your response.")
            changed = conn.execute(
                update(reprimands)
                .where(reprimands.c.id == current.id, reprimands.c.acknowledged_at.is_(None))
                .values(acknowledged_by=actor.account_id, acknowledged_at=now, response=text)
            ).rowcount
            if changed != 1:
                raise Conflict(
                    "This reprimand was already acknowledged.",
                    code="reprimand_already_acknowledged",
                )
            if current.issued_by != actor.account_id:
                uow.notifications.add_many(
                    [current.issued_by],
                    kind=NOTIFICATION_ACKNOWLEDGED,
                    message_id=None,
                    text="%(agency)s acknowledged your reprimand (teguran).",
                    params={"agency": current.agency_name[:120]},
                    created_at=now,
                )
            events.record(
                ReprimandAcknowledged(
                    reprimand_id=current.id,
                    agency_id=current.agency_id,
                    agency_name=current.agency_name,
                    issued_by=current.issued_by,
                    acknowledged_by=actor.account_id,
                    response=text,
                    at=now,
                )
            )
            [loaded] = _load(conn, [current.id])
            return self.for_reader(actor, loaded)

        reprimand = await run_write(deps, script)
        log.info(
            "reprimand_acknowledged",
            reprimand_id=reprimand.id,
            agency_id=reprimand.agency_id,
            acknowledged_by=actor.account_id,
            request_id=ctx.request_id,
        )
        return reprimand

    def may_acknowledge(self, actor: Actor | None, reprimand: Reprimand) -> bool:
        """An operator of the agency, who did not issue it, while not yet acknowledged."""
        return (
            actor is not None
            and self.is_agency_operator(actor)
            and actor.agency_id == reprimand.agency_id
            and reprimand.issued_by != actor.account_id
            and not reprimand.acknowledged
        )

    def for_reader(self, actor: Actor, reprimand: Reprimand) -> Reprimand:
        """What ``actor`` may read of a reprimand: evaluators (and super admins)
        everything; an operator only the ticket of a message that is no longer
        forwarded to their agency (re-forwarded since), not its subject or status."""
        if self.is_evaluator(actor):
            return reprimand
        if not any(m.agency_id != actor.agency_id for m in reprimand.messages):
            return reprimand
        return attrs.evolve(
            reprimand,
            messages=tuple(
                m if m.agency_id == actor.agency_id and m.agency_id is not None else m.hide()
                for m in reprimand.messages
            ),
        )

    def _visible(self, actor: Actor, reprimand: Reprimand) -> bool:
        if self.is_evaluator(actor):
            return True
        return self.is_agency_operator(actor) and actor.agency_id == reprimand.agency_id

    async def get(self, ctx: Context, reprimand_id: int) -> Reprimand:
        actor = _actor(ctx)
        if not self.may_see_reprimands(actor):
            raise NotAllowed("You are not allowed to do this.", code="forbidden")
        wanted = _reprimand_id(reprimand_id)
        found = await self._d.db.transaction(
            lambda uow: _load(uow.connection, [wanted]),  # type: ignore[attr-defined]
            write=False,
        )
        if not found or not self._visible(actor, found[0]):
            raise NotFound("The reprimand was not found.", code="reprimand_not_found")
        return self.for_reader(actor, found[0])

    async def list(
        self,
        ctx: Context,
        *,
        agency_id: int | None = None,
        issued_in: DateRange | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Reprimand]:
        """Newest first: every reprimand for evaluators (optionally one agency's),
        the own agency's for its operators; anyone else is refused. ``issued_in``:
        only the reprimands issued in that range (as the report counts them)."""
        actor = _actor(ctx)
        if self.is_evaluator(actor):
            only = agency_id
        elif self.is_agency_operator(actor):
            only = actor.agency_id
        else:
            raise NotAllowed("You are not allowed to do this.", code="forbidden")
        before = decode_cursor(cursor)
        size = page_size(limit)

        def read(uow: Any) -> list[Reprimand]:
            conn: Connection = uow.connection
            stmt = select(reprimands.c.id).order_by(reprimands.c.id.desc()).limit(size + 1)
            if only is not None:
                stmt = stmt.where(reprimands.c.agency_id == only)
            if before is not None:
                stmt = stmt.where(reprimands.c.id < before)
            if issued_in is not None:
                stmt = stmt.where(
                    reprimands.c.created_at >= issued_in.start,
                    reprimands.c.created_at < issued_in.end,
                )
            return [
                self.for_reader(actor, r) for r in _load(conn, list(conn.execute(stmt).scalars()))
            ]

        rows = await self._d.db.transaction(read, write=False)
        items = tuple(rows[:size])
        return Page(
            items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
        )
