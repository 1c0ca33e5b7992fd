"""Helpers of the open311 tests: the real web app (every installed plugin) on a
migrated SQLite database with the plugin's branch, agencies, a sub-category,
staff, two citizens — ``kota`` (the integrator's account) and ``ani`` (with
personal data the API must never show) — and messages in every situation."""

from __future__ import annotations

from typing import Any

import anyio
import attrs

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.model import Role
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Aspirasi, Context, StaffInput, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.settings import Settings
from aspirasi_core.storage import upgrade
from aspirasi_open311 import MIGRATIONS_DIR
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

PASSWORD = "a-long-test-password"
#: Personal data of the citizens: none of it may appear in any Open311 answer.
PERSONAL = {
    "ani": ("ani.rahmawati@example.org", "Ani Rahmawati", "6472045504910001"),
    "kota": ("it@samarinda.example.org", "Diskominfo Samarinda", "6472045504910002"),
}


def settings_for(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": "test-secret-key-" * 3,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "storage_path": str(tmp_path / "files"),
        "outbox_inline": False,
        "base_url": "https://aspirasi.example.org",
        "timezone": "Asia/Makassar",
    }
    values.update(overrides)
    return Settings(**values)


def build(database: Any, tmp_path: Any, **overrides: Any) -> tuple[Any, Aspirasi]:
    upgrade(database.engine, [MIGRATIONS_DIR])
    settings = settings_for(tmp_path, **overrides)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    core = bootstrap(settings, plugin_manager=pm, database=database)
    return create_app(aspirasi=core, run_outbox=False), core


@attrs.define
class World:
    core: Aspirasi
    client: Any = None
    ids: dict[str, int] = attrs.field(factory=dict)
    tickets: dict[str, str] = attrs.field(factory=dict)

    def ctx(self, username: str) -> Context:
        acc = self.core.deps.db.run_sync(
            lambda uow: uow.accounts.get(self.ids[username]), write=False
        )
        return Context(actor=acc.actor())

    def run(self, fn: Any) -> Any:
        return anyio.run(fn)

    def login(self, username: str) -> None:
        self.client.cookies.clear()
        assert self.client.get("/login").status_code == 200
        response = self.client.post(
            "/login",
            data={"login": username, "password": PASSWORD, "_csrf_token": self.csrf()},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    def csrf(self) -> str:
        token = self.client.cookies.get("aspirasi_csrf")
        if token is None:
            self.client.get("/")
            token = self.client.cookies.get("aspirasi_csrf")
        return token

    def issue_key(self, client_name: str = "Aplikasi Kota", rate_limit: str = "") -> str:
        """A key issued through the admin page, as the super admin does it."""
        self.login("root")
        answer = self.client.post(
            "/admin/open311/keys",
            data={
                "client_name": client_name,
                "account": "kota",
                "rate_limit": rate_limit,
                "_csrf_token": self.csrf(),
            },
        )
        assert answer.status_code == 201, answer.text
        self.client.cookies.clear()
        start = answer.text.index('<code id="new-key">') + len('<code id="new-key">')
        return answer.text[start : answer.text.index("</code>", start)]


async def _citizen(core: Aspirasi, username: str) -> int:
    email, name, nik = PERSONAL[username]
    acc = await core.accounts.register(
        Context(),
        RegisterInput(
            email=email,
            username=username,
            full_name=name,
            nik=nik,
            password=PASSWORD,
            password_confirm=PASSWORD,
        ),
    )
    assert acc is not None
    now = core.deps.clock.now()
    core.deps.db.run_sync(lambda uow: uow.accounts.update(acc.id, email_verified_at=now))
    return acc.id


def populate(world: World) -> None:
    """Agencies ``pupr``, ``dinkes``; sub-category ``jalan`` (Aduan); root, admin;
    citizens ``kota`` and ``ani``. Messages of ani: ``public`` (forwarded to pupr,
    its body naming her e-mail and phone), ``started`` (in progress), ``done``,
    ``confidential`` and ``anonymous`` (both forwarded), ``fresh`` (not yet
    forwarded), ``withdrawn`` and ``rejected``."""
    core = world.core

    async def go() -> None:
        root = core.admin.create_superadmin("root@example.org", "root", PASSWORD)
        world.ids["root"] = root.id
        rctx = Context(actor=root.actor())
        for code, name in (("pupr", "Dinas PUPR"), ("dinkes", "Dinas Kesehatan")):
            world.ids[code] = (
                await core.admin.create_entry(rctx, "agency", code=code, name=name)
            ).id
        for username, role, agency in (
            ("admin", Role.ADMIN, None),
            ("op_pupr", Role.OPERATOR, "pupr"),
        ):
            acc = await core.admin.create_staff(
                rctx,
                StaffInput(
                    email=f"{username.replace('_', '-')}@example.org",
                    username=username,
                    full_name=f"Name {username}",
                    password=PASSWORD,
                    role=role,
                    agency_id=world.ids[agency] if agency else None,
                ),
            )
            world.ids[username] = acc.id
        world.ids["kota"] = await _citizen(core, "kota")
        world.ids["ani"] = await _citizen(core, "ani")
        cats = {c.code: c.id for c in await core.admin.categories()}
        world.ids["aduan"] = cats["aduan"]
        sub = await core.admin.create_entry(
            rctx, "subcategory", category_id=cats["aduan"], code="jalan", name="Jalan rusak"
        )
        world.ids["jalan"] = sub.id
        cctx, actx = world.ctx("ani"), world.ctx("admin")
        octx = world.ctx("op_pupr")
        body = (
            "Jalan berlubang di depan rumah. Hubungi ani.rahmawati@example.org atau 081234567890."
        )
        for name, conf, anon in (
            ("public", False, False),
            ("started", False, False),
            ("done", False, False),
            ("confidential", True, False),
            ("anonymous", False, True),
            ("fresh", False, False),
            ("withdrawn", False, False),
            ("rejected", False, False),
        ):
            message = await core.messages.submit(
                cctx,
                SubmitInput(
                    subject=f"Laporan {name}", body=body, confidential=conf, anonymous=anon
                ),
            )
            world.ids[name] = message.id
            world.tickets[name] = message.ticket
            if name == "withdrawn":
                await core.messages.act(cctx, message.id, "withdraw")
            elif name == "rejected":
                await core.messages.act(actx, message.id, "reject", reason="Bukan kewenangan.")
            elif name != "fresh":
                await core.messages.act(
                    actx,
                    message.id,
                    "forward",
                    category_id=cats["aduan"],
                    subcategory_id=sub.id,
                    agency_id=world.ids["pupr"],
                )
            if name in ("started", "done"):
                await core.messages.act(octx, message.id, "start")
            if name == "done":
                await core.messages.act(octx, message.id, "reply", answer="Sudah diperbaiki.")

    anyio.run(go)
