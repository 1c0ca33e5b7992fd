"""Test helpers shared by the web tests."""

from __future__ import annotations

from typing import Any

import anyio
import attrs

from aspirasi_core.domain.model import Role
from aspirasi_core.services import Aspirasi, Context, StaffInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.settings import Settings

SECRET = "test-secret-key-" * 3
PASSWORDS = {
    "root": "root-long-password",
    "admin": "admin-long-password",
    "op_pupr": "op-pupr-long-password",
    "op_dinkes": "op-dinkes-long-password",
    "ani": "ani-long-password",
    "budi": "budi-long-password",
}
NIKS = {"ani": "6472045504910001", "budi": "6471011203880002"}


def make_settings(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        # No pause between verification links unless a test is about it (it
        # sets 60, the default): tests resend at once to reach the other limits.
        "verification_resend_seconds": 0,
        "storage_path": str(tmp_path / "files"),
        "outbox_inline": False,
    }
    values.update(overrides)
    return Settings(**values)


@attrs.define
class WebWorld:
    app: Any
    core: Aspirasi
    client: Any = None
    ids: dict[str, int] = attrs.field(factory=dict)

    def login(self, username: str) -> None:
        """Log the test client in through the HTML form (session cookie)."""
        page = self.client.get("/login")
        assert page.status_code == 200
        response = self.client.post(
            "/login",
            data={"login": username, "password": PASSWORDS[username], "_csrf_token": self.csrf()},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    def csrf(self) -> str:
        token = self.client.cookies.get("aspirasi_csrf")
        if token is None:
            self.client.get("/")
            token = self.client.cookies.get("aspirasi_csrf")
        return token

    def token(self, username: str) -> str:
        """An API bearer token."""
        response = self.client.post(
            "/api/v1/auth/login",
            json={"login": username, "password": PASSWORDS[username]},
            headers={"Authorization": "Bearer none"},
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]


def populate(world: WebWorld) -> None:
    core = world.core

    async def go() -> None:
        root = core.admin.create_superadmin("root@example.org", "root", PASSWORDS["root"])
        world.ids["root"] = root.id
        rctx = Context(actor=root.actor())
        for code in ("pupr", "dinkes"):
            world.ids[f"agency_{code}"] = (
                await core.admin.create_entry(rctx, "agency", code=code, name=f"Dinas {code}")
            ).id
        for username, role, agency in (
            ("admin", Role.ADMIN, None),
            ("op_pupr", Role.OPERATOR, "pupr"),
            ("op_dinkes", Role.OPERATOR, "dinkes"),
        ):
            acc = await core.admin.create_staff(
                rctx,
                StaffInput(
                    email=f"{username.replace('_', '-')}@example.org",
                    username=username,
                    full_name=username,
                    password=PASSWORDS[username],
                    role=role,
                    agency_id=world.ids[f"agency_{agency}"] if agency else None,
                ),
            )
            world.ids[username] = acc.id
        for username in ("ani", "budi"):
            acc = await core.accounts.register(
                Context(),
                RegisterInput(
                    email=f"{username}@example.org",
                    username=username,
                    full_name=username.title(),
                    nik=NIKS[username],
                    password=PASSWORDS[username],
                    password_confirm=PASSWORDS[username],
                ),
            )
            assert acc is not None
            now = core.deps.clock.now()
            core.deps.db.run_sync(
                lambda uow, a=acc.id, n=now: uow.accounts.update(a, email_verified_at=n)
            )
            world.ids[username] = acc.id
        cats = {c.code: c.id for c in await core.admin.categories()}
        world.ids["cat_aduan"] = cats["aduan"]
        world.ids["cat_aspirasi"] = cats["aspirasi"]
        world.ids["sub_infra"] = (
            await core.admin.create_entry(
                rctx,
                "subcategory",
                category_id=cats["aduan"],
                code="infrastruktur",
                name="Infrastruktur",
            )
        ).id

    anyio.run(go)
