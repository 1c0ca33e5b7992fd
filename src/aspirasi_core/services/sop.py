"""SOP deadlines: computing them, announcing lateness, and the calendar's days off.

The rules are in :mod:`aspirasi_core.domain.sop`; this service feeds them the
settings (default days, the country of the public holidays, the time zone), the
sub-category's overrides and the super admin's extra days off, all read inside
the caller's transaction.

Lateness is announced by :meth:`SopService.sweep`, which the outbox worker runs
every ``ASPIRASI_SOP_SWEEP_SECONDS`` (and ``aspirasi sop sweep`` once): each
newly overdue message gets one :class:`~aspirasi_core.domain.events.MessageOverdue`
event per deadline, in-app notices for the admins (and, once forwarded, the
agency's operators), and whatever plugins queue for it (e-mails to land-issue
monitors…). Several workers may sweep at once: a compare-and-set on the message
makes sure each deadline is announced once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import anyio.to_thread
import attrs
import structlog

from ..domain.errors import Invalid, NotFound, Unauthenticated
from ..domain.events import MessageOverdue
from ..domain.model import Action, Actor, DayOff, Message, Role, Status
from ..domain.policy import Perm
from ..domain.sop import SopDays, Stage, WorkingCalendar, public_holidays, stage_of
from ..domain.validation import DAY_TEXT, LIMITS, check_day_range, check_id, clean_text
from .context import Context
from .core import CoreDeps, EventRecorder, run_write, run_write_sync
from .ports import UnitOfWork

log = structlog.get_logger("aspirasi.sop")

#: Messages announced per sweep transaction.
SWEEP_BATCH = 200
#: Open messages re-timed per transaction when the calendar or an SOP changes.
RECOMPUTE_BATCH = 500


def parse_day(value: object, field: str = "day") -> date:
    """A calendar day (or a ``date``) spelled exactly ``YYYY-MM-DD`` (``DAY_TEXT``:
    no spaces, no ``20270102``, no week date), within the years of the date
    filters; bad input → ``Invalid`` (``bad_date``, ``date_range``)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return check_day_range(value, field)
    try:
        if not (isinstance(value, str) and DAY_TEXT.fullmatch(value)):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid.field(field, "bad_date", "Enter a date as YYYY-MM-DD.") from None
    return check_day_range(day, field)


class SopService:
    """Deadlines of messages, the lateness sweep, and the days off (super admin)."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps
        settings = deps.settings
        self.timezone = ZoneInfo(settings.timezone)
        self.country = settings.sop_holiday_country.upper()
        self.default_days = SopDays(
            triage=settings.sop_triage_days,
            confirm=settings.sop_confirm_days,
            reply=settings.sop_reply_days,
        )

    # ------------------------------------------------------------------ computing
    def days_for(self, uow: UnitOfWork, subcategory_id: int | None) -> SopDays:
        """The SOP of a sub-category (the default where it sets nothing)."""
        if subcategory_id is None:
            return self.default_days
        sub = uow.directory.subcategory(subcategory_id)
        if sub is None:
            return self.default_days
        return self.default_days.with_overrides(sub.sop_confirm_days, sub.sop_reply_days)

    def calendar(self, uow: UnitOfWork, start: date, end: date) -> WorkingCalendar:
        """The working-day calendar with the days off between ``start`` and ``end``."""
        days = frozenset(d.day for d in uow.directory.days_off(start, end))
        return WorkingCalendar(timezone=self.timezone, country=self.country, days_off=days)

    def display_calendar(self) -> WorkingCalendar:
        """A calendar without days off: enough to turn a deadline into its local date."""
        return WorkingCalendar(timezone=self.timezone, country=self.country)

    def due_for(
        self, uow: UnitOfWork, status: Status, subcategory_id: int | None, start: datetime
    ) -> datetime | None:
        """The deadline of the stage ``status`` is in, begun at ``start`` (None if final)."""
        stage = stage_of(status)
        if stage is None:
            return None
        days = self.days_for(uow, subcategory_id).for_stage(stage)
        bare = self.display_calendar()
        first, last = bare.days_off_needed(start, days)
        return self.calendar(uow, first, last).due_at(start, days)

    def clock_after(
        self, uow: UnitOfWork, before: Message, after: Message, action: Action, now: datetime
    ) -> Message:
        """``after`` with its SOP clock: a progress update keeps the running clock;
        every other move starts the clock of the new stage (none once final)."""
        if action is Action.PROGRESS and after.status is before.status:
            return attrs.evolve(
                after, stage_started_at=before.stage_started_at, due_at=before.due_at
            )
        if stage_of(after.status) is None:
            return attrs.evolve(after, stage_started_at=None, due_at=None)
        due = self.due_for(uow, after.status, after.subcategory_id, now)
        return attrs.evolve(after, stage_started_at=now, due_at=due)

    def due_date(self, due_at: datetime) -> date:
        """The last allowed local day of a deadline."""
        return self.display_calendar().due_date(due_at)

    def recompute(self, uow: UnitOfWork) -> int:
        """Re-time every open message from its stage's start (after a change of the
        days off or of an SOP). Returns how many deadlines moved. Synchronous, in
        the caller's transaction."""
        moved = 0
        after_id = 0
        while True:
            batch = uow.messages.open_messages(after_id=after_id, limit=RECOMPUTE_BATCH)
            if not batch:
                return moved
            for message in batch:
                start = message.stage_started_at or message.updated_at
                due = self.due_for(uow, message.status, message.subcategory_id, start)
                if due != message.due_at and uow.messages.set_due(message.id, due, message.due_at):
                    moved += 1
            after_id = batch[-1].id

    def recompute_sync(self) -> int:
        """:meth:`recompute` in its own transaction (``aspirasi db upgrade`` runs it)."""
        return self._d.db.run_sync(self.recompute, write=True)

    # ------------------------------------------------------------------ lateness
    def _announce(self, uow: UnitOfWork, events: EventRecorder, message: Message) -> bool:
        deps = self._d
        now = deps.clock.now()
        stage = stage_of(message.status)
        if stage is None or message.due_at is None:
            return False
        if not uow.messages.mark_overdue_notified(message.id, message.due_at, now):
            return False
        recipients = {a.id for a in uow.accounts.recipients(role=Role.ADMIN)}
        if stage is not Stage.TRIAGE and message.agency_id is not None:
            recipients |= {
                a.id
                for a in uow.accounts.recipients(role=Role.OPERATOR, agency_id=message.agency_id)
            }
        if recipients:
            uow.notifications.add_many(
                sorted(recipients),
                kind=f"message_overdue_{stage.value}",
                message_id=message.id,
                text=_OVERDUE_TEXT[stage],
                params={"ticket": message.ticket, "subject": message.subject[:120]},
                created_at=now,
            )
        events.record(
            MessageOverdue(
                message_id=message.id,
                ticket=message.ticket,
                subject=message.subject,
                status=message.status,
                stage=stage.value,
                agency_id=message.agency_id,
                category_id=message.category_id,
                subcategory_id=message.subcategory_id,
                due_at=message.due_at,
                at=now,
                due_date=self.due_date(message.due_at),
            )
        )
        return True

    def sweep_sync(self, *, limit: int = SWEEP_BATCH) -> int:
        """Announce every message that became overdue (in batches); returns how many."""
        total = 0
        while True:

            def script(uow: UnitOfWork, events: EventRecorder) -> tuple[int, int]:
                batch = uow.messages.newly_overdue(self._d.clock.now(), limit=limit)
                return len(batch), sum(self._announce(uow, events, m) for m in batch)

            seen, announced = run_write_sync(self._d, script)
            total += announced
            if seen < limit:
                if total:
                    log.info("sop_sweep", announced=total)
                return total

    async def sweep(self, *, limit: int = SWEEP_BATCH) -> int:
        """:meth:`sweep_sync` in a worker thread."""
        return await anyio.to_thread.run_sync(lambda: self.sweep_sync(limit=limit))

    # ------------------------------------------------------------------ days off
    def _require(self, ctx: Context) -> Actor:
        if ctx.actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        self._d.policy.require(ctx.actor, Perm.ADMIN_MANAGE)
        return ctx.actor

    async def days_off(self, ctx: Context, year: int | None = None) -> list[DayOff]:
        """The extra days off (of ``year``, or all), by date. Super admin."""
        self._require(ctx)
        if year is not None and not 1900 < year < 2200:
            raise Invalid.field("year", "bad_year", "Choose a year between 1901 and 2199.")
        start = date(year, 1, 1) if year else None
        end = date(year, 12, 31) if year else None
        return await self._d.db.transaction(
            lambda uow: uow.directory.days_off(start, end), write=False
        )

    def public_holidays(self, year: int, language: str | None = None) -> Sequence[tuple[date, str]]:
        """The country's public holidays of ``year`` (from the ``holidays`` package),
        named in ``language`` (``id``, ``en``) where the package has it."""
        if not 1900 < year < 2200:
            raise Invalid.field("year", "bad_year", "Choose a year between 1901 and 2199.")
        return sorted(public_holidays(self.country, year, language).items())

    async def add_day_off(self, ctx: Context, day: object, name: str) -> DayOff:
        """Add an extra day off and re-time the open messages. Super admin."""
        actor = self._require(ctx)
        the_day = parse_day(day)
        label = clean_text(name, "name", max_length=LIMITS["name"])
        assert label

        def script(uow: UnitOfWork, events: EventRecorder) -> DayOff:
            added = uow.directory.add_day_off(the_day, label, actor.account_id, self._d.clock.now())
            self.recompute(uow)
            return added

        added = await run_write(self._d, script)
        log.info("day_off_added", day=added.day.isoformat(), actor_id=actor.account_id)
        return added

    async def remove_day_off(self, ctx: Context, day_off_id: object) -> DayOff:
        """Remove an extra day off and re-time the open messages. Super admin."""
        actor = self._require(ctx)
        the_id = check_id(day_off_id, "id")

        def script(uow: UnitOfWork, events: EventRecorder) -> DayOff:
            removed = uow.directory.remove_day_off(the_id)
            if removed is None:
                raise NotFound("The day off was not found.", code="day_off_not_found")
            self.recompute(uow)
            return removed

        removed = await run_write(self._d, script)
        log.info("day_off_removed", day=removed.day.isoformat(), actor_id=actor.account_id)
        return removed


_OVERDUE_TEXT = {
    Stage.TRIAGE: "Message %(ticket)s is overdue: it has not been forwarded within the SOP time.",
    Stage.CONFIRM: "Message %(ticket)s is overdue: the agency has not confirmed it within the"
    " SOP time.",
    Stage.REPLY: "Message %(ticket)s is overdue: the agency has not replied within the SOP time.",
}


__all__ = ["SopService", "parse_day"]
