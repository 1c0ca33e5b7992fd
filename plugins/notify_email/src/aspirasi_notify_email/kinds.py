"""Mail kinds: which event produces which mail, for whom, with what in it.

A :class:`MailKind` ties an event type to its recipients, the variables its
templates get, and the folder holding those templates. The bundled kinds are
below (:func:`builtin_kinds`); another plugin adds its own the same way — see
the package docstring ("Adding a mail kind").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import attrs

from aspirasi_core.domain.events import (
    DuplicateRegistrationAttempted,
    Event,
    FollowupWritten,
    MessageOverdue,
    MessageSubmitted,
    NikReleased,
    PasswordResetRequested,
    RegistrationNikTaken,
    StaffInvited,
    StatusChanged,
    VerificationRequested,
)
from aspirasi_core.domain.model import Account, Action, Role, Visibility
from aspirasi_core.plugin_types import RecipientLookup

#: The folder of the bundled templates (``<lang>/<kind>.subject.txt|.txt|.html``
#: and the shared layouts ``_layout.txt`` / ``_layout.html``).
BUNDLED_TEMPLATES = str(Path(__file__).resolve().parent / "templates")


class Url(str):
    """A link built by :class:`Links` (or the contact address): printed as it is,
    never masked (tokens must reach the reader whole)."""

    __slots__ = ()


@attrs.frozen
class Recipient:
    """Who gets one mail, and in which language."""

    email: str
    language: str
    name: str = ""

    @classmethod
    def of(cls, account: Account) -> Recipient:
        return cls(email=account.email, language=account.language, name=account.full_name)


@attrs.frozen
class Links:
    """Addresses in mails, all under ``ASPIRASI_BASE_URL``."""

    base_url: str

    def url(self, path: str, **query: str) -> Url:
        suffix = f"?{urlencode(query)}" if query else ""
        return Url(f"{self.base_url}{path}{suffix}")

    def verify_email(self, token: str) -> Url:
        return self.url("/verify-email", token=token)

    def reset_password(self, token: str) -> Url:
        return self.url("/reset-password", token=token)

    def invitation(self, token: str) -> Url:
        return self.url("/invitation", token=token)

    def login(self) -> Url:
        return self.url("/login")

    def forgot_password(self) -> Url:
        return self.url("/forgot-password")

    def register(self) -> Url:
        return self.url("/register")

    def verify_pending(self) -> Url:
        return self.url("/verify-pending")

    def citizen_message(self, message_id: int) -> Url:
        return self.url(f"/messages/{int(message_id)}")

    def staff_message(self, message_id: int) -> Url:
        return self.url(f"/backoffice/messages/{int(message_id)}")


RecipientsFn = Callable[[Any, RecipientLookup], Iterable[Recipient]]
ContextFn = Callable[[Any, Links], Mapping[str, Any]]


@attrs.frozen
class MailKind:
    """One kind of mail.

    - ``name`` — unique; also the template names: ``<lang>/<name>.subject.txt``,
      ``<lang>/<name>.txt`` and ``<lang>/<name>.html`` under ``template_dir``.
    - ``events`` — the event classes that produce it.
    - ``recipients(event, lookup)`` — who gets it (``lookup`` is the core's
      ``RecipientLookup``, inside the transaction); nobody: no mail.
    - ``context(event, links)`` — the variables of its templates (besides the
      common ones: ``app_name``, ``province_name``, ``base_url``,
      ``contact_email``, ``brand_color``, ``unverified_account_days``, ``lang``,
      ``recipient``).
    - ``looked_up(event, lookup)`` — optional: more template variables read in
      the event's transaction (an agency's name: ``lookup.agency(id)``).
    - ``when(event)`` — optional filter (e.g. only some actions).
    - ``template_dir`` — the folder of its templates (default: the bundled one).
      Templates may extend ``_layout.txt`` / ``_layout.html``.
    """

    name: str = attrs.field()
    events: tuple[type[Event], ...] = attrs.field(converter=tuple)
    recipients: RecipientsFn
    context: ContextFn
    when: Callable[[Any], bool] | None = None
    template_dir: str = BUNDLED_TEMPLATES
    looked_up: Callable[[Any, RecipientLookup], Mapping[str, Any]] | None = None

    @name.validator
    def _check_name(self, _attribute: object, value: str) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise ValueError(f"mail kind name {value!r} must be lower_snake_case")

    def applies_to(self, event: Event) -> bool:
        return isinstance(event, self.events) and (self.when is None or self.when(event))


class MailKinds:
    """The mail kinds of one plugin instance, in the order they were added."""

    def __init__(self, kinds: Iterable[MailKind] = ()) -> None:
        self._kinds: dict[str, MailKind] = {}
        for kind in kinds:
            self.add(kind)

    def add(self, kind: MailKind) -> None:
        """Add ``kind``; adding an equal kind again is a no-op, another kind
        with a taken name raises ``ValueError``."""
        known = self._kinds.get(kind.name)
        if known is not None and known != kind:
            raise ValueError(f"mail kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> MailKind:
        return self._kinds[name]

    def names(self) -> list[str]:
        return list(self._kinds)

    def template_dirs(self) -> list[str]:
        """The bundled folder (layouts, bundled kinds) first, so another plugin's
        folder cannot replace them; then every other kind's folder."""
        dirs = [k.template_dir for k in self._kinds.values()]
        return list(dict.fromkeys([BUNDLED_TEMPLATES, *dirs]))

    def for_event(self, event: Event) -> list[MailKind]:
        return [kind for kind in self._kinds.values() if kind.applies_to(event)]

    def __iter__(self) -> Iterator[MailKind]:
        return iter(list(self._kinds.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._kinds


# --------------------------------------------------------------------------- bundled kinds


def _owner(event: Any, lookup: RecipientLookup) -> list[Recipient]:
    """The account the event is about, at the address and language the event names.

    Greeted by name only once the address is verified: before that, the name is
    whatever whoever registered typed, and the mailbox may be somebody else's."""
    account = lookup.account(event.account_id)
    if account is None or not account.is_active:
        return []
    name = account.full_name if account.verified else ""
    return [Recipient(email=event.email, language=event.language, name=name)]


def _registrant(event: RegistrationNikTaken, lookup: RecipientLookup) -> list[Recipient]:
    """The address typed at a registration that made no account (greeted neutrally)."""
    return [Recipient(email=event.email, language=event.language)]


def _holder(event: NikReleased, lookup: RecipientLookup) -> list[Recipient]:
    account = lookup.account(event.account_id)
    if account is None or not account.is_active:
        return []
    return [Recipient.of(account)]


def _author(event: StatusChanged, lookup: RecipientLookup) -> list[Recipient]:
    account = lookup.account(event.author_id)
    if account is None or not account.is_active or account.id == event.actor_id:
        return []
    return [Recipient.of(account)]


def _admins(event: MessageSubmitted, lookup: RecipientLookup) -> list[Recipient]:
    return [Recipient.of(a) for a in lookup.with_role(Role.ADMIN) if a.id != event.author_id]


def _operators(event: StatusChanged, lookup: RecipientLookup) -> list[Recipient]:
    if event.agency_id is None:
        return []
    return [Recipient.of(a) for a in lookup.operators_of(event.agency_id) if a.id != event.actor_id]


def _hours_left(event: Any) -> int | None:
    if event.expires_at is None or event.at is None:
        return None
    return max(1, round((event.expires_at - event.at).total_seconds() / 3600))


def _minutes_left(event: Any) -> int | None:
    if event.expires_at is None or event.at is None:
        return None
    return max(1, round((event.expires_at - event.at).total_seconds() / 60))


VERIFY_EMAIL = MailKind(
    name="verify_email",
    events=(VerificationRequested,),
    recipients=_owner,
    context=lambda e, links: {"link": links.verify_email(e.token), "hours": _hours_left(e)},
)

RESET_PASSWORD = MailKind(
    name="reset_password",
    events=(PasswordResetRequested,),
    recipients=_owner,
    context=lambda e, links: {"link": links.reset_password(e.token), "minutes": _minutes_left(e)},
)

STAFF_INVITATION = MailKind(
    name="staff_invitation",
    events=(StaffInvited,),
    recipients=_owner,
    context=lambda e, links: {
        "link": links.invitation(e.token),
        "days": max(1, round((_hours_left(e) or 24) / 24)),
        "role": e.role,
    },
)

DUPLICATE_REGISTRATION = MailKind(
    name="duplicate_registration",
    events=(DuplicateRegistrationAttempted,),
    recipients=_owner,
    context=lambda e, links: {
        "login_link": links.login(),
        "forgot_link": links.forgot_password(),
        "pending_link": links.verify_pending(),
        # An account waiting for verification was started with whatever someone typed.
        "verified": e.verified,
    },
)

REGISTRATION_NIK_TAKEN = MailKind(
    name="registration_nik_taken",
    events=(RegistrationNikTaken,),
    recipients=_registrant,
    context=lambda e, links: {"register_link": links.register()},
)

NIK_RELEASED = MailKind(
    name="nik_released",
    events=(NikReleased,),
    recipients=_holder,
    context=lambda e, links: {"reason": e.reason, "login_link": links.login()},
)

NEW_MESSAGE = MailKind(
    name="new_message",
    events=(MessageSubmitted,),
    recipients=_admins,
    context=lambda e, links: {
        "ticket": e.ticket,
        # The templates leave a confidential subject out; so does the queued mail.
        "subject": "" if e.confidential else e.subject,
        "confidential": e.confidential,
        "anonymous": e.anonymous,
        "link": links.staff_message(e.message_id),
    },
)

MESSAGE_FORWARDED = MailKind(
    name="message_forwarded",
    events=(StatusChanged,),
    when=lambda e: e.action in (Action.FORWARD, Action.REFORWARD),
    recipients=_operators,
    context=lambda e, links: {
        "ticket": e.ticket,
        "note": e.note,
        "reforward": e.action is Action.REFORWARD,
        "link": links.staff_message(e.message_id),
    },
)

STATUS_CHANGED = MailKind(
    name="status_changed",
    events=(StatusChanged,),
    # A withdrawn message vanishes from every page, and only its author withdraws it.
    when=lambda e: e.action is not Action.WITHDRAW,
    recipients=_author,
    context=lambda e, links: {
        "ticket": e.ticket,
        "action": str(e.action),
        "from_status": str(e.from_status),
        "to_status": str(e.to_status),
        # only a text meant for the sender reaches the sender
        "note": e.note if e.note_visibility is Visibility.SENDER else "",
        "link": links.citizen_message(e.message_id),
    },
)


def _followup_recipients(event: FollowupWritten, lookup: RecipientLookup) -> list[Recipient]:
    account = lookup.account(event.author_id)
    if account is None or not account.is_active:
        return []
    return [Recipient.of(account)]


FOLLOWUP_WRITTEN = MailKind(
    name="followup_written",
    events=(FollowupWritten,),
    recipients=_followup_recipients,
    # No text in the mail: the agency may ask for details the sender answers on the page.
    context=lambda e, links: {"ticket": e.ticket, "link": links.citizen_message(e.message_id)},
)


def _overdue_recipients(event: MessageOverdue, lookup: RecipientLookup) -> list[Recipient]:
    """Triage late: the admins. Confirmation or reply late: the agency's operators."""
    if event.stage == "triage":
        return [Recipient.of(a) for a in lookup.with_role(Role.ADMIN)]
    if event.agency_id is None:
        return []
    return [Recipient.of(a) for a in lookup.operators_of(event.agency_id)]


MESSAGE_OVERDUE = MailKind(
    name="message_overdue",
    events=(MessageOverdue,),
    recipients=_overdue_recipients,
    context=lambda e, links: {
        "ticket": e.ticket,
        "subject": e.subject,
        "stage": e.stage,
        "due_date": e.due_date.isoformat() if e.due_date else "",
        "link": links.staff_message(e.message_id),
    },
)


def builtin_kinds() -> list[MailKind]:
    """The kinds the plugin sends out of the box."""
    return [
        VERIFY_EMAIL,
        RESET_PASSWORD,
        STAFF_INVITATION,
        DUPLICATE_REGISTRATION,
        REGISTRATION_NIK_TAKEN,
        NIK_RELEASED,
        NEW_MESSAGE,
        MESSAGE_FORWARDED,
        STATUS_CHANGED,
        MESSAGE_OVERDUE,
        FOLLOWUP_WRITTEN,
    ]
