"""Rendering mails from Jinja2 templates, at queue time.

Two environments share one loader: text (subject and plain body, no escaping)
and HTML (autoescaped). Every printed value passes through
:func:`~.kinds.scrub_nik`, so no template can put a NIK into a mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import jinja2

from aspirasi_core.settings import Settings

from .kinds import Links, MailKind, MailKinds, Recipient, Url, scrub_nik

LANGUAGES = ("id", "en")
#: Version of the ``email`` outbox payload (bump when its shape changes).
PAYLOAD_FORMAT = 1
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
        if "@" not in mail.to or any(c in mail.to for c in "\r\n,;<>"):
            raise ValueError("e-mail payload with an invalid recipient")
        return mail


def _finalize(value: Any) -> Any:
    if isinstance(value, Url) or not isinstance(value, str):
        return value
    if hasattr(value, "__html__"):  # already safe HTML (Markup from blocks, macros)
        # Masking swaps digits for digits and "*": the markup stays safe.
        return type(value)(scrub_nik(str(value)))
    return scrub_nik(value)


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
            "contact_email": settings.contact_email,
            "brand_color": settings.brand_color,
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
