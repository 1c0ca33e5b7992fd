"""An example third-party Aspirasi plugin: tell another system when a message is closed.

On every move of a message to ``done`` (the agency replied), the plugin queues an
outbox item with its own topic, ``webhook``, in the same transaction as the
reply; the outbox dispatcher later delivers it by POSTing JSON to
``ASPIRASI_WEBHOOK_URL``. A failed POST raises, so the dispatcher retries it
with back-off and finally keeps it as a dead letter (``aspirasi outbox list``).

Without ``ASPIRASI_WEBHOOK_URL`` the plugin does nothing.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence
from typing import Any

import attrs

from aspirasi_core import hookimpl
from aspirasi_core.domain.events import Event, StatusChanged
from aspirasi_core.domain.model import Status
from aspirasi_core.plugin_api import OutboxItem
from aspirasi_core.plugin_types import OutboxMessage, RecipientLookup
from aspirasi_core.settings import Settings, plugin_settings, setting

__version__ = "0.1.0"

TOPIC = "webhook"
EVENT = "message.closed"
TIMEOUT_SECONDS = 10.0

#: Read once from the settings (``aspirasi_configure``).
_state: dict[str, Any] = {"url": None}


class WebhookFailed(RuntimeError):
    """The receiver did not answer 2xx; the dispatcher will try again later."""


def _http_url(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("ASPIRASI_WEBHOOK_URL must be an http:// or https:// URL")


@attrs.frozen
class WebhookSettings:
    """``ASPIRASI_WEBHOOK_*``, declared and read like the core's settings."""

    url: str | None = setting(None, "Where to POST each closed message.", validator=_http_url)


@hookimpl
def aspirasi_configure(settings: Settings) -> None:
    _state["url"] = plugin_settings(WebhookSettings, settings, "webhook_").url


@hookimpl
def aspirasi_outbox_items(event: Event, lookup: RecipientLookup) -> Sequence[OutboxMessage] | None:
    """Queue one webhook call per message closed (inside the reply's transaction)."""
    if _state["url"] is None:
        return None
    if not isinstance(event, StatusChanged) or event.to_status != Status.DONE:
        return None
    payload = {
        "event": EVENT,
        "message_id": event.message_id,
        "ticket": event.ticket,
        "status": str(event.to_status),
        "from_status": str(event.from_status),
        "agency_id": event.agency_id,
        "closed_at": event.at.isoformat(),
    }
    return [OutboxMessage(topic=TOPIC, payload=payload)]


@hookimpl
def aspirasi_deliver_outbox_item(item: OutboxItem) -> bool | None:
    """POST a ``webhook`` item as JSON; other topics belong to other plugins."""
    if item.topic != TOPIC:
        return None
    url = _state["url"]
    if url is None:
        raise WebhookFailed("ASPIRASI_WEBHOOK_URL is not set")
    body = json.dumps({**item.payload, "delivery_id": item.id}).encode()
    # (the URL's scheme is checked in aspirasi_configure)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "aspirasi-webhook/0.1"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise WebhookFailed(f"{url} answered {response.status}")
    return True
