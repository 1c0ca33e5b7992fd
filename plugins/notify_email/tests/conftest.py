"""Fixtures of the notify_email tests, on the core's public pytest plugin
``aspirasi_core.testing``; nothing is imported from the core's test folder.

* ``smtp`` — a real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, not yet
  started (``smtp.start()``), collecting what it receives; stopped afterwards.
* ``database``, ``pg_url``, ``sqlite_database``: from the pytest plugin
  ``aspirasi_core.testing`` (a migrated database on SQLite and on PostgreSQL).
* ``build_world`` — an async factory of a :class:`MailWorld`: the real use cases on
  ``database`` with a fake clock, the plugin under test, agencies, staff and two
  verified citizens.
"""

from __future__ import annotations

import re
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import anyio.to_thread
import attrs
import pytest
from aiosmtpd.controller import Controller

from aspirasi_core import hookimpl, testing
from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.events import VerificationRequested
from aspirasi_core.domain.model import Account, Role
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Aspirasi, Context, StaffInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.services.outbox import DispatchStats
from aspirasi_core.settings import Settings
from aspirasi_core.testing import FakeClock

SECRET = testing.SECRET  # the key of the database fixtures too
BASE_URL = "https://aspirasi.kaltimprov.go.id"
MAIL_FROM = "ASPIRASI ETAM <noreply@kaltimprov.go.id>"
NIKS = ["6472045504910001", "6471011203880002", "6472041708450003", "6472046612990004"]
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --------------------------------------------------------------------------- SMTP


@attrs.define
class Received:
    """One message as the server received it (parsed when first looked at)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    tls: bool
    login: str | None
    #: The client's address and port: mails with the same one came over one connection.
    peer: tuple[str, int] | None = None
    _parsed: EmailMessage | None = None

    @property
    def message(self) -> EmailMessage:
        if self._parsed is None:
            self._parsed = BytesParser(policy=policy.default).parsebytes(self.content)  # type: ignore[assignment]
        assert self._parsed is not None
        return self._parsed

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        return str(body).replace("\r\n", "\n")

    @property
    def html(self) -> str:
        body = self.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        return str(body).replace("\r\n", "\n")


class _Collector:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data  # what the test's authenticator returned
        self.sink.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=envelope.content,
                tls=session.ssl is not None,
                login=login if isinstance(login, str) else None,
                peer=tuple(session.peer) if session.peer else None,
            )
        )
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.sink.goodbyes += 1
        return "221 Bye"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """A real SMTP server on 127.0.0.1:``port`` that may be stopped and started
    again on the same port (a new aiosmtpd controller each time)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        #: ``QUIT`` commands received.
        self.goodbyes = 0
        self._controller: Controller | None = None

    def start(self, **smtp_options: Any) -> SmtpSink:
        assert self._controller is None
        self._controller = Controller(
            _Collector(self),
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="smtp.test",
            ready_timeout=5,
            **smtp_options,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        self.received.clear()

    def message_ids(self) -> Counter[str]:
        found = (
            re.search(rb"^Message-ID: *(.+?)\r?$", r.content, re.M | re.I) for r in self.received
        )
        return Counter(m.group(1).decode() if m else "" for m in found)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if r.rcpt_tos == (address,)]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    try:
        yield sink
    finally:
        sink.stop()


# --------------------------------------------------------------------------- the world


class TokenSpy:
    """Keeps verification tokens so the world can verify its citizens without mail."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    @hookimpl
    def aspirasi_after_event(self, event: Any) -> None:
        if isinstance(event, VerificationRequested):
            self.tokens.append(event.token)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "storage_path": str(tmp_path / "files"),
        "base_url": BASE_URL + "/",
        "mail_from": MAIL_FROM,
        "smtp_host": "127.0.0.1",
    }
    values.update(overrides)
    return Settings(**values)


@attrs.define
class MailWorld:
    app: Aspirasi
    clock: FakeClock
    plugins: tuple[object, ...]
    spy: TokenSpy
    accounts: dict[str, Account] = attrs.field(factory=dict)
    agencies: dict[str, int] = attrs.field(factory=dict)
    categories: dict[str, int] = attrs.field(factory=dict)
    subcategories: dict[str, int] = attrs.field(factory=dict)

    def ctx(self, name: str) -> Context:
        account = self.app.deps.db.run_sync(
            lambda uow: uow.accounts.get(self.accounts[name].id), write=False
        )
        return Context(actor=account.actor())

    async def citizen(self, username: str, nik: str) -> Account:
        password = f"{username}-long-password"
        account = await self.app.accounts.register(
            Context(),
            RegisterInput(
                email=f"{username}@example.org",
                username=username,
                full_name=f"Citizen {username.title()}",
                nik=nik,
                password=password,
                password_confirm=password,
            ),
        )
        assert account is not None
        account = await self.app.accounts.verify_email(Context(), self.spy.tokens[-1])
        self.accounts[username] = account
        return account

    async def deliver(self) -> DispatchStats:
        """Run the dispatcher (``run_once_sync``) until nothing is due, in a worker
        thread as the real dispatcher does; the summed statistics."""
        return await anyio.to_thread.run_sync(self.deliver_sync)

    def deliver_sync(self, *, max_rounds: int = 1000) -> DispatchStats:
        total = DispatchStats()
        for _ in range(max_rounds):
            stats = self.app.outbox.run_once_sync()
            if not stats.handled:
                return total
            total.delivered += stats.delivered
            total.retried += stats.retried
            total.dead += stats.dead
        raise AssertionError("the outbox never ran dry")

    def outbox_topics(self) -> Counter[str]:
        from sqlalchemy import text

        with self.app.deps.db.engine.connect() as conn:  # type: ignore[attr-defined]
            return Counter(
                dict(conn.execute(text("SELECT topic, count(*) FROM outbox GROUP BY topic")).all())
            )


async def _build_world(
    database: Any, tmp_path: Path, *plugins: object, **settings: Any
) -> MailWorld:
    clock = FakeClock()
    spy = TokenSpy()
    config = make_settings(tmp_path, **settings)
    pm = create_plugin_manager(config, load_entry_points=False, extra_plugins=[spy, *plugins])
    app = bootstrap(config, plugin_manager=pm, database=database, clock=clock)
    world = MailWorld(app=app, clock=clock, plugins=plugins, spy=spy)
    root = app.admin.create_superadmin("root@example.org", "root", "root-long-password")
    world.accounts["root"] = root
    rctx = Context(actor=root.actor())
    for code in ("pupr", "dinkes"):
        world.agencies[code] = (
            await app.admin.create_entry(rctx, "agency", code=code, name=f"Dinas {code}")
        ).id
    world.categories = {c.code: c.id for c in await app.admin.categories()}
    sub = await app.admin.create_entry(
        rctx,
        "subcategory",
        category_id=world.categories["aduan"],
        code="infrastruktur",
        name="Infrastruktur",
    )
    world.subcategories["infrastruktur"] = sub.id
    for username, role, agency in (
        ("admin", Role.ADMIN, None),
        ("op_pupr", Role.OPERATOR, "pupr"),
        ("op_pupr2", Role.OPERATOR, "pupr"),
        ("op_dinkes", Role.OPERATOR, "dinkes"),
    ):
        world.accounts[username] = await app.admin.create_staff(
            rctx,
            StaffInput(
                email=f"{username}@example.org",
                username=username,
                full_name=f"Staff {username}",
                password=f"{username}-long-password",
                role=role,
                agency_id=world.agencies[agency] if agency else None,
            ),
        )
    await world.citizen("ani", NIKS[0])
    await world.citizen("budi", NIKS[1])
    return world


BuildWorld = Callable[..., Awaitable[MailWorld]]


@pytest.fixture
def build_world(database: Any, tmp_path: Path) -> BuildWorld:
    """``await build_world(*plugins, **settings)`` on ``database`` (both backends)."""

    async def build(*plugins: object, **settings: Any) -> MailWorld:
        return await _build_world(database, tmp_path, *plugins, **settings)

    return build


@pytest.fixture
def build_world_on() -> Callable[..., Awaitable[MailWorld]]:
    """``await build_world_on(database, tmp_path, *plugins, **settings)``."""
    return _build_world
