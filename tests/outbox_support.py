"""Real outbox workers (``aspirasi outbox run`` processes) against a real SMTP
server that can hold a conversation at a chosen point, for the crash tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from tests.deployment import deployment_env

from aspirasi_core.bootstrap import bootstrap, migrate
from aspirasi_core.services import Aspirasi, Context
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.settings import Settings

BIN = Path(sys.executable).parent
_MESSAGE_ID = re.compile(rb"^Message-ID: *(.+?)\r?$", re.M | re.I)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HoldingSmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every accepted mail's
    Message-ID and can stop at the n-th ``DATA`` (after the mail is complete,
    before the server's answer), ``QUIT`` or ``RCPT``: :meth:`hold` arms it,
    ``reached`` is set when a conversation gets there, and the conversation waits
    until :meth:`release` (an ``on_reach`` callback runs first, in the server's
    thread). A mail counts as accepted when its ``DATA`` is answered 250, as a
    real server would deliver it."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.accepted: list[str] = []
        self.counts: Counter[str] = Counter()
        self.reached = threading.Event()
        self._released = threading.Event()
        self._hold: tuple[str, int] | None = None
        self._on_reach: Any = None
        self._lock = threading.Lock()
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="smtp.test"
        )

    def hold(self, command: str, nth: int, on_reach: Any = None) -> None:
        """Stop at the ``nth`` (counted from now) ``command`` (DATA, QUIT, RCPT)."""
        with self._lock:
            self._hold = (command, self.counts[command] + nth)
            self._on_reach = on_reach
            self.reached.clear()
            self._released.clear()

    def release(self) -> None:
        self._released.set()

    async def _maybe_hold(self, command: str) -> None:
        with self._lock:
            self.counts[command] += 1
            hit = self._hold == (command, self.counts[command])
            if hit:
                self._hold = None
        if not hit:
            return
        if self._on_reach is not None:
            self._on_reach()
        self.reached.set()
        await asyncio.get_running_loop().run_in_executor(None, self._released.wait, 60)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await self._maybe_hold("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await self._maybe_hold("DATA")
        found = _MESSAGE_ID.search(envelope.content)
        with self._lock:
            self.accepted.append(found.group(1).decode() if found else "")
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        await self._maybe_hold("QUIT")
        return "221 Bye"

    def __enter__(self) -> HoldingSmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.controller.stop()


def mail_deployment_env(
    database_url: str, tmp_path: Path, smtp_port: int, **extra: str
) -> dict[str, str]:
    """A test deployment that mails through the SMTP server on ``smtp_port``, with
    no plugin but notify_email (the worker processes start sooner)."""
    return deployment_env(
        database_url,
        tmp_path / "files",
        ASPIRASI_PLUGINS="notify_email",
        ASPIRASI_SMTP_HOST="127.0.0.1",
        ASPIRASI_SMTP_PORT=str(smtp_port),
        ASPIRASI_MAIL_FROM="ASPIRASI ETAM <noreply@kaltimprov.go.id>",
        **extra,
    )


def queue_mails(env: Mapping[str, str], count: int, *, app: Aspirasi | None = None) -> Aspirasi:
    """Migrate, then register ``count`` citizens (one verification mail each);
    with ``app`` (what an earlier call returned), register ``count`` more through
    it. Returns the core (dispose its database when done)."""
    if app is None:
        settings = Settings.from_env(env)
        migrate(settings)
        app = bootstrap(settings)
    first = app.deps.db.run_sync(lambda uow: len(uow.outbox.list(limit=100_000)), write=False)

    async def register() -> None:
        for n in range(first, first + count):
            await app.accounts.register(
                Context(),
                RegisterInput(
                    email=f"warga{n}@example.org",
                    username=f"warga{n}",
                    full_name=f"Warga {n}",
                    nik=f"6472045504910{n + 1:03d}",
                    password="warga-long-password",
                    password_confirm="warga-long-password",
                ),
            )

    asyncio.run(register())
    return app


def outbox_counts(app: Aspirasi) -> Counter[str]:
    items = app.deps.db.run_sync(lambda uow: uow.outbox.list(limit=100_000), write=False)
    return Counter(item.status for item in items)


class OutboxWorker:
    """``aspirasi outbox run`` in a process of its own."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "aspirasi"), "outbox", "run", "--poll", "0.2"],
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """kill -9."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
