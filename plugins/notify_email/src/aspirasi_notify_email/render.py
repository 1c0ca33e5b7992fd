"""Rendering mails from Jinja2 templates.

Two environments share one loader: text (subject and plain body, no escaping)
and HTML (autoescaped). Every printed value but a link passes through the
core's masker (:func:`aspirasi_core.domain.pii.mask_pii`), so no template can
put a NIK, a mobile number or an e-mail address typed into a text into a mail.

An ``email`` outbox payload is one of two formats: a :class:`QueuedMail`
(format 2: the kind, the recipient and the template variables, captured in the
transaction of the change and rendered by the outbox worker at delivery) or a
rendered :class:`Mail` (format 1: for a kind whose variables are not plain JSON
values, rendered at once; also every payload queued before format 2 existed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs
import jinja2

from aspirasi_core.domain.pii import mask_pii
from aspirasi_core.settings import Settings

from .kinds import Links, MailKind, MailKinds, Recipient, Url

LANGUAGES = ("id", "en")
#: Version of a rendered ``email`` outbox payload (:class:`Mail`).
PAYLOAD_FORMAT = 1
#: Version of a queued, not yet rendered ``email`` outbox payload (:class:`QueuedMail`).
QUEUED_FORMAT = 2
MAX_SUBJECT = 200

STATUS_LABELS: dict[str, dict[str, str]] = {
    "id": {
        "submitted": "Terkirim / Menunggu verifikasi",
        "forwarded": "Belum dikonfirmasi",
        "in_progress": "Sedang ditangani",
        "done": "Selesai",
        "rejected": "Ditolak",
        "withdrawn": "Ditarik",
    },
    "en": {
        "submitted": "Submitted, awaiting review",
        "forwarded": "Forwarded, not yet confirmed",
        "in_progress": "Being handled",
        "done": "Done",
        "rejected": "Rejected",
        "withdrawn": "Withdrawn",
    },
}


class MailRenderError(RuntimeError):
    """A mail kind could not be rendered (a template or context bug)."""


@attrs.frozen
class Mail:
    """A rendered mail: the payload of an ``email`` outbox item."""

    kind: str
    to: str
    language: str
    subject: str
    text: str
    html: str

    def to_payload(self) -> dict[str, Any]:
        return {"format": PAYLOAD_FORMAT, **attrs.asdict(self)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Mail:
        """Read a payload back; raise ``ValueError`` when it is not one."""
        if payload.get("format") != PAYLOAD_FORMAT:
            raise ValueError(f"unknown e-mail payload format {payload.get('format')!r}")
        values = {}
        for field in attrs.fields(cls):
            value = payload.get(field.name)
            if not isinstance(value, str):
                raise ValueError(f"e-mail payload without {field.name!r}")
            values[field.name] = value
        mail = cls(**values)
        _check_address(mail.to)
        return mail


def _check_address(to: str) -> None:
    if "@" not in to or any(c in to for c in "\r\n,;<>"):
        raise ValueError("e-mail payload with an invalid recipient")


def _plain(value: Any) -> bool:
    """A value that survives a JSON round trip unchanged (tuples become lists)."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return True
    if kind in (list, tuple):
        return all(_plain(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return False


def _masked_int(value: int) -> int | str:
    """An integer as it is, or its masked text when its digits are a NIK or a phone number."""
    text = str(value)
    masked = mask_pii(text)
    return value if masked == text else masked


def _scrubbed(value: Any) -> Any:
    """A plain value with personal data masked in every string and integer."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _masked_int(value)
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    return value


def queueable(context: Mapping[str, Any]) -> bool:
    """Whether a kind's template variables can be queued for rendering at delivery:
    plain JSON values, and :class:`~.kinds.Url` values at the top level (links are
    never masked, so they must come back as ``Url``)."""
    return all(type(v) is Url or _plain(v) for v in context.values())


@attrs.frozen
class QueuedMail:
    """A mail queued with its variables, rendered when it is delivered.

    The template variables are those of the change (a snapshot, as the rendered mail
    was), so delivery still needs no database; the templates are those installed
    when it is sent. Make one only for a context :func:`queueable` accepts.
    """

    kind: str
    recipient: Recipient
    context: Mapping[str, Any]

    def to_payload(self) -> dict[str, Any]:
        """The payload, with the personal data in the variables already masked
        (links excepted), as the rendered mail would show them: the outbox never
        holds more than the mail will."""
        return {
            "format": QUEUED_FORMAT,
            "kind": self.kind,
            "to": self.recipient.email,
            "language": self.recipient.language,
            "name": mask_pii(self.recipient.name),
            "context": {k: v if type(v) is Url else _scrubbed(v) for k, v in self.context.items()},
            "urls": [k for k, v in self.context.items() if type(v) is Url],
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> QueuedMail:
        """Read a payload back; raise ``ValueError`` when it is not one."""
        if payload.get("format") != QUEUED_FORMAT:
            raise ValueError(f"unknown e-mail payload format {payload.get('format')!r}")
        fields = {name: payload.get(name) for name in ("kind", "to", "language", "name")}
        for name, value in fields.items():
            if not isinstance(value, str):
                raise ValueError(f"e-mail payload without {name!r}")
        context, urls = payload.get("context"), payload.get("urls")
        if not isinstance(context, dict) or not isinstance(urls, list):
            raise ValueError("e-mail payload without its variables")
        _check_address(fields["to"])
        variables = dict(context)
        for key in urls:
            if not isinstance(variables.get(key), str):
                raise ValueError("e-mail payload with an invalid link")
            variables[key] = Url(variables[key])
        return cls(
            kind=fields["kind"],
            recipient=Recipient(
                email=fields["to"], language=fields["language"], name=fields["name"]
            ),
            context=variables,
        )


#: The pages' two date styles (``aspirasi_web.i18n.DATE_STYLES``; a test keeps them equal).
DATE_PATTERNS = {"short": "d MMM y", "long": "EEEE, d MMMM y"}


@jinja2.pass_context
def _date(ctx: Any, value: date | str | None, style: str = "long") -> str:
    """``{{ due_date|date }}``: a day (a date or its ISO text, as queued payloads keep
    it) in the mail's language, in the pages' long (default) or short style."""
    if not value:
        return ""
    from babel.dates import format_date

    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return str(format_date(day, DATE_PATTERNS[style], locale=ctx.get("lang") or "id"))


def _finalize(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return _masked_int(value)
    if isinstance(value, Url) or not isinstance(value, str):
        return value
    if hasattr(value, "__html__"):  # already safe HTML (Markup from blocks, macros)
        # Masking swaps characters of a value for "*": the markup stays safe.
        return type(value)(mask_pii(str(value)))
    return mask_pii(value)


@jinja2.pass_context
def _status_label(ctx: jinja2.runtime.Context, status: str) -> str:
    labels = STATUS_LABELS.get(ctx.get("lang", "id"), STATUS_LABELS["id"])
    return labels.get(str(status), str(status))


class MailRenderer:
    """Renders :class:`MailKind` values into :class:`Mail` values."""

    def __init__(self, settings: Settings, kinds: MailKinds, links: Links) -> None:
        self._kinds = kinds
        self._links = links
        self._default_language = (
            settings.default_language if settings.default_language in LANGUAGES else "id"
        )
        self._common = {
            "app_name": settings.app_name,
            "province_name": settings.province_name,
            "base_url": Url(links.base_url),
            "contact_email": Url(settings.contact_email),  # printed as it is
            "brand_color": settings.brand_color,
            "unverified_account_days": settings.unverified_account_days,
        }
        self._dirs: list[str] = []
        self._text, self._html = self._environments()

    def _environments(self) -> tuple[jinja2.Environment, jinja2.Environment]:
        self._dirs = self._kinds.template_dirs()
        loader = jinja2.FileSystemLoader(self._dirs)
        options: dict[str, Any] = {
            "loader": loader,
            "undefined": jinja2.StrictUndefined,
            "finalize": _finalize,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
            "auto_reload": False,  # templates do not change while the process runs
        }
        text = jinja2.Environment(autoescape=False, **options)  # noqa: S701 - plain text mail
        html = jinja2.Environment(autoescape=True, **options)
        for env in (text, html):
            env.globals["status_label"] = _status_label
            env.filters["date"] = _date
        return text, html

    def language_of(self, kind: MailKind, recipient: Recipient) -> str:
        """The recipient's language if ``kind`` has templates in it, else the
        default language, else Indonesian."""
        wanted = recipient.language if recipient.language in LANGUAGES else self._default_language
        for code in dict.fromkeys((wanted, self._default_language, "id")):
            try:
                self._text.get_template(f"{code}/{kind.name}.subject.txt")
            except jinja2.TemplateNotFound:
                continue
            return code
        raise MailRenderError(f"mail kind {kind.name!r} has no templates")

    def render(self, kind: MailKind, recipient: Recipient, context: Mapping[str, Any]) -> Mail:
        """Render ``kind`` for ``recipient`` with ``context`` (from ``kind.context``)."""
        if self._dirs != self._kinds.template_dirs():  # a kind was added since
            self._text, self._html = self._environments()
        lang = self.language_of(kind, recipient)
        variables = {**self._common, **context, "lang": lang, "recipient": recipient}
        prefix = f"{lang}/{kind.name}"
        try:
            subject = self._text.get_template(f"{prefix}.subject.txt").render(variables)
            text = self._text.get_template(f"{prefix}.txt").render(variables)
            html = self._html.get_template(f"{prefix}.html").render(variables)
        except jinja2.TemplateError as exc:
            raise MailRenderError(f"mail kind {kind.name!r} ({lang}): {exc}") from exc
        subject = " ".join(subject.split())[:MAX_SUBJECT]
        return Mail(
            kind=kind.name,
            to=recipient.email,
            language=lang,
            subject=subject,
            text=text,
            html=html,
        )
