"""The hook notify_email adds to the plugin manager (through the core's
``aspirasi_addhooks``, as pytest plugins add theirs with ``pytest_addhooks``).

Implement it in another plugin with ``@hookimpl(optionalhook=True)``, so the
plugin still loads when notify_email is not installed or is turned off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aspirasi_core.hookspecs import hookspec

if TYPE_CHECKING:
    from .kinds import MailKind


@hookspec
def aspirasi_mail_kinds() -> Sequence[MailKind] | None:
    """Return the mail kinds the plugin adds (:class:`aspirasi_notify_email.MailKind`).

    Called once, when notify_email is configured. A plugin the allow- or
    block-list keeps out is not registered, so its kinds are not either; hook
    tracing shows the call. Two kinds of one name stop the start.
    """
