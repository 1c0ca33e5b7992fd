"""Delivery over SMTP with the standard library's :mod:`smtplib`, in the
dispatcher's (synchronous) worker thread: one connection for a run of mails."""

from __future__ import annotations

import hashlib
import hmac
import os
import smtplib
import socket
import ssl
import threading
import time
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from aspirasi_core.services.ports import OutboxItem

from .config import MailConfig
from .render import Mail


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


#: Seconds the connection stays open after a mail when no other mail follows; then
#: the transport says goodbye (``QUIT``). A batch's mails go over one connection.
GOODBYE_DELAY = 1.0

#: Failures of the network, not of the conversation: after one, the server is not
#: tried again for ``reconnect_after`` seconds. (smtplib's ``SMTPException`` is an
#: ``OSError`` too: an authentication error or a refused recipient does not count.)
_NETWORK_ERRORS = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


class SmtpTransport:
    """Sends messages with :mod:`smtplib`, keeping one connection open for a run
    of mails (an outbox batch): the dispatcher calls :meth:`send` once per item,
    from its worker thread, and records each item as sent as soon as it returns.

    TLS: implicit TLS on port 465; otherwise STARTTLS is required when
    ``ASPIRASI_SMTP_STARTTLS`` is on, used when offered when only
    ``ASPIRASI_SMTP_USER`` is set (never send a password in clear text when the
    server could encrypt), and never tried on a plain server. Certificates are
    checked against the system's store or ``ASPIRASI_NOTIFY_EMAIL_CA_FILE``.
    ``ASPIRASI_NOTIFY_EMAIL_TIMEOUT`` bounds connecting and each network
    operation.

    :meth:`send` returns as soon as the server has accepted the mail (its answer
    to the end of ``DATA``), so the outbox records the mail as sent without
    waiting for anything else. The next mail reuses the connection (after a
    ``NOOP`` shows it is still open); ``goodbye_delay`` (:data:`GOODBYE_DELAY`)
    seconds after the last one a timer thread says ``QUIT``. A worker that dies while it says goodbye has
    already recorded its mails. A connection that failed in any way is closed, not
    reused; a forked child never uses its parent's.

    After a network failure, deliveries during the next ``reconnect_after``
    seconds fail at once without connecting, so a server that swallows
    connections costs one timeout per batch, not one per mail (a batch must
    end before its lease does, or another dispatcher takes its items again).
    """

    def __init__(
        self,
        config: MailConfig,
        *,
        reconnect_after: float = 10.0,
        goodbye_delay: float = GOODBYE_DELAY,
    ) -> None:
        self.config = config
        self.reconnect_after = reconnect_after
        #: Seconds an unused connection stays open (see :data:`GOODBYE_DELAY`).
        self.goodbye_delay = goodbye_delay
        self._failed_at: float | None = None
        self._local_hostname: str | None = None
        #: Guards the connection: sends (one at a time) and the goodbye timer.
        self._lock = threading.Lock()
        self._connection: smtplib.SMTP | None = None
        self._pid = os.getpid()
        self._goodbye: threading.Timer | None = None

    def options(self) -> dict[str, Any]:
        """How a connection is made: ``implicit_tls``; ``starttls`` True (required),
        None (when offered) or False (never); ``username`` and ``password`` (None:
        no authentication); host, port, timeout, CA file and the name said in
        ``EHLO``."""
        c = self.config
        if c.implicit_tls:
            starttls: bool | None = False
        elif c.smtp_starttls:
            starttls = True
        elif c.uses_authentication:
            starttls = None
        else:
            starttls = False
        return {
            "hostname": c.smtp_host,
            "port": c.smtp_port,
            "username": c.smtp_user if c.uses_authentication else None,
            "password": c.smtp_password if c.uses_authentication else None,
            "implicit_tls": c.implicit_tls,
            "starttls": starttls,
            "timeout": c.timeout,
            "ca_file": c.ca_file,
            "local_hostname": self._hostname(),
        }

    def _hostname(self) -> str:
        if self._local_hostname is None:
            self._local_hostname = socket.getfqdn() or "localhost"
        return self._local_hostname

    def _connect(self) -> smtplib.SMTP:
        o = self.options()
        context = ssl.create_default_context(cafile=o["ca_file"])
        connection: smtplib.SMTP
        if o["implicit_tls"]:
            connection = smtplib.SMTP_SSL(
                o["hostname"],
                o["port"],
                local_hostname=o["local_hostname"],
                timeout=o["timeout"],
                context=context,
            )
        else:
            connection = smtplib.SMTP(
                o["hostname"], o["port"], local_hostname=o["local_hostname"], timeout=o["timeout"]
            )
        try:
            connection.ehlo()
            starttls = o["starttls"]
            if starttls or (starttls is None and connection.has_extn("starttls")):
                connection.starttls(context=context)  # refused: SMTPNotSupportedError
                connection.ehlo()
            if o["username"] is not None:
                connection.login(o["username"], o["password"])
        except BaseException:
            connection.close()
            raise
        return connection

    def _open_connection(self) -> smtplib.SMTP:
        """The connection to send on: the open one when it still answers, else a
        new one. Called with the lock held."""
        if self._pid != os.getpid():  # forked: the parent's socket is not ours to use
            self._connection, self._goodbye, self._pid = None, None, os.getpid()
        if self._goodbye is not None:
            self._goodbye.cancel()
            self._goodbye = None
        connection = self._connection
        if connection is not None:
            try:
                alive = connection.noop()[0] == 250
            except (smtplib.SMTPException, OSError):
                alive = False
            if alive:
                return connection
            self._connection = None
            connection.close()
        self._connection = self._connect()
        return self._connection

    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        """Send ``message``; raise on any failure (the dispatcher retries)."""
        failed_at = self._failed_at
        if failed_at is not None and time.monotonic() - failed_at < self.reconnect_after:
            raise SmtpUnavailable(
                f"SMTP server {self.config.smtp_host}:{self.config.smtp_port} was unreachable"
                f" {time.monotonic() - failed_at:.0f} s ago; not tried again yet"
            )
        with self._lock:
            try:
                connection = self._open_connection()
                connection.send_message(message, from_addr=sender, to_addrs=recipients)
            except BaseException as exc:
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None
                if isinstance(exc, _NETWORK_ERRORS):  # refused, unreachable, timed out
                    self._failed_at = time.monotonic()
                raise
            self._failed_at = None
            goodbye = threading.Timer(self.goodbye_delay, self._say_goodbye, args=(connection,))
            goodbye.daemon = True
            goodbye.name = "notify-email-goodbye"
            self._goodbye = goodbye
            goodbye.start()

    def _say_goodbye(self, connection: smtplib.SMTP) -> None:
        """``QUIT`` and close ``connection`` unless a mail took it up again; whatever
        the server answers, its mails are already accepted."""
        with self._lock:
            if self._connection is not connection or self._pid != os.getpid():
                return
            self._connection, self._goodbye = None, None
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            connection.close()

    def close(self) -> None:
        """Say goodbye now (tests, shutdown); the next mail opens a new connection."""
        with self._lock:
            connection, goodbye = self._connection, self._goodbye
        if goodbye is not None:
            goodbye.cancel()
        if connection is not None:
            self._say_goodbye(connection)
