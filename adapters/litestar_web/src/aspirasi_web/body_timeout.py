"""A request body that stops arriving is answered 408: a plain ASGI middleware.

uvicorn waits as long as a client likes for the rest of a request's body, holding
the worker's slot (and a place under ``limit_concurrency``) meanwhile. This
middleware bounds each wait of the app for the next part of the body by
``ASPIRASI_SERVE_BODY_TIMEOUT_SECONDS``: a slow but steady upload goes on, time the
app spends not reading does not count, and a body that falls silent for that long
ends the request:

* with 408 (problem+json for the API, the error page for a browser) and
  ``Connection: close`` when nothing of the answer was sent yet;
* by closing the connection when an answer had already started.

It works with any ASGI server; a reverse proxy in front keeps its own limits (nginx
``client_body_timeout``), and slow *headers* are the proxy's to bound (see
docs/deployment.md): uvicorn has no public option for them.
"""

from __future__ import annotations

import anyio
import structlog
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

log = structlog.get_logger("aspirasi.web")


class RequestBodyTimeout(HTTPException):
    """The request's body stopped arriving for longer than the body timeout (408)."""

    status_code = 408


class BodyTimeoutMiddleware:
    """See the module docstring. ``seconds`` ≤ 0 turns the limit off.

    Configure with ``DefineMiddleware(BodyTimeoutMiddleware, seconds=…)``; it belongs
    first in the app's middleware list, so the request's log line has the 408.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        body_done = False
        timed_out = False
        started = False

        async def timed_receive() -> ReceiveMessage:
            nonlocal body_done, timed_out
            if body_done:  # what follows the body (a disconnect) is not bounded
                return await receive()
            try:
                with anyio.fail_after(self.seconds):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                log.info("request_body_timeout", seconds=self.seconds)
                raise RequestBodyTimeout(detail="body_timeout") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if timed_out:  # the rest of the body is not read: no keep-alive
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"
                    ]
                    message["headers"] = [*headers, (b"connection", b"close")]
            await send(message)

        try:
            await self.app(scope, timed_receive, closing_send)
        except RequestBodyTimeout:
            if not started:
                raise
            # An answer had begun: returning unfinished makes the server close it.
