"""Where each agency stands in the escalation of reprimands: how many it received
within :data:`~.reprimands.ESCALATION_DAYS` and the level the next one would have
reached (first notice, warning, report to the governor's office)."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs
from sqlalchemy import func, select

from aspirasi_core.plugin_types import Transaction

from .core_tables import agencies
from .reprimands import ESCALATION_DAYS, LEVELS
from .tables import reprimands


@attrs.frozen
class Escalation:
    """An agency's reprimands of the period: ``count`` and the highest ``level``."""

    agency_id: int
    agency_name: str
    count: int
    level: int

    @property
    def level_label(self) -> str:
        return LEVELS.get(self.level, LEVELS[max(LEVELS)])


def escalations(conn: Transaction, now: datetime, agency_id: int | None = None) -> list[Escalation]:
    """The agencies reprimanded within the period before ``now`` (one of them with
    ``agency_id``), the highest level first, then the most reprimanded."""
    since = now - timedelta(days=ESCALATION_DAYS)
    stmt = (
        select(
            reprimands.c.agency_id,
            agencies.c.name,
            func.count().label("count"),
            func.max(reprimands.c.level).label("level"),
        )
        .select_from(reprimands.join(agencies, agencies.c.id == reprimands.c.agency_id))
        .where(reprimands.c.created_at > since)
        .group_by(reprimands.c.agency_id, agencies.c.name)
    )
    if agency_id is not None:
        stmt = stmt.where(reprimands.c.agency_id == agency_id)
    rows = [Escalation(r.agency_id, r.name, int(r.count), int(r.level)) for r in conn.execute(stmt)]
    return sorted(rows, key=lambda e: (-e.level, -e.count, e.agency_name))


__all__ = ["Escalation", "escalations"]
