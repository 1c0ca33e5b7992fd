"""The evaluator's use cases: who may evaluate, the report and its drill-down
(reprimands: :mod:`aspirasi_evaluator.reprimand_service`).

Each takes a :class:`~aspirasi_core.services.Context` (the actor) and checks
access itself; reads run in one read transaction.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import Connection

from aspirasi_core.domain.errors import (
    NotFound,
    Unauthenticated,
)
from aspirasi_core.domain.model import Actor, Page, Role
from aspirasi_core.services import Context
from aspirasi_core.services.core import CoreDeps
from aspirasi_core.services.cursor import decode_cursor, encode_cursor, page_size

from . import EVALUATE
from .drill import DrillFilter, DrillRow, drill_rows, overdue_messages_of
from .period import DateRange
from .report import Report, build_report

log = structlog.get_logger("aspirasi.evaluator")


def actor_of(ctx: Context) -> Actor:
    """The signed-in actor of ``ctx``; :class:`Unauthenticated` without one."""
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


def connection(uow: Any) -> Connection:
    """The SQLAlchemy connection of a transaction (``uow.connection``).

    The ``UnitOfWork`` port does not declare it (issue 21 asks the core for a
    public read port); this is the plugin's one place that reaches for it.
    """
    conn: Connection = uow.connection
    return conn


class EvaluatorService:
    """The use cases of the plugin, on the core's dependencies."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    @property
    def deps(self) -> CoreDeps:
        """The core's dependencies (settings, clock, database, policy)."""
        return self._d

    # ------------------------------------------------------------------ access
    def is_evaluator(self, actor: Actor | None) -> bool:
        return self._d.policy.allows(actor, EVALUATE)

    def require_evaluator(self, ctx: Context) -> Actor:
        actor = actor_of(ctx)
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
            lambda uow: build_report(connection(uow), rng, now),
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
                connection(uow),
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
            lambda uow: drill_rows(connection(uow), flt, now, limit=limit),
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
            lambda uow: overdue_messages_of(connection(uow), agency_id, now),
            write=False,
        )
