"""Structured logging for the core, the web app and the plugins (structlog).

Call :func:`configure_logging` once at start-up (the CLI and the web app factory
do). Every line then carries an ISO-8601 UTC timestamp, its level, whatever the
web layer bound with ``structlog.contextvars.bind_contextvars`` (the request id),
and is written as JSON (``ASPIRASI_LOG_JSON=1``) or as readable text.

Secrets never reach a line: :func:`redact_sensitive` replaces the values of
sensitive keys (:data:`SENSITIVE_KEYS`, at any depth) with ``"[redacted]"``,
masks 16-digit runs that may be a NIK (``6472********0001``) and hides
``token=`` values in links. Log lines from the standard library's ``logging``
(uvicorn, Alembic) go through the same processors.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import structlog

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

    from .settings import Settings

REDACTED = "[redacted]"

#: Keys whose values are replaced wherever they appear (compared lower-cased, ``-`` read as ``_``).
SENSITIVE_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "password_confirm",
        "current_password",
        "new_password",
        "token",
        "access_token",
        "refresh_token",
        "csrf_token",
        "secret",
        "secret_key",
        "nik",
        "authorization",
        "cookie",
        "set_cookie",
        "smtp_password",
    }
)

# A standalone run of exactly 16 ASCII digits: the shape of a NIK. Any such run
# is masked, valid NIK or not — a mistyped NIK is still personal data.
_NIK_RUN = re.compile(r"(?<![0-9])([0-9]{4})[0-9]{8}([0-9]{4})(?![0-9])")
# Secrets carried in links, e.g. the verification and reset mails' ``?token=``.
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:[a-z_]*token|password|secret)=)[^&#\s\"'<>]+",
)
_MAX_DEPTH = 32
# Keys structlog's ProcessorFormatter adds for itself and removes before rendering.
_PROCESSOR_META = frozenset({"_record", "_from_structlog"})

LEVELS: Mapping[str, int] = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}


def mask_text(text: str) -> str:
    """Mask NIK-shaped digit runs and ``token=`` query values in ``text``."""
    text = _NIK_RUN.sub(r"\1********\2", text)
    return _SECRET_QUERY.sub(r"\1" + REDACTED, text)


def _is_sensitive(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "_") in SENSITIVE_KEYS


def redact(value: Any, _depth: int = 0) -> Any:
    """Return ``value`` with sensitive keys redacted and NIKs masked, at any depth.

    Containers are copied, never changed in place. Objects of other types are
    kept unless their ``repr`` shows a NIK, in which case the masked ``repr``
    replaces them.
    """
    if _depth > _MAX_DEPTH:
        return "[too deep]"
    if isinstance(value, str):
        return mask_text(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        text = str(value)
        masked = mask_text(text)
        return value if masked == text else masked
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _is_sensitive(key) else redact(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [redact(item, _depth + 1) for item in value]
        return items if isinstance(value, list) else type(value)(items)
    if isinstance(value, bytes | bytearray):
        return value
    text = repr(value)
    masked = mask_text(text)
    return value if masked == text else masked


def redact_sensitive(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: :func:`redact` applied to the whole event."""
    return {
        key: value if key in _PROCESSOR_META else REDACTED if _is_sensitive(key) else redact(value)
        for key, value in event_dict.items()
    }


def parse_level(name: str) -> int:
    """The ``logging`` level number of ``name``; raises ``ValueError`` naming the variable."""
    try:
        return LEVELS[name.strip().upper()]
    except KeyError:
        raise ValueError(
            f"ASPIRASI_LOG_LEVEL: {name!r} is not one of {', '.join(LEVELS)}"
        ) from None


def shared_processors() -> list[Processor]:
    """The processors every line goes through before it is rendered."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Exceptions are rendered to text before redaction so that the text is
        # masked too.
        structlog.processors.format_exc_info,
        redact_sensitive,
    ]


class _AspirasiHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the root handler this module installs, so reconfiguring replaces it."""


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library's root logger from ``settings``.

    ``settings.log_level`` filters, ``settings.log_json`` chooses JSON lines over
    text. Lines go to ``stream`` (default: standard error, which keeps standard
    output free for command output). Safe to call again: the previous
    configuration is replaced.
    """
    level = parse_level(settings.log_level)
    out = sys.stderr if stream is None else stream
    renderer: Processor
    if settings.log_json:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        isatty = getattr(out, "isatty", None)
        renderer = structlog.dev.ConsoleRenderer(colors=bool(isatty and isatty()))

    structlog.configure(
        processors=[*shared_processors(), renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        context_class=dict,
        logger_factory=structlog.WriteLoggerFactory(file=out),
        # Module-level loggers bind lazily, so a later configure_logging() (tests,
        # the CLI switching to JSON) still reaches them.
        cache_logger_on_first_use=False,
    )

    handler = _AspirasiHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared_processors()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _AspirasiHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
