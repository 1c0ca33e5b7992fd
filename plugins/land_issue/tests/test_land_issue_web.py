"""The monitor's page and API in the real web app (SQLite, every installed plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import attrs
import pytest
from litestar.testing import TestClient

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.model import Role
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Aspirasi, Context, ForwardInput, StaffInput, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.services.admin import AccountChanges
from aspirasi_core.settings import Settings
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

PASSWORD = "a-long-test-password"
NIK = "6472045504910001"


@attrs.define
class World:
    core: Aspirasi
    client: Any = None
    ids: dict[str, int] = attrs.field(factory=dict)

    def token(self, username: str) -> str:
        response = self.client.post(
            "/api/v1/auth/login",
            json={"login": username, "password": PASSWORD},
            headers={"Authorization": "Bearer none"},
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def get(self, path: str, username: str | None = None, **kwargs: Any) -> Any:
        """GET as ``username`` (a bearer token) or, with None, anonymously."""
        self.client.cookies.clear()  # logging in through the API also sets a session cookie
        headers = {"Authorization": f"Bearer {self.token(username)}"} if username else {}
        return self.client.get(path, headers=headers, follow_redirects=False, **kwargs)


def settings_for(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": "test-secret-key-" * 3,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "storage_path": str(tmp_path / "files"),
        "outbox_inline": False,
    }
    values.update(overrides)
    return Settings(**values)


def populate(world: World) -> None:
    """Two agencies, an admin, a monitor (operator of Biro Perekonomian), an
    operator without the permission, a citizen, and messages: land disputes
    forwarded to both agencies, one of another sub-category, one not forwarded."""
    core = world.core

    async def go() -> None:
        root = core.admin.create_superadmin("root@example.org", "root", PASSWORD)
        world.ids["root"] = root.id
        rctx = Context(actor=root.actor())
        for code in ("pupr", "ekon"):
            world.ids[code] = (await core.admin.create_agency(rctx, code, f"Biro {code}")).id
        for username, role, agency in (
            ("admin", Role.ADMIN, None),
            ("op_pupr", Role.OPERATOR, "pupr"),
            ("monitor", Role.OPERATOR, "ekon"),
        ):
            acc = await core.admin.create_staff(
                rctx,
                StaffInput(
                    email=f"{username.replace('_', '-')}@example.org",
                    username=username,
                    full_name=username,
                    password=PASSWORD,
                    role=role,
                    agency_id=world.ids[agency] if agency else None,
                ),
            )
            world.ids[username] = acc.id
        await core.admin.update_account(
            rctx, world.ids["monitor"], AccountChanges(permissions=("land_issue.monitor",))
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
        cats = {c.code: c.id for c in await core.admin.categories()}
        subs = {s.code: s.id for s in await core.admin.subcategories(cats["aduan"])}
        world.ids["land"] = subs["permasalahan-lahan"]
        other = await core.admin.create_subcategory(rctx, cats["aduan"], "jalan", "Jalan")
        cctx = Context(actor=(await _account(core, citizen.id)).actor())
        actx = Context(actor=(await _account(core, world.ids["admin"])).actor())
        plan = (
            ("land_pupr", world.ids["land"], "pupr"),
            ("land_ekon", world.ids["land"], "ekon"),
            ("road_pupr", other.id, "pupr"),
            ("fresh", None, None),
        )
        for name, sub, agency in plan:
            message = await core.messages.submit(
                cctx, SubmitInput(subject=f"Subject {name}", body="Isi aduan.")
            )
            world.ids[name] = message.id
            if sub is not None and agency is not None:
                await core.messages.forward(
                    actx,
                    message.id,
                    ForwardInput(
                        category_id=cats["aduan"], subcategory_id=sub, agency_id=world.ids[agency]
                    ),
                )

    anyio.run(go)


async def _account(core: Aspirasi, account_id: int) -> Any:
    return core.deps.db.run_sync(lambda uow: uow.accounts.get(account_id))


def build(sqlite_database: Any, tmp_path: Any, **overrides: Any) -> tuple[Any, Aspirasi]:
    settings = settings_for(tmp_path, **overrides)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    return create_app(aspirasi=core, run_outbox=False), core


@pytest.fixture
def world(sqlite_database: Any, tmp_path: Any) -> Iterator[World]:
    app, core = build(sqlite_database, tmp_path)
    w = World(core=core)
    populate(w)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        yield w


def test_the_monitor_lists_every_land_dispute_of_every_agency_and_nothing_else(world):
    response = world.get("/api/v1/land-issues", "monitor")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    ids = [item["id"] for item in body["items"]]
    assert ids == [world.ids["land_ekon"], world.ids["land_pupr"]]  # newest first
    item = body["items"][1]
    assert item["agency"] == {"id": world.ids["pupr"], "code": "pupr", "name": "Biro pupr"}
    assert item["status"] == "forwarded"
    assert item["subject"] == "Subject land_pupr"
    assert item["ticket"]
    assert item["created_at"].endswith("Z")
    assert [e["to_status"] for e in item["log"]] == ["submitted", "forwarded"]


def test_the_api_filters_by_status_and_pages_with_a_cursor(world):
    token = world.token("monitor")
    headers = {"Authorization": f"Bearer {token}"}
    first = world.client.get("/api/v1/land-issues?limit=1", headers=headers).json()
    assert [i["id"] for i in first["items"]] == [world.ids["land_ekon"]]
    assert first["next_cursor"]
    second = world.client.get(
        "/api/v1/land-issues",
        params={"limit": "1", "cursor": first["next_cursor"]},
        headers=headers,
    ).json()
    assert [i["id"] for i in second["items"]] == [world.ids["land_pupr"]]
    assert second["next_cursor"] is None
    done = world.client.get("/api/v1/land-issues?status=done", headers=headers).json()
    assert done == {"items": [], "next_cursor": None}
    bad = world.client.get("/api/v1/land-issues?status=withdrawn", headers=headers)
    assert bad.status_code == 422


def test_the_page_shows_the_table_and_links_to_the_read_only_detail(world):
    response = world.get("/land-issues", "monitor")
    assert response.status_code == 200, response.text
    html = response.text
    assert "Subject land_pupr" in html and "Subject land_ekon" in html
    assert "Subject road_pupr" not in html and "Subject fresh" not in html
    assert f'href="/backoffice/messages/{world.ids["land_pupr"]}"' in html
    assert "Biro pupr" in html
    assert 'href="/land-issues"' in html  # the menu item
    filtered = world.get("/land-issues?status=in_progress", "monitor")
    assert "Subject land_pupr" not in filtered.text
    detail = world.get(f"/backoffice/messages/{world.ids['land_pupr']}", "monitor")
    assert detail.status_code == 200


def test_the_page_speaks_indonesian_by_default_and_english_on_request(world):
    html = world.get("/land-issues", "monitor").text
    assert "Aduan Permasalahan Lahan" in html
    assert "Perangkat daerah saat ini" in html
    english = world.get("/land-issues?lang=en", "monitor").text
    assert "Land-dispute complaints" in english
    assert "Current agency" in english


def test_the_monitor_cannot_act_on_another_agencys_message(world):
    token = world.token("monitor")
    headers = {"Authorization": f"Bearer {token}"}
    mid = world.ids["land_pupr"]
    page = world.client.post(
        f"/backoffice/messages/{mid}/start",
        data={"confirm": "1"},
        headers=headers,
        follow_redirects=False,
    )
    assert page.status_code == 404
    api = world.client.post(f"/api/v1/messages/{mid}/start", json={}, headers=headers)
    assert api.status_code == 404


def test_without_the_permission_the_page_and_the_api_are_refused(world):
    assert world.get("/land-issues", "op_pupr").status_code == 403
    api = world.get("/api/v1/land-issues", "op_pupr")
    assert api.status_code == 403
    assert api.headers["content-type"].startswith("application/problem+json")
    assert 'href="/land-issues"' not in world.get("/backoffice", "op_pupr").text
    assert world.get("/land-issues").status_code == 302
    assert world.get("/land-issues").headers["location"].startswith("/login")
    assert world.get("/api/v1/land-issues").status_code == 401
    assert world.get("/api/v1/land-issues", "ani").status_code == 403


def test_a_super_admin_sees_the_same_list(world):
    body = world.get("/api/v1/land-issues", "root").json()
    assert [i["id"] for i in body["items"]] == [world.ids["land_ekon"], world.ids["land_pupr"]]
    assert world.get("/land-issues", "root").status_code == 200


def test_disabling_the_plugin_removes_the_menu_item_and_the_routes(sqlite_database, tmp_path):
    app, core = build(sqlite_database, tmp_path, disabled_plugins=("land_issue",))
    w = World(core=core)

    async def go() -> None:
        root = core.admin.create_superadmin("root@example.org", "root", PASSWORD)
        w.ids["root"] = root.id

    anyio.run(go)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        assert w.get("/land-issues", "root").status_code == 404
        assert w.get("/api/v1/land-issues", "root").status_code == 404
        assert 'href="/land-issues"' not in w.get("/backoffice", "root").text


@pytest.mark.parametrize(("query", "field"), [("status=foo", "status"), ("limit=0", "limit")])
def test_bad_query_input_is_a_translated_422(world, query, field):
    token = world.token("monitor")
    answers = {
        lang: world.client.get(
            f"/api/v1/land-issues?{query}&lang={lang}", headers={"Authorization": f"Bearer {token}"}
        )
        for lang in ("en", "id")
    }
    for answer in answers.values():
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    [en], [idn] = (answers[lang].json()["errors"] for lang in ("en", "id"))
    assert en["code"] == idn["code"] and en["message"] != idn["message"]
