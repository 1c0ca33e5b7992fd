"""The workflow's words on the pages: log lines and stage waits, from the core's
one vocabulary (:mod:`aspirasi_core.domain.vocabulary`), translated.

Templates call ``{{ log_text(entry) }}`` (naming the agency from the page's
``agency_names``) and ``{{ stage_wait(message) }}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jinja2

from aspirasi_core.domain.model import LogEntry, Message, Status
from aspirasi_core.domain.vocabulary import STAGE_WAITS, log_line

from .context import core
from .i18n import Translator


def waited(t: Translator, since: datetime, now: datetime) -> str:
    """How long since ``since``: "3 days 4 hours", "5 hours", "12 minutes"."""
    seconds = max(0, int((now - since).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(t.ngettext("%(num)s day", "%(num)s days", days))
    if hours:
        parts.append(t.ngettext("%(num)s hour", "%(num)s hours", hours))
    if not days and not hours:
        parts.append(t.ngettext("%(num)s minute", "%(num)s minutes", minutes))
    return " ".join(parts)


def log_text(t: Translator, entry: LogEntry, agency_names: Mapping[int, str]) -> str:
    """What a log entry says in the reader's language: "Diteruskan ke Dinas PUPR",
    "Pembaruan". An agency the page does not name is left out."""
    name = agency_names.get(entry.agency_id) if entry.agency_id is not None else None
    line = log_line(entry, name_agency=name is not None)
    return t(line.text, agency=name or "")


def stage_wait(t: Translator, message: Message, now: datetime) -> str:
    """How long an open message has been in its stage ("sedang ditangani 2 hari"),
    '' for a closed one."""
    text = STAGE_WAITS.get(Status(message.status))
    if text is None:
        return ""
    since = message.stage_started_at or message.updated_at or message.created_at
    return t(text, time=waited(t, since, now))


def install(env: jinja2.Environment) -> None:
    """Add ``log_text`` and ``stage_wait`` to the templates' globals."""

    @jinja2.pass_context
    def _log_text(ctx: Any, entry: LogEntry) -> str:
        names = ctx.get("agency_names") or {}
        return log_text(ctx["t"], entry, names)

    @jinja2.pass_context
    def _stage_wait(ctx: Any, message: Message) -> str:
        return stage_wait(ctx["t"], message, core(ctx["request"]).deps.clock.now())

    env.globals["log_text"] = _log_text
    env.globals["stage_wait"] = _stage_wait


__all__ = ["install", "log_text", "stage_wait", "waited"]
