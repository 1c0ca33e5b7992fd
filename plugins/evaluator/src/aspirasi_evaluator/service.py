"""The evaluator's use cases: who may evaluate, the report and its drill-down
(reprimands: :mod:`aspirasi_evaluator.reprimand_service`).

Each takes a :class:`~aspirasi_core.services.Context` (the actor) and checks
access itself; reads run in one read transaction of the plugin API
(:class:`aspirasi_core.plugin_api.PluginContext`).
"""

from __future__ import annotations

from typing import Any

import structlog

from aspirasi_core.domain.errors import (
    NotFound,
    Unauthenticated,
)
from aspirasi_core.domain.model import Actor, Page, Role
from aspirasi_core.plugin_api import PluginContext
from aspirasi_core.services import Context
from aspirasi_core.services.cursor import decode_cursor, encode_cursor, page_size

from . import EVALUATE
from .drill import DrillFilter, DrillRow, drill_rows, open_messages_of, overdue_messages_of
from .period import DateRange
from .report import Report, build_report
from .transparency import year_range

log = structlog.get_logger("aspirasi.evaluator")


def actor_of(ctx: Context) -> Actor:
    """The signed-in actor of ``ctx``; :class:`Unauthenticated` without one."""
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    return ctx.actor


class EvaluatorService:
    """The use cases of the plugin, on the core's plugin API."""

    def __init__(self, aspirasi: PluginContext) -> None:
        self._d = aspirasi

    @property
    def aspirasi(self) -> PluginContext:
        """The core's plugin API (settings, clock, transactions, policy)."""
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
        # A long report: ASPIRASI_DB_REPORT_STATEMENT_TIMEOUT_MS on PostgreSQL.
        return await self._d.read(lambda tx: build_report(tx, rng, now), report=True)

    async def public_report(self, year: int) -> Report:
        """The report of a calendar year for the public scorecard (no access
        check: the caller publishes only its aggregates, see
        :mod:`aspirasi_evaluator.transparency`)."""
        now = self._d.clock.now()
        rng = year_range(year, self._d.settings.timezone)
        return await self._d.read(lambda tx: build_report(tx, rng, now), report=True)

    def this_year(self) -> int:
        """The current year in the province's time zone."""
        return DateRange.default(self._d.clock.now(), self._d.settings.timezone).start_day.year

    def presets(self) -> dict[str, DateRange]:
        """This month, last month, this year (local)."""
        return DateRange.presets(self._d.clock.now(), self._d.settings.timezone)

    async def drill(
        self, ctx: Context, flt: DrillFilter, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[DrillRow]:
        self.require_evaluator(ctx)
        now = self._d.clock.now()
        before = decode_cursor(cursor)
        size = page_size(limit)
        rows = await self._d.read(
            lambda tx: drill_rows(tx, flt, now, before_id=before, limit=size + 1)
        )
        items = tuple(rows[:size])
        return Page(
            items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
        )

    async def drill_all(self, ctx: Context, flt: DrillFilter, limit: int) -> list[DrillRow]:
        """Up to ``limit`` rows of a drill-down (for the exports)."""
        self.require_evaluator(ctx)
        now = self._d.clock.now()
        return await self._d.read(lambda tx: drill_rows(tx, flt, now, limit=limit), report=True)

    async def agency(self, ctx: Context, agency_id: int) -> Any:
        """An agency (for the reprimand form); NotFound when unknown."""
        self.require_evaluator(ctx)
        found = await self._d.read(lambda tx: tx.lookup.agency(agency_id))
        if found is None:
            raise NotFound("The agency was not found.", code="agency_not_found")
        return found

    async def open_messages(self, ctx: Context, agency_id: int) -> list[DrillRow]:
        """The agency's open messages, overdue ones first (what a reprimand may name)."""
        self.require_evaluator(ctx)
        now = self._d.clock.now()
        return await self._d.read(lambda tx: open_messages_of(tx, agency_id, now))

    async def overdue_messages(self, ctx: Context, agency_id: int) -> list[DrillRow]:
        """The agency's currently overdue messages (what a reprimand may name)."""
        self.require_evaluator(ctx)
        now = self._d.clock.now()
        return await self._d.read(lambda tx: overdue_messages_of(tx, agency_id, now))
