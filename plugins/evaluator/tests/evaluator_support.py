"""Helpers of the evaluator tests (imported by conftest.py and the test modules).

* ``migrate_evaluator(db)`` — adds the plugin's branch to a migrated database
  (the shared ``database``/``sqlite_database`` fixtures migrate the core only).
* ``world`` — the real web app (every installed plugin) on SQLite with the
  plugin's tables, two agencies, staff, evaluators, a citizen and messages,
  some of them overdue; ``World`` helps to log in and to read queued mails.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import attrs
from sqlalchemy import update

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.model import Role
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import Aspirasi, Context, StaffInput, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.services.admin import AccountChanges
from aspirasi_core.settings import Settings
from aspirasi_core.storage import upgrade
from aspirasi_core.storage.tables import messages
from aspirasi_evaluator import MIGRATIONS_DIR
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

PASSWORD = "a-long-test-password"
NIK = "6472045504910001"
EVALUATE = "evaluator.evaluate"


def migrate_evaluator(db: Any) -> None:
    upgrade(db.engine, [MIGRATIONS_DIR])


def settings_for(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": "test-secret-key-" * 3,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "storage_path": str(tmp_path / "files"),
        "outbox_inline": False,
        "base_url": "https://aspirasi.example.org",
    }
    values.update(overrides)
    return Settings(**values)


def build(database: Any, tmp_path: Any, **overrides: Any) -> tuple[Any, Aspirasi]:
    settings = settings_for(tmp_path, **overrides)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    core = bootstrap(settings, plugin_manager=pm, database=database)
    return create_app(aspirasi=core, run_outbox=False), core


@attrs.define
class World:
    core: Aspirasi
    client: Any = None
    ids: dict[str, int] = attrs.field(factory=dict)

    # ------------------------------------------------------------------ HTTP
    def token(self, username: str) -> str:
        """A fresh API token, issued without HTTP (no log-in rate limit, no argon2)."""
        account_id = self.ids[username]
        result = anyio.run(lambda: self.core.accounts.issue_token(account_id, TokenPurpose.API))
        return result.token

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def get(self, path: str, username: str | None = None, **kwargs: Any) -> Any:
        """GET as ``username`` (bearer token) or anonymously (None)."""
        self.client.cookies.clear()
        headers = self.bearer(username) if username else {}
        return self.client.get(path, headers=headers, follow_redirects=False, **kwargs)

    def api(self, method: str, path: str, username: str | None, **kwargs: Any) -> Any:
        self.client.cookies.clear()
        headers = self.bearer(username) if username else {}
        return self.client.request(method, path, headers=headers, follow_redirects=False, **kwargs)

    def login(self, username: str) -> None:
        """A browser session (cookie), as the HTML forms use it."""
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

    # ------------------------------------------------------------------ data
    def ctx(self, username: str) -> Context:
        acc = self.core.deps.db.run_sync(
            lambda uow: uow.accounts.get(self.ids[username]), write=False
        )
        return Context(actor=acc.actor())

    def make_overdue(self, *names: str, days: int = 1) -> None:
        due = self.core.deps.clock.now() - timedelta(days=days)
        ids = [self.ids[n] for n in names]
        self.core.deps.db.run_sync(
            lambda uow: uow.execute(
                update(messages).where(messages.c.id.in_(ids)).values(due_at=due)
            )
        )

    def mails(self) -> list[dict[str, Any]]:
        """The e-mails queued in the outbox, rendered as they will be delivered
        (rendered payloads: ``to``, ``kind``, ``subject``, ``text``...), oldest first."""
        items = anyio.run(lambda: self.core.outbox.list(status="pending", limit=1000))
        mail = self.core.plugin_manager.get_plugin("notify_email")
        return [mail.mail_of(i.payload).to_payload() for i in items if i.topic == "email"]


def populate(world: World) -> None:
    """Agencies pupr and dinkes; root; admin; two operators of pupr, one of
    dinkes; evaluators: ``eval_op`` (an operator of dinkes) and ``eval_admin``
    (an admin); citizen ``ani``; messages ``p1``..``p3`` forwarded to pupr,
    ``d1`` to dinkes, ``fresh`` not forwarded. ``p1``, ``p2`` and ``d1`` are
    overdue."""
    core = world.core

    async def go() -> None:
        root = core.admin.create_superadmin("root@example.org", "root", PASSWORD)
        world.ids["root"] = root.id
        rctx = Context(actor=root.actor())
        for code in ("pupr", "dinkes"):
            world.ids[code] = (
                await core.admin.create_entry(rctx, "agency", code=code, name=f"Dinas {code}")
            ).id
        for username, role, agency in (
            ("admin", Role.ADMIN, None),
            ("op_pupr", Role.OPERATOR, "pupr"),
            ("op_pupr2", Role.OPERATOR, "pupr"),
            ("op_dinkes", Role.OPERATOR, "dinkes"),
            ("eval_op", Role.OPERATOR, "dinkes"),
            ("eval_admin", Role.ADMIN, None),
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
        for username in ("eval_op", "eval_admin"):
            await core.admin.update_account(
                rctx, world.ids[username], AccountChanges(permissions=(EVALUATE,))
            )
        citizen = await core.accounts.register(
            Context(),
            RegisterInput(
                email="ani@example.org",
                username="ani",
                full_name="Ani",
                nik=NIK,
                password=PASSWORD,
                password_confirm=PASSWORD,
            ),
        )
        assert citizen is not None
        now = core.deps.clock.now()
        core.deps.db.run_sync(lambda uow: uow.accounts.update(citizen.id, email_verified_at=now))
        world.ids["ani"] = citizen.id
        cats = {c.code: c.id for c in await core.admin.categories()}
        world.ids["aduan"] = cats["aduan"]
        sub = await core.admin.create_entry(
            rctx, "subcategory", category_id=cats["aduan"], code="jalan", name="Jalan"
        )
        world.ids["jalan"] = sub.id
        cctx = world.ctx("ani")
        actx = world.ctx("admin")
        for name, agency in (
            ("p1", "pupr"),
            ("p2", "pupr"),
            ("p3", "pupr"),
            ("d1", "dinkes"),
            ("fresh", None),
        ):
            message = await core.messages.submit(
                cctx, SubmitInput(subject=f"Subject {name}", body="Isi pesan.")
            )
            world.ids[name] = message.id
            if agency:
                await core.messages.act(
                    actx,
                    message.id,
                    "forward",
                    category_id=cats["aduan"],
                    subcategory_id=sub.id,
                    agency_id=world.ids[agency],
                )

    anyio.run(go)
    world.make_overdue("p1", "p2", "d1")
