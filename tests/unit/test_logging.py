"""Logging: format, level filter, context, and that no secret or NIK leaks."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import pytest
import structlog

from aspirasi_core.logging import (
    REDACTED,
    SENSITIVE_KEYS,
    configure_logging,
    mask_text,
    redact,
)
from aspirasi_core.settings import Settings

NIK = "6472045504910001"
MASKED_NIK = "6472********0001"


@pytest.fixture
def configure():
    """configure(**settings) -> stream; restores structlog and the root logger after."""
    root = logging.getLogger()
    level = root.level

    def _configure(**settings) -> io.StringIO:
        stream = io.StringIO()
        configure_logging(Settings(**settings), stream=stream)
        return stream

    yield _configure
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    for handler in [h for h in root.handlers if type(h).__name__ == "_AspirasiHandler"]:
        root.removeHandler(handler)
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_an_iso_utc_timestamp_and_the_level(configure):
    stream = configure(log_json=True)
    structlog.get_logger("t").info("message_forwarded", message_id=12)
    [line] = json_lines(stream)
    assert line["event"] == "message_forwarded"
    assert line["message_id"] == 12
    assert line["level"] == "info"
    stamp = datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() is not None
    assert stamp.utcoffset().total_seconds() == 0


def test_console_renderer_without_json(configure):
    stream = configure(log_json=False)
    structlog.get_logger("t").warning("disk_almost_full", percent=93)
    text = stream.getvalue()
    assert "disk_almost_full" in text
    assert "percent=93" in text
    assert "\x1b[" not in text  # no colours into something that is not a terminal
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_level_filtering(configure):
    stream = configure(log_json=True, log_level="WARNING")
    log = structlog.get_logger("t")
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    assert [line["event"] for line in json_lines(stream)] == ["w", "e"]


def test_a_bad_level_names_the_variable(configure):
    with pytest.raises(ValueError, match="ASPIRASI_LOG_LEVEL"):
        configure(log_level="LOUD")


def test_context_bound_by_the_web_layer_is_on_every_line(configure):
    stream = configure(log_json=True)
    structlog.contextvars.bind_contextvars(request_id="req-7f3a")
    structlog.get_logger("a").info("one")
    structlog.get_logger("b").info("two")
    logging.getLogger("uvicorn.error").warning("three")
    structlog.contextvars.clear_contextvars()
    structlog.get_logger("c").info("four")
    lines = json_lines(stream)
    assert [line.get("request_id") for line in lines] == ["req-7f3a"] * 3 + [None]


@pytest.mark.parametrize("key", sorted(SENSITIVE_KEYS))
def test_sensitive_keys_are_redacted_at_the_top_level(configure, key):
    stream = configure(log_json=True)
    structlog.get_logger("t").info("login_attempt", **{key: "s3cr3t-value"})
    [line] = json_lines(stream)
    assert line[key] == REDACTED
    assert "s3cr3t-value" not in stream.getvalue()


def test_sensitive_keys_are_redacted_at_any_depth_and_any_case(configure):
    stream = configure(log_json=True)
    payload = {
        "form": {"username": "budi", "Password": "pw-1", "password_confirm": "pw-1"},
        "headers": [{"Authorization": "Bearer abc.def"}, {"Cookie": "session=xyz"}],
        "deep": {"a": {"b": {"c": ({"smtp_password": "smtp-pw"},)}}},
        "current_password": "old-pw",
    }
    structlog.get_logger("t").info("request", payload=payload)
    text = stream.getvalue()
    for leaked in ("pw-1", "abc.def", "session=xyz", "smtp-pw", "old-pw"):
        assert leaked not in text
    [line] = json_lines(stream)
    assert line["payload"]["form"] == {
        "username": "budi",
        "Password": REDACTED,
        "password_confirm": REDACTED,
    }
    assert line["payload"]["headers"] == [{"Authorization": REDACTED}, {"Cookie": REDACTED}]
    assert line["payload"]["deep"]["a"]["b"]["c"] == [{"smtp_password": REDACTED}]


def test_niks_in_strings_are_masked_everywhere(configure):
    stream = configure(log_json=True)
    structlog.get_logger("t").info(
        f"tracking for {NIK}",
        note=f"citizen NIK {NIK}, phone 081234567890",
        items=[NIK, {"x": f"id:{NIK};"}],
        as_number=int(NIK),
    )
    text = stream.getvalue()
    assert NIK not in text
    [line] = json_lines(stream)
    assert line["event"] == f"tracking for {MASKED_NIK}"
    assert line["note"] == f"citizen NIK {MASKED_NIK}, phone 081234567890"
    assert line["items"] == [MASKED_NIK, {"x": f"id:{MASKED_NIK};"}]
    assert line["as_number"] == MASKED_NIK


def test_digit_runs_that_are_not_sixteen_long_are_kept():
    assert mask_text("ticket 20260105000123") == "ticket 20260105000123"  # 14 digits
    assert mask_text("12345678901234567") == "12345678901234567"  # 17 digits
    assert mask_text("id 42, at 1736064000") == "id 42, at 1736064000"
    assert redact(1736064000123) == 1736064000123
    assert redact(10**15 - 1) == 10**15 - 1  # 15 digits


def test_the_shortest_values_that_can_hold_a_secret_are_masked():
    assert mask_text(NIK) == MASKED_NIK  # exactly 16 characters
    assert redact(10**15) == "1000********0000"  # the smallest 16-digit number
    assert redact(-int(NIK)) == f"-{MASKED_NIK}"
    assert mask_text("?token=ab") == f"?token={REDACTED}"  # short, with an "="


def test_tokens_in_links_are_hidden(configure):
    stream = configure(log_json=True)
    link = "https://aspirasi.example.go.id/verify-email?token=Zx81-kq_0&lang=id"
    structlog.get_logger("t").info("mail_queued", link=link)
    [line] = json_lines(stream)
    assert line["link"] == f"https://aspirasi.example.go.id/verify-email?token={REDACTED}&lang=id"


def test_exceptions_are_masked_too(configure):
    stream = configure(log_json=True)
    try:
        raise ValueError(f"bad nik {NIK}")
    except ValueError:
        structlog.get_logger("t").exception("lookup_failed")
    [line] = json_lines(stream)
    assert "ValueError" in line["exception"]
    assert NIK not in stream.getvalue()
    assert MASKED_NIK in line["exception"]


def test_standard_library_logs_go_through_the_same_redaction(configure):
    stream = configure(log_json=True)
    logging.getLogger("uvicorn.access").warning("GET /tracking?nik=%s", NIK)
    [line] = json_lines(stream)
    assert line["event"] == f"GET /tracking?nik={MASKED_NIK}"
    assert line["logger"] == "uvicorn.access"
    assert line["level"] == "warning"


def test_objects_whose_repr_shows_a_nik_are_masked():
    class Leaky:
        def __repr__(self) -> str:
            return f"Leaky(nik={NIK})"

    class Harmless:
        pass

    harmless = Harmless()
    assert redact(Leaky()) == f"Leaky(nik={MASKED_NIK})"
    assert redact(harmless) is harmless


def test_redact_does_not_change_its_input():
    data = {"password": "pw", "list": [NIK]}
    redact(data)
    assert data == {"password": "pw", "list": [NIK]}


def test_configuring_twice_replaces_the_handler(configure):
    first = configure(log_json=True)
    second = configure(log_json=True)
    logging.getLogger("x").warning("once")
    assert first.getvalue() == ""
    assert len(json_lines(second)) == 1
