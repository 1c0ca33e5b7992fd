"""E-mails of the evaluator plugin (with ``aspirasi-notify-email``).

Two :class:`~aspirasi_notify_email.MailKind` values, returned from the hook
``aspirasi_mail_kinds`` that notify_email adds (so the plugin manager's
allow- and block-lists apply: ``ASPIRASI_DISABLED_PLUGINS=evaluator`` stops
them too):

- ``evaluator_reprimand`` — :class:`~aspirasi_evaluator.events.ReprimandIssued`,
  to the reprimanded agency's active operators only (``operators_of``);
- ``evaluator_reprimand_acknowledged`` —
  :class:`~aspirasi_evaluator.events.ReprimandAcknowledged`, to the evaluator
  who issued the reprimand.

Templates (Indonesian and English) are in ``mail_templates/<lang>/``. Imported
only by notify_email (through the entry point).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aspirasi_core.plugin_types import RecipientLookup
from aspirasi_notify_email import Links, MailKind, Recipient

from .events import ReprimandAcknowledged, ReprimandIssued

TEMPLATE_DIR = str(Path(__file__).resolve().parent / "mail_templates")


def _operators(event: ReprimandIssued, lookup: RecipientLookup) -> list[Recipient]:
    return [
        Recipient.of(a)
        for a in lookup.operators_of(event.agency_id)
        if a.is_active and a.agency_id == event.agency_id and a.id != event.issued_by
    ]


def _issuer(event: ReprimandAcknowledged, lookup: RecipientLookup) -> list[Recipient]:
    account = lookup.account(event.issued_by)
    if account is None or not account.is_active or account.id == event.acknowledged_by:
        return []
    return [Recipient.of(account)]


def _issued_context(event: ReprimandIssued, links: Links) -> dict[str, Any]:
    return {
        "agency_name": event.agency_name,
        "text": event.text,
        "tickets": list(event.tickets),
        "count": len(event.tickets),
        "link": links.url("/reprimands"),
    }


def _acknowledged_context(event: ReprimandAcknowledged, links: Links) -> dict[str, Any]:
    return {
        "agency_name": event.agency_name,
        "response": event.response,
        "link": links.url("/reprimands", agency=str(event.agency_id)),
    }


REPRIMAND = MailKind(
    name="evaluator_reprimand",
    events=(ReprimandIssued,),
    recipients=_operators,
    context=_issued_context,
    template_dir=TEMPLATE_DIR,
)

REPRIMAND_ACKNOWLEDGED = MailKind(
    name="evaluator_reprimand_acknowledged",
    events=(ReprimandAcknowledged,),
    recipients=_issuer,
    context=_acknowledged_context,
    template_dir=TEMPLATE_DIR,
)


def mail_kinds() -> list[MailKind]:
    """The plugin's mail kinds (its ``aspirasi_mail_kinds``)."""
    return [REPRIMAND, REPRIMAND_ACKNOWLEDGED]
