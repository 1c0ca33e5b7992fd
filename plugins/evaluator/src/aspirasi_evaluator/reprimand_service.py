"""The reprimand use cases: issuing one, acknowledging it, reading them.

Each takes a :class:`~aspirasi_core.services.Context` (the actor) and checks
access itself (through :class:`~aspirasi_evaluator.service.EvaluatorService`).
Writes run in one write transaction of the plugin API
(:meth:`aspirasi_core.plugin_api.PluginContext.write`): the rows, the in-app
notifications and the event (turned into mails by notify_email in the same
transaction). Every change is logged with structlog
(ids only, never texts).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
import structlog
from sqlalchemy import func, insert, select, update

from aspirasi_core.domain.errors import Conflict, FieldError, Invalid, NotAllowed, NotFound
from aspirasi_core.domain.model import Actor, Page
from aspirasi_core.plugin_types import Transaction, WriteTransaction
from aspirasi_core.services import Context
from aspirasi_core.services.cursor import decode_cursor, encode_cursor, page_size

from .core_tables import messages
from .events import ReprimandAcknowledged, ReprimandIssued
from .period import DateRange
from .reprimands import (
    ESCALATION_DAYS,
    NOTIFICATION_ACKNOWLEDGED,
    NOTIFICATION_ISSUED,
    Reprimand,
    checked_agency_id,
    checked_message_ids,
    checked_reason,
    checked_reprimand_id,
    checked_text,
    level_after,
    load_reprimands,
)
from .service import EvaluatorService, actor_of
from .tables import reprimand_messages, reprimands

log = structlog.get_logger("aspirasi.evaluator")


def _is_overdue(due: datetime | None, now: datetime) -> bool:
    """Past its SOP deadline ``due`` at ``now`` (SQLite returns naive UTC)."""
    if due is None:
        return False
    if due.tzinfo is None:
        due = due.replace(tzinfo=now.tzinfo)
    return due <= now


class ReprimandService:
    """Reprimands, with the access rules of ``access``."""

    def __init__(self, access: EvaluatorService) -> None:
        self._access = access
        self._d = access.aspirasi

    async def issue(
        self,
        ctx: Context,
        agency_id: Any,
        message_ids: Any,
        text: Any,
        reason: Any = "overdue",
    ) -> Reprimand:
        """Issue a reprimand to ``agency_id`` about some of its open messages, for
        ``reason`` (a code of :data:`~.reprimands.REASONS`).

        Every message must be open and with that agency; otherwise
        :class:`Invalid` on ``message_ids`` naming the first offender. Each is
        marked overdue or not as it stands now. The reprimand's level counts the
        agency's reprimands of the last :data:`~.reprimands.ESCALATION_DAYS` days
        (first notice, warning, report to the governor's office).
        """
        actor = self._access.require_evaluator(ctx)
        errors: list[FieldError] = []
        parsed: dict[str, Any] = {}
        for name, fn in (
            ("agency_id", lambda: checked_agency_id(agency_id)),
            ("message_ids", lambda: checked_message_ids(message_ids)),
            ("reason", lambda: checked_reason(reason)),
            (
                "text",
                lambda: checked_text(text, "text", required_message="Write the reprimand."),
            ),
        ):
            try:
                parsed[name] = fn()
            except Invalid as exc:
                errors.extend(exc.errors)
        if errors:
            raise Invalid(errors=errors)
        deps = self._d

        def script(conn: WriteTransaction) -> Reprimand:
            now = deps.clock.now()
            agency = conn.lookup.agency(parsed["agency_id"])
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
                if row.status not in ("submitted", "forwarded", "in_progress"):
                    raise Invalid.field(
                        "message_ids",
                        "not_open",
                        "Message %(ticket)s is closed already.",
                        ticket=row.ticket,
                    )
            overdue = {mid: _is_overdue(rows[mid].due_at, now) for mid in parsed["message_ids"]}
            earlier = conn.execute(
                select(func.count())
                .select_from(reprimands)
                .where(
                    reprimands.c.agency_id == agency.id,
                    reprimands.c.created_at > now - timedelta(days=ESCALATION_DAYS),
                )
            ).scalar_one()
            level = level_after(int(earlier))
            new_id = conn.execute(
                insert(reprimands)
                .values(
                    agency_id=agency.id,
                    issued_by=actor.account_id,
                    text=parsed["text"],
                    created_at=now,
                    reason=parsed["reason"],
                    level=level,
                )
                .returning(reprimands.c.id)
            ).scalar_one()
            conn.execute(
                insert(reprimand_messages),
                [
                    {"reprimand_id": new_id, "message_id": mid, "overdue": overdue[mid]}
                    for mid in parsed["message_ids"]
                ],
            )
            operators = conn.lookup.operators_of(agency.id)
            ids = sorted({a.id for a in operators if a.id != actor.account_id})
            if ids:
                conn.notify(
                    ids,
                    kind=NOTIFICATION_ISSUED,
                    text="Your agency received a reprimand (teguran) about %(count)s"
                    " message(s). Open Reprimands to respond.",
                    params={"count": str(len(parsed["message_ids"]))},
                )
            tickets = tuple(rows[mid].ticket for mid in parsed["message_ids"])
            conn.record(
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
            [loaded] = load_reprimands(conn, [new_id])
            return loaded

        reprimand = await deps.write(script)
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
        actor = actor_of(ctx)
        if not self._access.may_see_reprimands(actor):
            raise NotAllowed("You are not allowed to do this.", code="forbidden")
        wanted = checked_reprimand_id(reprimand_id)
        deps = self._d

        def script(conn: WriteTransaction) -> Reprimand:
            now = deps.clock.now()
            found = load_reprimands(conn, [wanted])
            if not found or not self._visible(actor, found[0]):
                raise NotFound("The reprimand was not found.", code="reprimand_not_found")
            current = found[0]
            if not (
                self._access.is_agency_operator(actor) and actor.agency_id == current.agency_id
            ):
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
            text = checked_text(response, "response", required_message="Write your response.")
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
                conn.notify(
                    [current.issued_by],
                    kind=NOTIFICATION_ACKNOWLEDGED,
                    text="%(agency)s acknowledged your reprimand (teguran).",
                    params={"agency": current.agency_name[:120]},
                )
            conn.record(
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
            [loaded] = load_reprimands(conn, [current.id])
            return self.for_reader(actor, loaded)

        reprimand = await deps.write(script)
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
            and self._access.is_agency_operator(actor)
            and actor.agency_id == reprimand.agency_id
            and reprimand.issued_by != actor.account_id
            and not reprimand.acknowledged
        )

    def for_reader(self, actor: Actor, reprimand: Reprimand) -> Reprimand:
        """What ``actor`` may read of a reprimand: evaluators (and super admins)
        everything; an operator only the ticket of a message that is no longer
        forwarded to their agency (re-forwarded since), not its subject or status."""
        if self._access.is_evaluator(actor):
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
        if self._access.is_evaluator(actor):
            return True
        return self._access.is_agency_operator(actor) and actor.agency_id == reprimand.agency_id

    async def get(self, ctx: Context, reprimand_id: int) -> Reprimand:
        actor = actor_of(ctx)
        if not self._access.may_see_reprimands(actor):
            raise NotAllowed("You are not allowed to do this.", code="forbidden")
        wanted = checked_reprimand_id(reprimand_id)
        found = await self._d.read(lambda tx: load_reprimands(tx, [wanted]))
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
        actor = actor_of(ctx)
        if self._access.is_evaluator(actor):
            only = agency_id
        elif self._access.is_agency_operator(actor):
            only = actor.agency_id
        else:
            raise NotAllowed("You are not allowed to do this.", code="forbidden")
        before = decode_cursor(cursor)
        size = page_size(limit)

        def read(conn: Transaction) -> list[Reprimand]:
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
                self.for_reader(actor, r)
                for r in load_reprimands(conn, list(conn.execute(stmt).scalars()))
            ]

        rows = await self._d.read(read)
        items = tuple(rows[:size])
        return Page(
            items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
        )
