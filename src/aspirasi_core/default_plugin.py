"""The core's own hook implementations, registered like any plugin.

:func:`aspirasi_core.plugins.create_plugin_manager` registers this module under
the name ``aspirasi_core`` before any installed plugin, so the core's default
behaviour is visible in ``aspirasi plugins list`` and can be overridden the same
way a plugin overrides another (``tryfirst``) or turned off by blocking the
name (``ASPIRASI_DISABLED_PLUGINS=aspirasi_core``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from .hookspecs import hookimpl
from .logging import redact

if TYPE_CHECKING:
    from .services.ports import OutboxItem

#: Outbox topic delivered by writing the item to the log (demos, diagnostics).
LOG_TOPIC = "log"

log = structlog.get_logger("aspirasi.outbox")


@hookimpl(trylast=True)
def aspirasi_deliver_outbox_item(item: OutboxItem) -> bool | None:
    """Deliver items of the ``log`` topic by writing them to the log.

    Secrets in the payload are redacted even when logging was not configured
    with :func:`aspirasi_core.logging.configure_logging`. Other topics are not
    ours: None lets the next plugin answer.
    """
    if item.topic != LOG_TOPIC:
        return None
    log.info("outbox_log_item", item_id=item.id, payload=redact(dict(item.payload)))
    return True
