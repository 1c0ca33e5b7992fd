"""E-mails to land-issue monitors (with ``aspirasi-notify-email``).

Two :class:`~aspirasi_notify_email.MailKind` values, returned from the hook
``aspirasi_mail_kinds`` that notify_email adds (so the plugin manager's
allow- and block-lists apply: ``ASPIRASI_DISABLED_PLUGINS=land_issue`` stops
them too):

- ``land_issue_forwarded`` — a land-dispute complaint was forwarded or
  re-forwarded to an agency (``StatusChanged``, action ``forward`` or
  ``reforward``, with the monitored sub-category);
- ``land_issue_overdue`` — such a complaint passed its SOP deadline
  (``MessageOverdue``, announced once per deadline by the core's sweep).

Recipients are the active, verified accounts holding ``land_issue.monitor``
themselves: a super admin holds every permission but is not mailed unless the
permission was granted to the account. Templates (Indonesian and English) are
in ``mail_templates/<lang>/``.

Imported only through the hook, when notify_email is installed: the core never needs
this module.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aspirasi_core.domain.events import MessageOverdue, StatusChanged
from aspirasi_core.domain.model import Account, Action, CategoryCode
from aspirasi_core.plugin_types import RecipientLookup
from aspirasi_notify_email import Links, MailKind, Recipient

from . import MONITOR, current_config

TEMPLATE_DIR = str(Path(__file__).resolve().parent / "mail_templates")


def _land_subcategory_id(lookup: RecipientLookup) -> int | None:
    return lookup.subcategory_id(CategoryCode.ADUAN, current_config().subcategory_code)


def monitors(lookup: RecipientLookup) -> list[Account]:
    """Active accounts holding ``land_issue.monitor`` themselves (not by being super admin)."""
    return [a for a in lookup.with_permission(MONITOR) if MONITOR in a.permissions and a.is_active]


def _recipients(event: Any, lookup: RecipientLookup) -> list[Recipient]:
    land = _land_subcategory_id(lookup)
    if land is None or event.subcategory_id != land:
        return []
    actor_id = getattr(event, "actor_id", None)
    return [Recipient.of(a) for a in monitors(lookup) if a.id != actor_id]


def _looked_up(event: Any, lookup: RecipientLookup) -> dict[str, Any]:
    """The agency's name, read in the event's transaction (None when unknown)."""
    agency = lookup.agency(event.agency_id) if event.agency_id is not None else None
    return {"agency_name": agency.name if agency is not None else None}


def _common(event: Any, links: Links) -> dict[str, Any]:
    return {
        "ticket": event.ticket,
        "agency_id": event.agency_id,
        "link": links.staff_message(event.message_id),
        "monitor_link": links.url("/land-issues"),
    }


def due_date(due_at: datetime) -> date:
    """The last allowed local day of a deadline (``due_at`` is the exclusive instant)."""
    zone = ZoneInfo(current_config().timezone)
    return (due_at.astimezone(zone) - timedelta(microseconds=1)).date()


def _forwarded_context(event: StatusChanged, links: Links) -> dict[str, Any]:
    return {
        **_common(event, links),
        "reforward": event.action is Action.REFORWARD,
        "note": event.note,
        "due_date": due_date(event.due_at).isoformat() if event.due_at else None,
    }


def _overdue_context(event: MessageOverdue, links: Links) -> dict[str, Any]:
    return {
        **_common(event, links),
        "subject": event.subject,
        "stage": event.stage,
        "status": str(event.status),
        "due_date": due_date(event.due_at).isoformat(),
    }


LAND_FORWARDED = MailKind(
    name="land_issue_forwarded",
    events=(StatusChanged,),
    when=lambda e: e.action in (Action.FORWARD, Action.REFORWARD),
    recipients=_recipients,
    context=_forwarded_context,
    looked_up=_looked_up,
    template_dir=TEMPLATE_DIR,
)

LAND_OVERDUE = MailKind(
    name="land_issue_overdue",
    events=(MessageOverdue,),
    recipients=_recipients,
    context=_overdue_context,
    looked_up=_looked_up,
    template_dir=TEMPLATE_DIR,
)


def mail_kinds() -> list[MailKind]:
    """The plugin's mail kinds (its ``aspirasi_mail_kinds``)."""
    return [LAND_FORWARDED, LAND_OVERDUE]
