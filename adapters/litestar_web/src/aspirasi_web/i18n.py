"""Translations: gettext catalogs for Indonesian and English.

Message ids are English (the core's error messages are written that way);
``locale/id/LC_MESSAGES/messages.po`` translates them into Indonesian, the
default language. Catalogs are compiled in memory at start-up from the ``.po``
files (no generated ``.mo`` files in the repository); plugins add catalogs via
``aspirasi_web_locale_dirs``.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from aspirasi_core.domain.errors import DomainError, FieldError
from aspirasi_core.domain.vocabulary import STATUS_NAMES

LANGUAGES: tuple[str, ...] = ("id", "en")
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
HERE = Path(__file__).parent
CORE_LOCALE_DIR = HERE / "locale"
#: The type ``datetime``, for the annotations in :class:`Translator`'s body, where
#: its method ``datetime`` hides the name.
DateTime: TypeAlias = datetime


def _merged_catalog(language: str, paths: Iterable[Path]) -> gettext.GNUTranslations:
    """One catalog from every ``.po`` of ``paths``: a later file's translation wins
    over an earlier one's (a catalog keeps the first translation it is given, so the
    files are read last first), and an entry a file leaves untranslated (or fuzzy)
    never hides another file's translation. One catalog, not a chain of fallbacks: a page
    of a hundred rows asks for some thousand strings, each then one dictionary look-up."""
    merged = Catalog(locale=language)
    for path in reversed(list(paths)):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        for message in catalog:
            translated = message.id and message.string and not message.fuzzy
            if translated and merged.get(message.id, message.context) is None:
                merged[message.id] = message
    buf = io.BytesIO()
    write_mo(buf, merged)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Translator:
    """gettext for one language, with %-style parameters."""

    def __init__(
        self, language: str, translations: gettext.NullTranslations, timezone: str
    ) -> None:
        self.language = language
        self._t = translations
        self._tz = ZoneInfo(timezone)
        self._locale = Locale.parse(language)
        # Lists show many rows of the same few days: formatting is cached per day.
        self._dates: dict[tuple[date, str], str] = {}

    def gettext(self, message: str, **params: Any) -> str:
        text = self._t.gettext(message)
        if params:
            try:
                return text % params
            except (KeyError, TypeError, ValueError):
                return text
        return text

    __call__ = gettext

    @functools.cached_property
    def status_labels(self) -> Mapping[str, str]:
        """The status names of SPEC.md in this language (built once)."""
        return _status_labels(self)

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        text = self._t.ngettext(singular, plural, n)
        params.setdefault("num", n)
        try:
            return text % params
        except (KeyError, TypeError, ValueError):
            return text

    def error(self, exc: DomainError) -> str:
        params = self._dated(exc.params)
        # Status and action codes read as words in the reader's language.
        if isinstance(params.get("status"), str):
            params["status"] = status_labels(self).get(params["status"], params["status"])
        if isinstance(params.get("action"), str):
            params["action"] = action_labels(self).get(params["action"], params["action"])
        return self.gettext(exc.message, **params)

    def field_error(self, err: FieldError) -> str:
        return self.gettext(err.message, **self._dated(err.params))

    def _dated(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` with its days and times in the pages' short style."""
        out = dict(params)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = self.datetime(value, "short")
            elif isinstance(value, date):
                out[key] = self.date(value, "short")
        return out

    def datetime(self, value: datetime | None, style: str = "long") -> str:
        """A UTC datetime in the province's time zone, in one of the two date styles
        (:data:`DATE_STYLES`): ``short`` (``7 Des 2026 02.45 WITA``) for lists and tables,
        ``long`` (``Senin, 7 Desember 2026 02.45 WITA``) for a page about one thing."""
        if value is None:
            return ""
        local = value.astimezone(self._tz)
        pattern = _pattern(DATETIME_STYLES, style, self.language)
        text = babel_format_datetime(local, pattern, locale=self._locale, tzinfo=self._tz)
        return f"{text} {zone_abbreviation(self._tz, local)}".strip()

    def date(self, value: date | DateTime | None, style: str = "short") -> str:
        """A day in one of the two date styles: ``short`` (``7 Des 2026``) or ``long``
        (``Senin, 7 Desember 2026``). A datetime is first moved to the province's time zone;
        a plain date is shown as it is."""
        if value is None:
            return ""
        day = value.astimezone(self._tz).date() if isinstance(value, datetime) else value
        key = (day, style)
        text = self._dates.get(key)
        if text is None:
            if len(self._dates) >= 4096:
                self._dates.clear()
            pattern = _pattern(DATE_STYLES, style, self.language)
            text = self._dates[key] = babel_format_date(day, pattern, locale=self._locale)
        return text


#: The two date styles of every page, mail and export (CLDR patterns, one per language).
DATE_STYLES: Mapping[str, Mapping[str, str]] = {
    "short": {"id": "d MMM y", "en": "d MMM y"},
    "long": {"id": "EEEE, d MMMM y", "en": "EEEE, d MMMM y"},
}
#: Date and time: the date style followed by a 24-hour clock and the zone.
DATETIME_STYLES: Mapping[str, Mapping[str, str]] = {
    "short": {"id": "d MMM y HH.mm", "en": "d MMM y HH:mm"},
    "long": {"id": "EEEE, d MMMM y 'pukul' HH.mm", "en": "EEEE, d MMMM y 'at' HH:mm"},
}
_ZONE_NAMES = {"Asia/Makassar": "WITA", "Asia/Jakarta": "WIB", "Asia/Jayapura": "WIT"}


def _pattern(styles: Mapping[str, Mapping[str, str]], style: str, language: str) -> str:
    try:
        patterns = styles[style]
    except KeyError:
        raise ValueError(f"unknown date style {style!r}: use 'short' or 'long'") from None
    return patterns.get(language) or patterns["en"]


def zone_abbreviation(tz: ZoneInfo, local: datetime) -> str:
    """Indonesia's own names of its zones (WIB, WITA, WIT); elsewhere the zone's."""
    return _ZONE_NAMES.get(tz.key) or local.tzname() or ""


def date_filters(env: Any) -> None:
    """Add the Jinja filters ``date`` and ``datetime`` to ``env``: ``{{ m.created_at|datetime }}``,
    ``{{ m.created_at|datetime("short") }}``, ``{{ day|date }}``, ``{{ day|date("long") }}``,
    in the page's language (the context's ``t``) and the province's time zone."""
    from jinja2 import pass_context

    @pass_context
    def _date(ctx: Any, value: date | datetime | None, style: str = "short") -> str:
        return str(ctx["t"].date(value, style))

    @pass_context
    def _datetime(ctx: Any, value: datetime | None, style: str = "long") -> str:
        return str(ctx["t"].datetime(value, style))

    env.filters["date"] = _date
    env.filters["datetime"] = _datetime


class Translations:
    """All languages' translators, built once at start-up."""

    def __init__(self, timezone: str, extra_dirs: Iterable[str] = ()) -> None:
        self._translators: dict[str, Translator] = {}
        for language in LANGUAGES:
            # Every *.po of a folder is read (the core splits its catalog by area);
            # the core's folder comes last, so its translations win.
            paths: list[Path] = []
            for folder in [*map(Path, extra_dirs), CORE_LOCALE_DIR]:
                paths.extend(sorted((folder / language / "LC_MESSAGES").glob("*.po")))
            merged = _merged_catalog(language, paths)
            self._translators[language] = Translator(language, merged, timezone)

    def get(self, language: str) -> Translator:
        return self._translators.get(language) or self._translators["id"]


def pick_language(
    query: str | None, cookie: str | None, accept_language: str | None, default: str
) -> str:
    """The language of a request: ``?lang=``, then the ``lang`` cookie, then the
    browser's preference, then the configured default."""
    return asked_language(query, cookie, accept_language) or (
        default if default in LANGUAGES else "id"
    )


def asked_language(
    query: str | None, cookie: str | None, accept_language: str | None
) -> str | None:
    """The language a request asks for (``?lang=``, the ``lang`` cookie, the
    browser's preference), or None."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    if accept_language:
        for part in accept_language.split(","):
            code = part.split(";")[0].strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return None


def status_labels(t: Translator) -> Mapping[str, str]:
    """The status names of SPEC.md in the reader's language (built once per language)."""
    return t.status_labels


def _status_labels(t: Translator) -> Mapping[str, str]:
    # The core's one vocabulary (aspirasi_core.domain.vocabulary), translated.
    return {str(status): t(name) for status, name in STATUS_NAMES.items()}


def action_labels(t: Translator) -> Mapping[str, str]:
    """Workflow actions as words (used in error messages)."""
    return {
        "submit": t("send"),
        "forward": t("forward"),
        "reforward": t("forward again"),
        "reject": t("reject"),
        "withdraw": t("withdraw"),
        "start": t("confirm"),
        "progress": t("update the status"),
        "reply": t("send the reply"),
        "return": t("return it to the admin"),
        "reopen": t("reopen it"),
    }
