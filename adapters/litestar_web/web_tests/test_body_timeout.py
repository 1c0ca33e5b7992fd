"""The body read timeout (:mod:`aspirasi_web.body_timeout`), in-process: a body
that falls silent is answered 408 with ``Connection: close``; time the app spends
between reads does not count; what follows the body is not bounded. The ASGI
``receive`` here either has the next part at once or never sends it, so no outcome
depends on how fast the machine is. The live server's side is in
``test_server_limits_live.py``."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from litestar import Litestar, Request, post
from litestar.middleware import DefineMiddleware

from aspirasi_web.body_timeout import BodyTimeoutMiddleware
from aspirasi_web.errors import EXCEPTION_HANDLERS

pytestmark = pytest.mark.anyio

#: Generous: only a middleware that never gives up runs into it.
SAFETY = 30.0


@post("/echo")
async def echo(request: Request[Any, Any, Any]) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        await anyio.sleep(0.1)  # the app's own work between reads
    return {"size": size}


def _app(seconds: float) -> Litestar:
    return Litestar(
        route_handlers=[echo],
        middleware=[DefineMiddleware(BodyTimeoutMiddleware, seconds=seconds)],
        exception_handlers=EXCEPTION_HANDLERS,
    )


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), (b"content-type", b"application/octet-stream")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def _call(app: Litestar, parts: list[bytes], *, then_silence: bool) -> list[dict[str, Any]]:
    """Run one request whose body is ``parts`` (each there at once), followed by
    silence (the client stops sending) or by the end of the body."""
    queue = list(parts)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if queue:
            body = queue.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(queue) or then_silence}
        await anyio.Event().wait()  # nothing ever comes
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with anyio.fail_after(SAFETY):
        await app(_scope(), receive, send)  # type: ignore[arg-type]
    return sent


def _answer(sent: list[dict[str, Any]]) -> tuple[int, dict[bytes, bytes], Any]:
    start = sent[0]
    headers = {k.lower(): v for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], headers, json.loads(body)


async def test_a_body_that_falls_silent_is_answered_408_and_closed() -> None:
    sent = await _call(_app(0.2), [b"first part"], then_silence=True)
    status, headers, body = _answer(sent)
    assert status == 408
    assert headers[b"content-type"].startswith(b"application/problem+json")
    assert headers[b"connection"] == b"close"
    assert body["code"] == "body_timeout"
    assert body["detail"] == "The request arrived too slowly. Please try again."


async def test_time_the_app_spends_between_reads_does_not_count() -> None:
    # Ten parts, 0.1 s of the app's work after each: a second in all, five times
    # the timeout; every part is there when the app asks for it.
    sent = await _call(_app(0.2), [b"x" * 10] * 10, then_silence=False)
    status, headers, body = _answer(sent)
    assert (status, body) == (201, {"size": 100})
    assert b"connection" not in headers


async def test_no_limit_when_turned_off() -> None:
    app = _app(0)
    with pytest.raises(TimeoutError):  # the request waits for its body as long as it takes
        with anyio.fail_after(0.5):
            await app(_scope(), _silent, _discard)  # type: ignore[arg-type]


async def _silent() -> dict[str, Any]:
    await anyio.Event().wait()
    raise AssertionError("unreachable")


async def _discard(message: dict[str, Any]) -> None:
    pass
