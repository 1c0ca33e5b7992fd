"""The plugin's configuration, read once from the settings in ``aspirasi_configure``."""

from __future__ import annotations

import hashlib
import hmac
import math
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from aspirasi_core.settings import Settings, plugin_settings, setting

#: Where mail goes: an SMTP server, the development mailbox (demo mode without
#: an SMTP server), or nowhere yet (deliveries fail and are retried, then dead).
SMTP = "smtp"
MAILBOX = "mailbox"
UNCONFIGURED = "unconfigured"

#: Port of SMTP with implicit TLS ("SMTPS"); every other port starts in plain text.
IMPLICIT_TLS_PORT = 465
DEFAULT_TIMEOUT_SECONDS = 10.0


def _timeout(_instance: object, _attribute: attrs.Attribute, value: float) -> None:  # type: ignore[type-arg]
    if not (math.isfinite(value) and 0 < value <= 600):
        raise ValueError(
            f"ASPIRASI_NOTIFY_EMAIL_TIMEOUT: {value!r} is not a number of seconds between 0 and 600"
        )


def _ca_file(_instance: object, _attribute: attrs.Attribute, value: str | None) -> None:  # type: ignore[type-arg]
    if value is not None and not Path(value).is_file():
        raise ValueError(f"ASPIRASI_NOTIFY_EMAIL_CA_FILE: {value!r} is not a file")


@attrs.frozen
class NotifyEmailSettings:
    """The plugin's own settings, ``ASPIRASI_NOTIFY_EMAIL_*`` (read like the core's,
    see :func:`aspirasi_core.settings.plugin_settings`); the SMTP server and the
    sender are the core's ``ASPIRASI_SMTP_*`` and ``ASPIRASI_MAIL_FROM``."""

    timeout: float = setting(
        DEFAULT_TIMEOUT_SECONDS,
        "Seconds allowed for connecting to the SMTP server and for each command.",
        validator=_timeout,
    )
    ca_file: str | None = setting(
        None,
        "PEM bundle of the CA that signed the SMTP server's certificate, when it is"
        " not in the system's store.",
        converter=lambda value: (value or "").strip() or None,
        validator=_ca_file,
    )


#: The variables' prefix (``ASPIRASI_NOTIFY_EMAIL_…``).
SETTINGS_PREFIX = "notify_email_"


@attrs.frozen
class MailConfig:
    """The mail settings the plugin sends with (from ``Settings``; nothing else)."""

    mode: str
    smtp_host: str | None
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str | None
    smtp_password: str | None = attrs.field(repr=False)
    mail_from: str
    #: ``ASPIRASI_BASE_URL`` without a trailing slash.
    base_url: str
    #: Seconds allowed for connecting and for each SMTP command
    #: (``ASPIRASI_NOTIFY_EMAIL_TIMEOUT``).
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    #: PEM bundle of the CA that signed the SMTP server's certificate, when it is
    #: not in the system's store (``ASPIRASI_NOTIFY_EMAIL_CA_FILE``).
    ca_file: str | None = None
    #: Folder of the development mailbox (``<ASPIRASI_STORAGE_PATH>/dev-mailbox``).
    mailbox_path: str = ""
    #: Key of this site's Message-IDs (derived from ``ASPIRASI_SECRET_KEY``): two
    #: deployments sending from one domain never make the same Message-ID.
    site_key: bytes = attrs.field(default=b"", repr=False)

    @property
    def uses_authentication(self) -> bool:
        return self.smtp_user is not None

    @property
    def implicit_tls(self) -> bool:
        return self.smtp_port == IMPLICIT_TLS_PORT

    @property
    def sender(self) -> str:
        """The envelope sender: the address part of ``ASPIRASI_MAIL_FROM``."""
        return parseaddr(self.mail_from)[1]

    @property
    def domain(self) -> str:
        """The sender's domain, used in Message-IDs."""
        return self.sender.rpartition("@")[2] or "aspirasi.invalid"

    @classmethod
    def from_settings(cls, settings: Settings) -> MailConfig:
        """Check and copy the mail settings; raise ``ValueError`` naming the variable."""
        if not 0 < settings.smtp_port < 65536:
            raise ValueError(f"ASPIRASI_SMTP_PORT: {settings.smtp_port} is not a TCP port")
        if not settings.mail_from.strip():
            raise ValueError("ASPIRASI_MAIL_FROM must not be empty")
        sender = parseaddr(settings.mail_from)[1]
        if "@" not in sender or any(c.isspace() for c in sender):
            raise ValueError(
                f"ASPIRASI_MAIL_FROM: {settings.mail_from!r} holds no e-mail address"
                " (write it as 'Name <address@domain>' or 'address@domain')"
            )
        base = urlsplit(settings.base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ValueError(f"ASPIRASI_BASE_URL: {settings.base_url!r} is not an http(s) address")
        host = (settings.smtp_host or "").strip() or None
        if settings.env == "production" and host is None:
            raise ValueError(
                "ASPIRASI_SMTP_HOST must be set in production (verification and reset"
                " links are mailed); or turn the plugin off with"
                " ASPIRASI_DISABLED_PLUGINS=notify_email"
            )
        own = plugin_settings(NotifyEmailSettings, settings, SETTINGS_PREFIX)
        if host is not None:
            mode = SMTP
        elif settings.demo:
            mode = MAILBOX
        else:
            mode = UNCONFIGURED
        return cls(
            mode=mode,
            smtp_host=host,
            smtp_port=settings.smtp_port,
            smtp_starttls=settings.smtp_starttls,
            smtp_user=settings.smtp_user or None,
            smtp_password=settings.smtp_password,
            mail_from=settings.mail_from.strip(),
            base_url=settings.base_url.rstrip("/"),
            timeout=own.timeout,
            ca_file=own.ca_file,
            mailbox_path=str(Path(settings.storage_path) / "dev-mailbox"),
            site_key=hmac.new(
                settings.secret_key.encode(), b"aspirasi-message-id", hashlib.sha256
            ).digest(),
        )
