"""What ``aspirasi serve`` runs the app with: uvicorn's httptools protocol plus the
two timeouts uvicorn does not have.

uvicorn closes a keep-alive connection that stays idle (``timeout_keep_alive``)
and refuses requests past ``limit_concurrency`` with 503, but it waits forever
for a request's headers and for its body: a client that opens a connection and
sends nothing, half its headers, or 10 bytes of a 1,000-byte body holds a slot
(and counts against ``limit_concurrency``) for as long as it likes.
:class:`LimitedHttpToolsProtocol` closes such a connection:

* when a request's headers are not complete ``ASPIRASI_SERVE_HEADER_TIMEOUT_SECONDS``
  after the connection opened or the request began (also for a connection that
  sends nothing at all);
* when a request's body stops arriving for ``ASPIRASI_SERVE_BODY_TIMEOUT_SECONDS``
  while the app waits for it (a slow but steady upload goes on; time the app
  spends not reading does not count).

A reverse proxy in front (nginx: ``client_header_timeout``, ``client_body_timeout``)
is the first line; these hold for a worker reached without one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from aspirasi_core.settings import Settings

#: ``http=`` of uvicorn's config (an import string: every worker process loads it).
PROTOCOL = "aspirasi_web.server:LimitedHttpToolsProtocol"

_timeouts: tuple[float, float] | None = None


def _configured_timeouts() -> tuple[float, float]:
    """(header, body) timeouts in seconds from the environment, read once per process."""
    global _timeouts
    if _timeouts is None:
        settings = Settings.from_env()
        _timeouts = (
            float(settings.serve_header_timeout_seconds),
            float(settings.serve_body_timeout_seconds),
        )
    return _timeouts


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header and a body read timeout (see the
    module docstring). Only the parser's callbacks and asyncio's protocol methods
    are extended; each calls uvicorn's own first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout, self.body_timeout = _configured_timeouts()
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ timers
    def _arm_header_timer(self) -> None:
        if self._header_timer is None and self.header_timeout > 0:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _arm_body_timer(self) -> None:
        self._cancel_body_timer()
        if self.body_timeout > 0:
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_header_timer()  # a request is being answered; the next one waits
            return
        self.logger.info("Closing a connection whose request headers did not arrive in time.")
        self.transport.close()

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self.flow.read_paused:  # the app is not reading: its time does not count
            self._arm_body_timer()
            return
        self.logger.info("Closing a connection whose request body stopped arriving.")
        self.transport.close()

    # ------------------------------------------------------------------ protocol
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()
        self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm_body_timer()

    def on_message_complete(self) -> None:
        self._cancel_body_timer()
        super().on_message_complete()
