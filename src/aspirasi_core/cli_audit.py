"""``aspirasi audit verify|seal``: the tamper-evident record from the command line.

``verify`` checks every message's hash chain and the daily roots and exits with
1 at the first broken link (the message's ticket and the log entry's id), 0 with
the counts when everything holds. ``seal`` writes the roots of the days that are
over now (the outbox worker's periodic sweep does it too).

Texts are in the language of ``--lang`` or ``ASPIRASI_DEFAULT_LANGUAGE``: English
message ids, translated by ``locale/id/LC_MESSAGES/cli.po`` (compiled in memory,
as the web app does with its catalogs).
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path
from typing import Any

import click
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from .settings import Settings

LOCALE_DIR = Path(__file__).parent / "locale"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The CLI's catalog for ``language`` (English: the message ids)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "cli.po"
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translator(language: str) -> Any:
    """``t(message, **params)`` in ``language``."""
    catalog = translations(language)

    def t(message: str, **params: Any) -> str:
        text = catalog.gettext(message)
        return text % params if params else text

    return t


def _settings() -> Settings:
    try:
        settings = Settings.from_env()
        settings.check_production()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return settings


def _app(settings: Settings):  # type: ignore[no-untyped-def]
    from .bootstrap import bootstrap
    from .logging import configure_logging

    configure_logging(settings)
    return bootstrap(settings)


def _reasons(t: Any) -> dict[str, str]:
    return {
        "hash": t("its content was changed"),
        "prev": t("it does not name the entry before it"),
        "seq": t("an entry before it is missing, moved or added"),
        "unchained": t("it has no hash"),
        "empty": t("the message has no log entry"),
    }


_LANG = click.option(
    "--lang",
    type=click.Choice(["id", "en"]),
    default=None,
    help="Language of the output (default: ASPIRASI_DEFAULT_LANGUAGE).",
)


@click.group()
def audit() -> None:
    """The tamper-evident record of the message logs."""


@audit.command("verify")
@_LANG
def audit_verify(lang: str | None) -> None:
    """Check every message's hash chain and the daily roots; exit 1 at the first
    broken link."""
    settings = _settings()
    t = translator(lang or settings.default_language)
    app = _app(settings)
    try:
        report = app.log_chain.verify_sync()
    finally:
        app.deps.db.dispose()
    counts = {"chains": report.chains, "entries": report.entries, "roots": report.roots}
    if report.ok:
        click.echo(
            t(
                "OK: %(chains)s chains with %(entries)s log entries and %(roots)s daily roots hold.",
                **counts,
            )
        )
        return
    if report.first_broken is not None:
        broken = report.first_broken
        click.echo(
            t(
                "First broken link: ticket %(ticket)s, log entry %(entry)s: %(reason)s.",
                ticket=broken.ticket,
                entry=broken.entry_id,
                reason=_reasons(t)[broken.reason],
            ),
            err=True,
        )
        click.echo(
            t(
                "%(broken)s of %(chains)s chains are broken.",
                broken=report.broken_chains,
                chains=report.chains,
            ),
            err=True,
        )
    if report.root_problem is not None:
        day = report.root_problem.day.isoformat()
        text = (
            t("The daily root of %(day)s does not match the log.", day=day)
            if report.root_problem.reason == "root"
            else t("The daily root of %(day)s does not name the root of the day before.", day=day)
        )
        click.echo(text, err=True)
    raise SystemExit(1)


@audit.command("seal")
@_LANG
def audit_seal(lang: str | None) -> None:
    """Write the daily roots of the days that are over."""
    settings = _settings()
    t = translator(lang or settings.default_language)
    app = _app(settings)
    try:
        sealed = app.log_chain.seal_sync()
    finally:
        app.deps.db.dispose()
    click.echo(t("Daily roots written: %(count)s", count=sealed))
