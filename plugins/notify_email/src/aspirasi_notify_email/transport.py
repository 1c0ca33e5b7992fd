"""Delivery over SMTP with aiosmtplib, from the dispatcher's (synchronous) thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, TypeVar

import aiosmtplib

from aspirasi_core.services.ports import OutboxItem

from .config import MailConfig
from .render import Mail

T = TypeVar("T")


class SmtpUnavailable(ConnectionError):
    """Not even tried: the server could not be reached moments ago."""


def message_id(item: OutboxItem, domain: str) -> str:
    """A Message-ID that is the same on every try of one outbox item (so a mail
    sent again after a crash mid-send is recognisable as the same mail) and
    differs between items, also after the database was recreated and ids
    restart (the item's creation time is part of it)."""
    created = item.created_at.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")
    return f"<aspirasi.outbox.{item.id}.{created}@{domain}>"


def build_message(mail: Mail, config: MailConfig, item: OutboxItem) -> EmailMessage:
    """The MIME message (text and HTML alternatives) for one outbox item."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = config.mail_from
    message["To"] = mail.to
    message["Date"] = format_datetime(item.created_at.astimezone(UTC))
    message["Message-ID"] = message_id(item, config.domain)
    # RFC 3834: no auto-replies ("out of office") to these.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Aspirasi-Kind"] = mail.kind
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    # After the body: making the alternative moves Content-* headers into the parts.
    message["Content-Language"] = mail.language
    return message


def run_coroutine(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to the end from synchronous code.

    The dispatcher calls delivery hooks in a worker thread, where no event loop
    runs: ``asyncio.run`` there. When the hook is called from a thread whose
    loop is running (``run_once_sync`` from async code), a loop cannot be
    nested: the coroutine runs in a short-lived thread of its own instead.
    """

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="notify-email") as pool:
        return pool.submit(asyncio.run, main()).result()


class SmtpTransport:
    """Sends one message per connection with :func:`aiosmtplib.send`.

    TLS: implicit TLS on port 465; otherwise STARTTLS is required when
    ``ASPIRASI_SMTP_STARTTLS`` is on, used when offered when only
    ``ASPIRASI_SMTP_USER`` is set (never send a password in clear text when
    the server could encrypt), and never tried on a plain server
    (``start_tls=False``: aiosmtplib would otherwise upgrade whenever offered).

    After a network failure, deliveries during the next ``reconnect_after``
    seconds fail at once without connecting, so a server that swallows
    connections costs one timeout per batch, not one per mail (a batch must
    end before its lease does, or another dispatcher takes its items again).
    """

    def __init__(self, config: MailConfig, *, reconnect_after: float = 10.0) -> None:
        self.config = config
        self.reconnect_after = reconnect_after
        self._failed_at: float | None = None
        self._local_hostname: str | None = None

    def options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`aiosmtplib.send`, except the message."""
        c = self.config
        if c.implicit_tls:
            use_tls, start_tls = True, False
        elif c.smtp_starttls:
            use_tls, start_tls = False, True
        elif c.uses_authentication:
            use_tls, start_tls = False, None
        else:
            use_tls, start_tls = False, False
        return {
            "hostname": c.smtp_host,
            "port": c.smtp_port,
            "username": c.smtp_user,
            "password": c.smtp_password if c.uses_authentication else None,
            "use_tls": use_tls,
            "start_tls": start_tls,
            "timeout": c.timeout,
            "cert_bundle": c.ca_file,
            "local_hostname": self._hostname(),
        }

    def _hostname(self) -> str:
        if self._local_hostname is None:
            self._local_hostname = socket.getfqdn() or "localhost"
        return self._local_hostname

    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        """Send ``message``; raise on any failure (the dispatcher retries)."""
        failed_at = self._failed_at
        if failed_at is not None and time.monotonic() - failed_at < self.reconnect_after:
            raise SmtpUnavailable(
                f"SMTP server {self.config.smtp_host}:{self.config.smtp_port} was unreachable"
                f" {time.monotonic() - failed_at:.0f} s ago; not tried again yet"
            )
        options = self.options()
        # aiosmtplib's timeout is per operation; bound the whole exchange too.
        overall = self.config.timeout * 4

        async def deliver() -> object:
            async with asyncio.timeout(overall):
                return await aiosmtplib.send(
                    message, sender=sender, recipients=recipients, **options
                )

        try:
            run_coroutine(deliver)
        except OSError:  # refused, unreachable, timed out, disconnected
            self._failed_at = time.monotonic()
            raise
        self._failed_at = None
