"""One date style everywhere (issue 22): the short and long styles of the pages, the
Jinja filters, the mails' copy of the patterns and the holidays' language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import jinja2
import pytest

from aspirasi_core.domain.sop import public_holidays
from aspirasi_notify_email.render import DATE_PATTERNS
from aspirasi_web.i18n import DATE_STYLES, Translations, date_filters

#: 18:45 UTC on Sunday 6 Dec 2026 is 02:45 on Monday 7 Dec in WITA (UTC+8).
LATE_SUNDAY_UTC = datetime(2026, 12, 6, 18, 45, tzinfo=UTC)


@pytest.fixture(scope="module")
def translations() -> Translations:
    return Translations("Asia/Makassar")


@pytest.mark.parametrize(
    ("lang", "short_date", "long_date", "short_time", "long_time"),
    [
        (
            "id",
            "7 Des 2026",
            "Senin, 7 Desember 2026",
            "7 Des 2026 02.45 WITA",
            "Senin, 7 Desember 2026 pukul 02.45 WITA",
        ),
        (
            "en",
            "7 Dec 2026",
            "Monday, 7 December 2026",
            "7 Dec 2026 02:45 WITA",
            "Monday, 7 December 2026 at 02:45 WITA",
        ),
    ],
)
def test_two_styles_in_the_provinces_time_zone(
    translations: Translations,
    lang: str,
    short_date: str,
    long_date: str,
    short_time: str,
    long_time: str,
) -> None:
    t = translations.get(lang)
    assert t.date(LATE_SUNDAY_UTC) == short_date  # the local day, not the UTC one
    assert t.date(LATE_SUNDAY_UTC, "long") == long_date
    assert t.datetime(LATE_SUNDAY_UTC, "short") == short_time
    assert t.datetime(LATE_SUNDAY_UTC) == long_time
    assert t.date(date(2026, 12, 7)) == short_date  # a plain day is not moved
    assert t.date(None) == t.datetime(None) == ""


def test_an_unknown_style_is_refused(translations: Translations) -> None:
    with pytest.raises(ValueError, match="short"):
        translations.get("id").datetime(LATE_SUNDAY_UTC, "medium")


def test_the_jinja_filters_use_the_pages_translator(translations: Translations) -> None:
    env = jinja2.Environment(autoescape=True)
    date_filters(env)
    template = env.from_string(
        '{{ v|date }} / {{ v|date("long") }} / {{ v|datetime("short") }} / {{ v|datetime }}'
    )
    text = template.render(t=translations.get("id"), v=LATE_SUNDAY_UTC)
    assert text == (
        "7 Des 2026 / Senin, 7 Desember 2026 / 7 Des 2026 02.45 WITA"
        " / Senin, 7 Desember 2026 pukul 02.45 WITA"
    )


def test_mails_use_the_same_date_patterns_as_the_pages() -> None:
    for style, pattern in DATE_PATTERNS.items():
        assert set(DATE_STYLES[style].values()) == {pattern}, style


def test_holidays_are_named_in_the_readers_language() -> None:
    indonesian = public_holidays("ID", 2026, "id")
    english = public_holidays("ID", 2026, "en")
    assert indonesian[date(2026, 1, 1)] == "Tahun Baru Masehi"
    assert english[date(2026, 1, 1)] == "New Year's Day"
    assert indonesian.keys() == english.keys()
