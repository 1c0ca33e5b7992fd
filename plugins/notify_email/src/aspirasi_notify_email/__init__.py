"""E-mail notifications through the outbox.

Quick start
-----------
Install the package next to ``aspirasi-core`` (``pip install aspirasi-notify-email``);
the core loads it through its ``aspirasi`` entry point (``notify_email``) and it
uses the core's mail settings:

``ASPIRASI_SMTP_HOST``, ``ASPIRASI_SMTP_PORT``, ``ASPIRASI_SMTP_STARTTLS``,
``ASPIRASI_SMTP_USER``, ``ASPIRASI_SMTP_PASSWORD``, ``ASPIRASI_MAIL_FROM`` and
``ASPIRASI_BASE_URL`` (for the links in the mails). See ``docs/configuration.md``.

What this version does: it reads and checks those settings at start-up
(``aspirasi_configure``) and refuses to start with an impossible port or an
empty sender. It sends nothing yet — the mails (verification, password reset,
status changes, new and forwarded messages) and their delivery through the
outbox arrive in the next issue.

Turn the plugin off with ``ASPIRASI_DISABLED_PLUGINS=notify_email``.
"""

from __future__ import annotations

import attrs

from aspirasi_core import hookimpl
from aspirasi_core.settings import Settings


@attrs.frozen
class MailConfig:
    """The mail settings the plugin will send with."""

    smtp_host: str | None
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str | None
    smtp_password: str | None = attrs.field(repr=False)
    mail_from: str
    base_url: str

    @property
    def uses_authentication(self) -> bool:
        return self.smtp_user is not None


_config: MailConfig | None = None


def current_config() -> MailConfig | None:
    """The configuration of the last ``aspirasi_configure`` call (None before)."""
    return _config


@hookimpl
def aspirasi_configure(settings: Settings) -> None:
    """Read the mail settings; refuse a port outside 1–65535 or an empty sender."""
    global _config
    if not 0 < settings.smtp_port < 65536:
        raise ValueError(f"ASPIRASI_SMTP_PORT: {settings.smtp_port} is not a TCP port")
    if not settings.mail_from.strip():
        raise ValueError("ASPIRASI_MAIL_FROM must not be empty")
    _config = MailConfig(
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        smtp_starttls=settings.smtp_starttls,
        smtp_user=settings.smtp_user,
        smtp_password=settings.smtp_password,
        mail_from=settings.mail_from,
        base_url=settings.base_url.rstrip("/"),
    )
