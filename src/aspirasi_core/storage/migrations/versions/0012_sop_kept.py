"""Whether a message's agency missed an SOP deadline, recorded when it happens.

Revision ID: 0012_sop_kept
Revises: 0010_followups
Create Date: 2026-12-07

* ``messages.sop_missed`` (boolean, not null, false by default): set by the
  transition that ends an agency stage (``start`` ends the confirm stage,
  ``reply`` the reply stage) at or after the stage's deadline, in the same
  ``UPDATE`` (:func:`aspirasi_core.domain.sop.sop_missed_after`); a forward or
  re-forward clears it. A ``done`` message without it was completed within the
  SOP: the evaluator's report and the transparency page count them with one SQL
  aggregate instead of recomputing every deadline in Python (issue 21).
* ``ix_messages_sop_missed``: the messages that missed, by agency, status and
  submission time (and the flag, so a count reads the index alone); partial
  (only the rows that missed).
* Existing messages get it from their milestones by the rule the report used
  until now: a stage was missed when it ended (``started_at``, ``closed_at``) at
  or after its deadline computed from when it began (``forwarded_at``,
  ``started_at``): the end of the n-th working day after that local day (the
  settings' working days, or the sub-category's own; weekends, the public
  holidays of ``ASPIRASI_SOP_HOLIDAY_COUNTRY``, the super admin's days off, in
  ``ASPIRASI_TIMEZONE``). ``in_progress`` messages get their confirm stage,
  ``done`` ones both; a ``done`` message without its milestones (never written
  through the use cases) is marked missed, as the report did not count it as
  kept. The settings are those ``aspirasi db upgrade`` runs with (the
  ``settings`` attribute of the Alembic config), else the environment's
  ``ASPIRASI_*`` variables, else the defaults. Like every revision, this one
  does not import the application: the calendar is a frozen copy of
  ``WorkingCalendar.due_at`` (``aspirasi_core.domain.sop``) as of this revision.

The backfill reads the started messages in batches of :data:`BATCH` by id and
writes the ids that missed; at 1M messages it computes ~600,000 deadlines (one
calendar walk per distinct start day and SOP).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0012_sop_kept"
down_revision: str | Sequence[str] | None = "0010_followups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_messages_sop_missed"
#: Messages read per batch of the backfill.
BATCH = 5000

#: Saturday and Sunday (``date.weekday()``).
WEEKEND = frozenset({5, 6})
#: The settings the backfill follows: name → (environment variable, default).
SETTINGS: dict[str, tuple[str, str]] = {
    "sop_confirm_days": ("ASPIRASI_SOP_CONFIRM_DAYS", "2"),
    "sop_reply_days": ("ASPIRASI_SOP_REPLY_DAYS", "10"),
    "sop_holiday_country": ("ASPIRASI_SOP_HOLIDAY_COUNTRY", "ID"),
    "timezone": ("ASPIRASI_TIMEZONE", "Asia/Makassar"),
}

# Timestamps as the core stores them: aware UTC; SQLite keeps naive UTC text.


class _UTC(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_messages = sa.table(
    "messages",
    sa.column("id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("subcategory_id", sa.Integer()),
    sa.column("forwarded_at", _UTC()),
    sa.column("started_at", _UTC()),
    sa.column("closed_at", _UTC()),
    sa.column("sop_missed", sa.Boolean()),
)
_subcategories = sa.table(
    "subcategories",
    sa.column("id", sa.Integer()),
    sa.column("sop_confirm_days", sa.Integer()),
    sa.column("sop_reply_days", sa.Integer()),
)
_days_off = sa.table("days_off", sa.column("day", sa.Date()))


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("sop_missed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _backfill(op.get_bind(), _settings())
    op.create_index(
        INDEX,
        "messages",
        ["agency_id", "status", "created_at", "sop_missed"],
        sqlite_where=sa.text("sop_missed = 1"),
        postgresql_where=sa.text("sop_missed"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sop_missed")


def _settings() -> dict[str, str]:
    """The SOP settings: those ``aspirasi db upgrade`` passed (the Alembic
    config's ``settings`` attribute), else the environment's, else the defaults."""
    config = op.get_context().config
    given = config.attributes.get("settings") if config is not None else None
    out: dict[str, str] = {}
    for name, (variable, default) in SETTINGS.items():
        value = getattr(given, name, None) if given is not None else None
        out[name] = str(value) if value is not None else os.environ.get(variable, default)
    return out


class _Calendar:
    """Working days (a frozen copy of the core's ``WorkingCalendar`` of this revision)."""

    def __init__(self, timezone: ZoneInfo, country: str, days_off: frozenset[date]) -> None:
        self.timezone = timezone
        self.country = country
        self.days_off = days_off
        self._holidays: dict[int, Mapping[date, str]] = {}

    def _public_holidays(self, year: int) -> Mapping[date, str]:
        if not self.country:
            return {}
        if year not in self._holidays:
            import holidays

            self._holidays[year] = dict(holidays.country_holidays(self.country, years=year))
        return self._holidays[year]

    def is_working_day(self, day: date) -> bool:
        if day.weekday() in WEEKEND or day in self.days_off:
            return False
        return day not in self._public_holidays(day.year)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()

    def due_at(self, start: datetime, working_days: int) -> datetime:
        """The exclusive UTC instant after the ``working_days``-th working day
        after ``start``'s local day."""
        current = self.local_date(start)
        counted = 0
        while counted < working_days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        midnight = datetime.combine(current + timedelta(days=1), time(0), tzinfo=self.timezone)
        return midnight.astimezone(UTC)


def _backfill(conn: sa.Connection, settings: Mapping[str, str]) -> None:
    m, sc = _messages, _subcategories
    confirm_default = int(settings["sop_confirm_days"])
    reply_default = int(settings["sop_reply_days"])
    calendar = _Calendar(
        ZoneInfo(settings["timezone"]),
        settings["sop_holiday_country"].upper(),
        frozenset(conn.execute(sa.select(_days_off.c.day)).scalars()),
    )
    deadlines: dict[tuple[date, int], datetime] = {}

    def late(began: datetime, ended: datetime, days: int) -> bool:
        # Same local start day, same deadline: one calendar walk per pair.
        key = (calendar.local_date(began), days)
        due = deadlines.get(key)
        if due is None:
            due = deadlines[key] = calendar.due_at(began, days)
        return ended >= due

    stmt = (
        sa.select(
            m.c.id,
            m.c.status,
            m.c.forwarded_at,
            m.c.started_at,
            m.c.closed_at,
            sc.c.sop_confirm_days,
            sc.c.sop_reply_days,
        )
        .select_from(m.outerjoin(sc, sc.c.id == m.c.subcategory_id))
        .where(m.c.status.in_(("in_progress", "done")), m.c.id > sa.bindparam("after"))
        .order_by(m.c.id)
        .limit(BATCH)
    )
    after = 0
    while True:
        rows = conn.execute(stmt, {"after": after}).all()
        if not rows:
            return
        missed: list[int] = []
        for row in rows:
            confirm = row.sop_confirm_days or confirm_default
            reply = row.sop_reply_days or reply_default
            if row.forwarded_at is None or row.started_at is None:
                stage_missed = row.status == "done"
            else:
                stage_missed = late(row.forwarded_at, row.started_at, confirm)
            if row.status == "done" and not stage_missed:
                stage_missed = row.closed_at is None or late(row.started_at, row.closed_at, reply)
            if stage_missed:
                missed.append(row.id)
        if missed:
            conn.execute(sa.update(m).where(m.c.id.in_(missed)).values(sop_missed=True))
        after = rows[-1].id
