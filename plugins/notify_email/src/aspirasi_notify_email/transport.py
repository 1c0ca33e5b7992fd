"""Delivery over SMTP with aiosmtplib, from the dispatcher's (synchronous) thread."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import socket
import threading
import time
from collections.abc import Coroutine
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


def message_id(item: OutboxItem, config: MailConfig) -> str:
    """The Message-ID of an outbox item's mail: the same on every try of the item
    (a mail sent again after a crash between the server's acceptance and the
    worker's record of it is recognisable as the same mail), different for every
    item, site and database (the item's creation time and the site's key go into
    it): ``<{item id}.{20 hex digits}.aspirasi@{sender's domain}>``."""
    created = item.created_at.astimezone(UTC).isoformat()
    tag = hmac.new(config.site_key, f"{item.id}:{created}".encode(), hashlib.sha256)
    return f"<{item.id}.{tag.hexdigest()[:20]}.aspirasi@{config.domain}>"


def build_message(mail: Mail, config: MailConfig, item: OutboxItem) -> EmailMessage:
    """The MIME message (text and HTML alternatives) for one outbox item."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = config.mail_from
    message["To"] = mail.to
    message["Date"] = format_datetime(item.created_at.astimezone(UTC))
    message["Message-ID"] = message_id(item, config)
    # RFC 3834: no auto-replies ("out of office") to these.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Aspirasi-Kind"] = mail.kind
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    # After the body: making the alternative moves Content-* headers into the parts.
    message["Content-Language"] = mail.language
    return message


class SmtpLoop:
    """An asyncio event loop in a daemon thread of its own, for aiosmtplib: the
    dispatcher's threads hand it coroutines and wait for them, and it finishes a
    connection (``QUIT``) after the caller has gone on. A forked child makes a
    new one on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="notify-email-smtp", daemon=True
                ).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop()).result()

    def later(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run ``coroutine`` on the loop without waiting for it."""
        asyncio.run_coroutine_threadsafe(coroutine, self.loop())


#: The loop of every transport of the process.
SMTP_LOOP = SmtpLoop()


#: Seconds an accepted mail's connection stays open before its ``QUIT`` when no
#: other mail follows (the next mail says goodbye for it at once).
GOODBYE_DELAY = 1.0


async def _goodbye(client: aiosmtplib.SMTP, hurry: asyncio.Event, delay: float) -> None:
    """``QUIT`` and close once ``hurry`` is set or ``delay`` has passed, whatever
    the server answers: the mail is already accepted."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await hurry.wait()
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
    finally:
        client.close()


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

    :meth:`send` returns as soon as the server has accepted the mail (its answer
    to the end of ``DATA``), so the outbox records the mail as sent without
    waiting for the goodbye. The ``QUIT`` that ends the connection runs on the
    transport's loop (:class:`SmtpLoop`) when the next mail is sent (the outbox
    has recorded this one by then) or :data:`GOODBYE_DELAY` seconds later: a
    worker that dies while it says goodbye has already recorded the mail.
    """

    def __init__(self, config: MailConfig, *, reconnect_after: float = 10.0) -> None:
        self.config = config
        self.reconnect_after = reconnect_after
        self._failed_at: float | None = None
        self._local_hostname: str | None = None
        self._lock = threading.Lock()
        #: Accepted mails' connections waiting for their goodbye (set to hurry it).
        self._waiting: list[asyncio.Event] = []

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
        loop = SMTP_LOOP.loop()
        with self._lock:
            earlier, self._waiting = self._waiting, []
        for hurry in earlier:  # recorded by now: the outbox sends one mail at a time
            loop.call_soon_threadsafe(hurry.set)
        options = self.options()
        # aiosmtplib's timeout is per operation; bound the whole exchange too.
        overall = self.config.timeout * 4

        async def deliver() -> aiosmtplib.SMTP:
            client = aiosmtplib.SMTP(**options)
            try:
                async with asyncio.timeout(overall):
                    await client.connect()
                    await client.send_message(message, sender=sender, recipients=recipients)
            except BaseException:
                client.close()
                raise
            return client

        try:
            client = SMTP_LOOP.run(deliver())
        except OSError:  # refused, unreachable, timed out, disconnected
            self._failed_at = time.monotonic()
            raise
        self._failed_at = None
        hurry = asyncio.Event()
        with self._lock:
            self._waiting.append(hurry)
        SMTP_LOOP.later(_goodbye(client, hurry, GOODBYE_DELAY))
