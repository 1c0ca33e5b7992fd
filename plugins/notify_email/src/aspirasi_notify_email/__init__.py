"""E-mail notifications through the outbox.

Quick start
-----------
Install the package next to ``aspirasi-core`` (``pip install aspirasi-notify-email``);
the core loads it through its ``aspirasi`` entry point (``notify_email``, the class
:class:`NotifyEmailPlugin`: every plugin manager gets its own instance). Turn it
off with ``ASPIRASI_DISABLED_PLUGINS=notify_email``: the core keeps working, and
no mail is queued.

What it sends, in the recipient's language (Indonesian by default, English when
the account's language is ``en``):

- the verification link (``{base}/verify-email?token=…``) and the password-reset
  link (``{base}/reset-password?token=…``) to the account's address;
- the invitation of a new staff account (``{base}/invitation?token=…``), with
  which its owner sets their first password;
- a notice to the owner of an address when someone tries to register with it
  (saying, for an account still waiting for verification, that it waits and is
  removed if nobody confirms it);
- to the address typed at a registration with a NIK a verified account holds:
  no account was made, and how the owner of a NIK gets it released (write to the
  administrator at ``ASPIRASI_CONTACT_EMAIL``);
- a notice to an account whose NIK a super admin released, with the reason;
- a notice to every admin for each new message (``{base}/backoffice/messages/{id}``);
- a notice to an agency's operators when a message is forwarded to it;
- a notice to the citizen for every status change, progress update and the
  reply (``{base}/messages/{id}``); not when the citizen withdraws a message.
- a notice when a message passes its SOP deadline (once per deadline, from the
  SOP sweep): to the admins while it waits to be forwarded, to the agency's
  operators while it waits for their confirmation or reply.

Mails sent before the address is verified greet neutrally (no name: whoever
registered typed it).

A mail of a bundled kind or of a kind declared through the entry point (below)
is captured when the change happens — recipient and template variables, personal
data in them already masked — and stored (encrypted) in the outbox in the same
transaction; the outbox dispatcher renders it (subject, text and HTML) when it
delivers it, and retries on failure, so the request of the change does not pay
for the templates. Mails of other kinds (added in code with ``kinds=`` or
``plugin.kinds.add``, which an ``aspirasi outbox run`` process would not know)
and mails whose variables are not plain JSON values (a date, an object) are
rendered at once. Either way delivery needs no database. A kind's templates must
keep accepting the variables of the mails already queued (or drain the outbox
before changing them).

A mail never contains personal data typed into a text: every value a template
prints (links and the contact address excepted) goes through the core's masker
(``aspirasi_core.domain.pii.mask_pii``), so NIKs read ``6472********0001``, mobile
numbers ``0812*****890`` and e-mail addresses ``b***@***.com``. Only texts for the
sender reach the sender: an internal note of the staff is left out of their mail.

Settings
--------
``ASPIRASI_SMTP_HOST``, ``ASPIRASI_SMTP_PORT``
    The SMTP server. Port 465 means implicit TLS.
``ASPIRASI_SMTP_STARTTLS``
    Require STARTTLS. Off: plain SMTP (a local relay), unless a user is set,
    when STARTTLS is used if the server offers it.
``ASPIRASI_SMTP_USER``, ``ASPIRASI_SMTP_PASSWORD``
    Authenticate when the user is set.
``ASPIRASI_MAIL_FROM``
    Sender (``Name <address@domain>``); its domain is used in Message-IDs.
``ASPIRASI_BASE_URL``
    The start of every link.
``ASPIRASI_APP_NAME``, ``ASPIRASI_PROVINCE_NAME``, ``ASPIRASI_DEFAULT_LANGUAGE``
    Shown in (and choosing the language of) the mails.
``ASPIRASI_NOTIFY_EMAIL_TIMEOUT``
    Seconds for connecting and for each SMTP command (default 10).
``ASPIRASI_NOTIFY_EMAIL_CA_FILE``
    A PEM file of the CA that signed the SMTP server's certificate, when the
    system does not trust it (an internal CA).

Where mail goes: to the SMTP server when ``ASPIRASI_SMTP_HOST`` is set (demo
mode or not); in demo mode (``ASPIRASI_DEMO=1``) without it, into the
development mailbox — JSON files under ``<ASPIRASI_STORAGE_PATH>/dev-mailbox/``,
read with ``plugin.mailbox.list()`` / ``plugin.mailbox.get(id)``
(:class:`DevMailbox`); otherwise nowhere: deliveries fail with "not configured"
and end as dead letters a super admin can retry. In production
(``ASPIRASI_ENV=production``) the plugin refuses to start without an SMTP host.

Delivery is at least once, and once in practice: the SMTP transport returns as
soon as the server has accepted a mail (it says goodbye to the server
afterwards), so the outbox marks the item sent right then; only a crash in
the few milliseconds between the two sends a mail again. Every mail carries a
Message-ID made from its outbox item and the site's key
(``<id>.<20 hex digits>.aspirasi@<sender's domain>``), the same on every try, so
such a mail is recognisable as the same one.

Adding a mail kind
------------------
Another plugin adds a mail for its own event with a :class:`MailKind` — an event
class, who receives it, the template variables — and templates
``<lang>/<name>.subject.txt``, ``<lang>/<name>.txt`` and ``<lang>/<name>.html``
in a folder of its own (they may ``{% extends "_layout.html" %}``)::

    from pathlib import Path
    from aspirasi_notify_email import MailKind, Recipient

    REPRIMAND = MailKind(
        name="evaluator_reprimand",
        events=(ReprimandIssued,),
        recipients=lambda e, lookup: [Recipient.of(a) for a in lookup.operators_of(e.agency_id)],
        context=lambda e, links: {"text": e.text, "link": links.url("/reprimands")},
        template_dir=str(Path(__file__).parent / "mail_templates"),
    )

and returns it from the hook ``aspirasi_mail_kinds``, which notify_email adds to
the plugin manager (:mod:`aspirasi_notify_email.hookspecs`); a plugin the allow-
or block-list keeps out is not registered, so its kinds are not either::

    @hookimpl(optionalhook=True)   # loads without notify_email too
    def aspirasi_mail_kinds():
        return [REPRIMAND]

(or, for code that holds the plugin object, ``plugin.kinds.add(REPRIMAND)``; such
a kind exists only in that process, so its mails are rendered when they are queued).
The event must be recorded by a use case in its transaction, so
``aspirasi_outbox_items`` sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pluggy
import structlog

from aspirasi_core import hookimpl
from aspirasi_core.domain.events import Event
from aspirasi_core.plugin_types import OutboxMessage, RecipientLookup
from aspirasi_core.services.ports import OutboxItem
from aspirasi_core.settings import Settings

from . import hookspecs
from .config import MAILBOX, SMTP, MailConfig
from .kinds import Links, MailKind, MailKinds, Recipient, Url, builtin_kinds
from .mailbox import DevMailbox, StoredMail
from .render import (
    QUEUED_FORMAT,
    Mail,
    MailRenderer,
    MailRenderError,
    QueuedMail,
    queueable,
)
from .transport import SmtpTransport, SmtpUnavailable, build_message, message_id

__all__ = [
    "EMAIL_TOPIC",
    "DevMailbox",
    "Links",
    "Mail",
    "MailConfig",
    "MailKind",
    "MailKinds",
    "MailNotConfigured",
    "MailRenderError",
    "NotifyEmailPlugin",
    "QueuedMail",
    "Recipient",
    "SmtpTransport",
    "SmtpUnavailable",
    "StoredMail",
    "Url",
    "build_message",
    "message_id",
]

#: The outbox topic of mails.
EMAIL_TOPIC = "email"

log = structlog.get_logger("aspirasi.notify_email")


class MailNotConfigured(RuntimeError):
    """Neither an SMTP server nor (demo mode) the development mailbox."""


class NotifyEmailPlugin:
    """The plugin object; the entry point names this class, so each plugin
    manager gets a fresh instance holding its own configuration.

    ``kinds`` are added to the bundled ones; ``transport`` replaces the SMTP
    transport (anything with ``send(message, *, sender, recipients)``).
    """

    def __init__(
        self,
        *,
        kinds: Iterable[MailKind] = (),
        transport: Any = None,
    ) -> None:
        self.kinds = MailKinds(builtin_kinds())
        for kind in kinds:
            self.kinds.add(kind)
        self.config: MailConfig | None = None
        #: The development mailbox (demo mode without SMTP host), else None.
        self.mailbox: DevMailbox | None = None
        #: Sends over SMTP: an :class:`SmtpTransport` made at configuration time,
        #: unless one was given.
        self.transport: Any = transport
        self._given_transport = transport is not None
        #: Kinds every process knows (bundled, or returned by ``aspirasi_mail_kinds``):
        #: their mails are queued unrendered. Kinds given in code are rendered at once.
        self._portable: set[str] = {kind.name for kind in builtin_kinds()}
        self._renderer: MailRenderer | None = None
        self._links: Links | None = None
        self._pm: pluggy.PluginManager | None = None

    # ------------------------------------------------------------------ hooks
    @hookimpl
    def aspirasi_addhooks(self, pluginmanager: pluggy.PluginManager) -> None:
        """Add ``aspirasi_mail_kinds``, through which other plugins add mails."""
        pluginmanager.add_hookspecs(hookspecs)
        self._pm = pluginmanager

    @hookimpl
    def aspirasi_configure(self, settings: Settings) -> None:
        """Read and check the mail settings; collect other plugins' mail kinds."""
        config = MailConfig.from_settings(settings)
        for kind in self._declared_kinds():
            self.kinds.add(kind)
            self._portable.add(kind.name)
        self.config = config
        self._links = Links(config.base_url)
        self._renderer = MailRenderer(settings, self.kinds, self._links)
        self.mailbox = DevMailbox(config.mailbox_path) if config.mode == MAILBOX else None
        if config.mode == SMTP and not self._given_transport:
            self.transport = SmtpTransport(config)
        if config.mode not in (SMTP, MAILBOX):
            log.warning(
                "notify_email_not_configured",
                reason="ASPIRASI_SMTP_HOST is not set and demo mode is off:"
                " mails are queued but cannot be delivered",
            )

    @hookimpl
    def aspirasi_outbox_items(
        self, event: Event, lookup: RecipientLookup
    ) -> Sequence[OutboxMessage] | None:
        """The mails ``event`` calls for, one outbox item per recipient: queued with
        their variables (rendered at delivery), or rendered now for a kind given in
        code or whose variables are not plain JSON values."""
        renderer = self._require_renderer()
        assert self._links is not None
        items: list[OutboxMessage] = []
        for kind in self.kinds.for_event(event):
            seen: set[str] = set()
            context: Any = None
            later = False
            for recipient in kind.recipients(event, lookup):
                address = recipient.email.casefold()
                if address in seen:
                    continue
                seen.add(address)
                if context is None:
                    context = dict(kind.context(event, self._links))
                    if kind.looked_up is not None:
                        context.update(kind.looked_up(event, lookup))
                    later = kind.name in self._portable and queueable(context)
                if later:
                    payload = QueuedMail(kind.name, recipient, context).to_payload()
                else:
                    payload = renderer.render(kind, recipient, context).to_payload()
                items.append(OutboxMessage(topic=EMAIL_TOPIC, payload=payload))
        return items or None

    @hookimpl
    def aspirasi_deliver_outbox_item(self, item: OutboxItem) -> bool | None:
        """Deliver an ``email`` item (SMTP or the development mailbox); raise on failure."""
        if item.topic != EMAIL_TOPIC:
            return None
        config = self.config
        if config is None:
            raise MailNotConfigured("notify_email was not configured (aspirasi_configure)")
        mail = self.mail_of(item.payload)
        mid = message_id(item, config)
        if config.mode == SMTP:
            self.transport.send(
                build_message(mail, config, item), sender=config.sender, recipients=[mail.to]
            )
        elif config.mode == MAILBOX and self.mailbox is not None:
            self.mailbox.store(item, mail, sender=config.mail_from, message_id=mid)
        else:
            raise MailNotConfigured(
                "ASPIRASI_SMTP_HOST is not set (and demo mode is off): no mail can be sent"
            )
        return True

    # ------------------------------------------------------------------ helpers
    def mail_of(self, payload: Mapping[str, Any]) -> Mail:
        """The mail an ``email`` outbox payload stands for, rendered if it was queued
        with its variables. Raises ``ValueError`` for a payload that is not a mail and
        :class:`MailRenderError` for a kind that is gone or fails to render."""
        if payload.get("format") != QUEUED_FORMAT:
            return Mail.from_payload(payload)
        queued = QueuedMail.from_payload(payload)
        if queued.kind not in self.kinds:
            raise MailRenderError(f"mail kind {queued.kind!r} is not installed")
        return self._require_renderer().render(
            self.kinds.get(queued.kind), queued.recipient, queued.context
        )

    def render(self, kind: str, recipient: Recipient, context: dict[str, Any]) -> Mail:
        """Render a mail kind by name (previews, tests)."""
        return self._require_renderer().render(self.kinds.get(kind), recipient, context)

    def _require_renderer(self) -> MailRenderer:
        if self._renderer is None:
            raise RuntimeError("notify_email is not configured yet (aspirasi_configure)")
        return self._renderer

    def _declared_kinds(self) -> list[MailKind]:
        """Mail kinds other plugins return from ``aspirasi_mail_kinds``."""
        if self._pm is None:
            return []
        found: list[MailKind] = []
        for declared in self._pm.hook.aspirasi_mail_kinds():
            for kind in declared or ():
                if not isinstance(kind, MailKind):
                    raise ValueError(
                        f"aspirasi_mail_kinds must return MailKind values, got {type(kind).__name__}"
                    )
                found.append(kind)
        return found
