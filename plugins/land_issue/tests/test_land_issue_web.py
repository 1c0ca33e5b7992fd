"""The monitor's page and API in the real web app (SQLite, every installed plugin):
land-dispute complaints of every agency followed to the end, with their due dates
and overdue state, read only, built without a query per row; refused to others;
gone with the plugin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import attrs
import pytest
from babel.dates import format_date
from litestar.testing import TestClient
from sqlalchemy import event

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.model import Message, Role, Status
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Aspirasi, Context, StaffInput, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.settings import Settings
from aspirasi_core.testing import FakeClock
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

PASSWORD = "a-long-test-password"
NIK = "6472045504910001"
MONITOR = "land_issue.monitor"


@attrs.define
class World:
    core: Aspirasi
    clock: FakeClock
    client: Any = None
    ids: dict[str, int] = attrs.field(factory=dict)
    tokens: dict[str, str] = attrs.field(factory=dict)

    def token(self, username: str) -> str:
        """An API bearer token (one login per account and test)."""
        if username not in self.tokens:
            response = self.client.post(
                "/api/v1/auth/login",
                json={"login": username, "password": PASSWORD},
                headers={"Authorization": "Bearer none"},
            )
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["token"]
        return self.tokens[username]

    def headers(self, username: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"} if username else {}

    def get(self, path: str, username: str | None = None, **kwargs: Any) -> Any:
        """GET as ``username`` (a bearer token) or, with None, anonymously."""
        self.client.cookies.clear()  # logging in through the API also sets a session cookie
        return self.client.get(
            path, headers=self.headers(username), follow_redirects=False, **kwargs
        )

    def post(self, path: str, username: str, **kwargs: Any) -> Any:
        self.client.cookies.clear()
        return self.client.post(
            path, headers=self.headers(username), follow_redirects=False, **kwargs
        )

    def message(self, name: str) -> Message:
        found = self.core.deps.db.run_sync(
            lambda uow: uow.messages.get(self.ids[name]), write=False
        )
        assert found is not None
        return found

    def log_size(self, name: str) -> int:
        return len(
            self.core.deps.db.run_sync(lambda uow: uow.messages.log(self.ids[name]), write=False)
        )


def settings_for(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": "test-secret-key-" * 3,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "storage_path": str(tmp_path / "files"),
        "outbox_inline": False,
        "sop_holiday_country": "",
    }
    values.update(overrides)
    return Settings(**values)


async def _ctx(core: Aspirasi, account_id: int) -> Context:
    account = core.deps.db.run_sync(lambda uow: uow.accounts.get(account_id), write=False)
    return Context(actor=account.actor())


def populate(world: World) -> None:
    """Three agencies, an admin, a monitor (operator of Biro Perekonomian), operators
    without the permission, a citizen, and messages: land disputes in every agency
    and at every stage (one re-forwarded, one done with its reply), one of another
    sub-category, one not forwarded, one withdrawn."""
    core = world.core

    async def go() -> None:
        root = core.admin.create_superadmin("root@example.org", "root", PASSWORD)
        world.ids["root"] = root.id
        rctx = Context(actor=root.actor())
        for code, name in (
            ("pupr", "Dinas PUPR"),
            ("biro-perekonomian", "Biro Perekonomian"),
            ("dinkes", "Dinas Kesehatan"),
        ):
            world.ids[code] = (
                await core.admin.create_entry(rctx, "agency", code=code, name=name)
            ).id
        for username, role, agency in (
            ("admin", Role.ADMIN, None),
            ("op_pupr", Role.OPERATOR, "pupr"),
            ("op_dinkes", Role.OPERATOR, "dinkes"),
            ("monitor", Role.OPERATOR, "biro-perekonomian"),  # a monitor by default
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
        assert MONITOR in (await _ctx(core, world.ids["monitor"])).actor.permissions
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
        subs = {s.code: s.id for s in await core.admin.subcategories(cats["aduan"])}
        world.ids["land"] = subs["permasalahan-lahan"]
        world.ids["aduan"] = cats["aduan"]
        other = await core.admin.create_entry(
            rctx, "subcategory", category_id=cats["aduan"], code="jalan", name="Jalan"
        )
        world.ids["road"] = other.id
        cctx = await _ctx(core, citizen.id)
        actx = await _ctx(core, world.ids["admin"])
        dctx = await _ctx(core, world.ids["op_dinkes"])
        plan = (
            ("land_pupr", world.ids["land"], ("pupr",)),
            ("land_ekon", world.ids["land"], ("biro-perekonomian",)),
            ("road_pupr", other.id, ("pupr",)),
            ("fresh", None, ()),
            ("land_dinkes", world.ids["land"], ("dinkes",)),
            ("land_moved", world.ids["land"], ("pupr", "dinkes")),
            ("gone", None, ()),
        )
        for name, sub, agencies in plan:
            message = await core.messages.submit(
                cctx, SubmitInput(subject=f"Subject {name}", body="Isi aduan.")
            )
            world.ids[name] = message.id
            for agency in agencies:
                assert sub is not None
                await core.messages.act(
                    actx,
                    message.id,
                    "forward",
                    category_id=cats["aduan"],
                    subcategory_id=sub,
                    agency_id=world.ids[agency],
                )
        for name in ("land_dinkes", "land_moved"):
            await core.messages.act(dctx, world.ids[name], "start")
        await core.messages.act(
            dctx, world.ids["land_moved"], "progress", note="Tim turun ke lapangan."
        )
        await core.messages.act(
            dctx, world.ids["land_dinkes"], "progress", note="Survei dijadwalkan."
        )
        await core.messages.act(
            dctx, world.ids["land_dinkes"], "reply", answer="Sengketa selesai dimediasi."
        )
        await core.messages.act(cctx, world.ids["gone"], "withdraw")

    anyio.run(go)


def build(sqlite_database: Any, tmp_path: Any, **overrides: Any) -> tuple[Any, Aspirasi, FakeClock]:
    settings = settings_for(tmp_path, **overrides)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    # At the real time: cookies and tokens stay valid; moved on demand.
    clock = FakeClock(datetime.now(UTC))
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database, clock=clock)
    return create_app(aspirasi=core, run_outbox=False), core, clock


@pytest.fixture
def world(sqlite_database: Any, tmp_path: Any) -> Iterator[World]:
    app, core, clock = build(sqlite_database, tmp_path)
    w = World(core=core, clock=clock)
    populate(w)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        yield w


#: Every land dispute the monitor follows, newest first.
LAND = ["land_moved", "land_dinkes", "land_ekon", "land_pupr"]


def ids_of(world: World, names: list[str]) -> list[int]:
    return [world.ids[n] for n in names]


def row_of(html: str, subject: str) -> str:
    """The table row (``<tr>…</tr>``) showing ``subject``."""
    [row] = [part for part in html.split("<tr")[1:] if subject in part]
    return row.split("</tr>")[0]


def test_the_monitor_lists_every_land_dispute_of_every_agency_and_nothing_else(world):
    response = world.get("/api/v1/land-issues", "monitor")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    # Every agency, every stage, done included; not the other sub-category, not the
    # message nobody forwarded, not the withdrawn one.
    assert [item["id"] for item in body["items"]] == ids_of(world, LAND)
    items = {item["id"]: item for item in body["items"]}
    pupr = items[world.ids["land_pupr"]]
    assert pupr["agency"] == {"id": world.ids["pupr"], "code": "pupr", "name": "Dinas PUPR"}
    assert pupr["status"] == "forwarded"
    assert pupr["subject"] == "Subject land_pupr"
    assert pupr["ticket"]
    assert pupr["created_at"].endswith("Z")
    assert [e["to_status"] for e in pupr["log"]] == ["submitted", "forwarded"]
    assert pupr["latest_log"] == pupr["log"][-1]
    assert pupr["replied"] is False and pupr["replied_at"] is None
    message = world.message("land_pupr")
    assert pupr["due_at"] is not None and pupr["due_at"].endswith("Z")
    assert pupr["due_date"] == world.core.sop.due_date(message.due_at).isoformat()
    assert pupr["overdue"] is False
    moved = items[world.ids["land_moved"]]  # re-forwarded, now handled by Dinas Kesehatan
    assert moved["agency"]["name"] == "Dinas Kesehatan"
    assert moved["status"] == "in_progress"
    assert [e["action"] for e in moved["log"]] == [
        "submit",
        "forward",
        "reforward",
        "start",
        "progress",
    ]
    assert moved["latest_log"]["note"] == "Tim turun ke lapangan."
    assert moved["latest_log"]["visibility"] == "sender"  # a progress note, for the sender
    done = items[world.ids["land_dinkes"]]  # followed to the end
    assert done["status"] == "done"
    assert done["replied"] is True and done["replied_at"].endswith("Z")
    assert done["due_at"] is None and done["due_date"] is None and done["overdue"] is False
    assert done["latest_log"]["action"] == "reply"


def test_the_page_shows_every_land_dispute_followed_to_the_end(world):
    response = world.get("/land-issues", "monitor")
    assert response.status_code == 200, response.text
    html = response.text
    for name in LAND:
        assert f"Subject {name}" in html
        assert f'href="/backoffice/messages/{world.ids[name]}"' in html
    for name in ("road_pupr", "fresh", "gone"):
        assert f"Subject {name}" not in html
    assert 'href="/land-issues"' in html  # the menu item
    pupr = row_of(html, "Subject land_pupr")
    assert "Dinas PUPR" in pupr and "Belum dikonfirmasi" in pupr and "Belum dibalas" in pupr
    due = world.core.sop.due_date(world.message("land_pupr").due_at)
    assert format_date(due, "d MMM y", locale="id") in pupr
    assert "Terlambat" not in pupr
    moved = row_of(html, "Subject land_moved")
    assert "Dinas Kesehatan" in moved and "Tim turun ke lapangan." in moved
    assert 'class="badge vis-sender">Dilihat pengirim<' in moved  # who may read the note
    assert "Sedang ditangani" in moved
    done = row_of(html, "Subject land_dinkes")
    assert "Selesai" in done and "Dibalas" in done and "Belum dibalas" not in done
    # Read only: no action form on the page.
    assert 'method="post"' not in html.split("<main", 1)[-1].split("</main>")[0]


def test_overdue_messages_carry_a_visible_badge_and_can_be_filtered(world):
    world.clock.current = world.message("land_pupr").due_at + timedelta(hours=1)
    late = {"land_pupr", "land_ekon"}  # forwarded together, never confirmed
    html = world.get("/land-issues", "monitor").text
    for name in LAND:
        row = row_of(html, f"Subject {name}")
        assert ("Terlambat" in row) is (name in late), name
    english = world.get("/land-issues?lang=en", "monitor").text
    assert "Overdue" in row_of(english, "Subject land_pupr")
    assert "Overdue" not in row_of(english, "Subject land_moved")
    only = world.get("/land-issues?overdue=1", "monitor").text
    assert "Subject land_pupr" in only and "Subject land_ekon" in only
    assert "Subject land_moved" not in only and "Subject land_dinkes" not in only
    assert 'id="f-overdue" name="overdue" value="1" checked' in only
    body = world.get("/api/v1/land-issues?overdue=true", "monitor").json()
    assert [i["id"] for i in body["items"]] == ids_of(world, ["land_ekon", "land_pupr"])
    assert all(i["overdue"] for i in body["items"])
    everything = world.get("/api/v1/land-issues", "monitor").json()["items"]
    assert {i["id"] for i in everything if i["overdue"]} == set(ids_of(world, sorted(late)))
    bad = world.get("/api/v1/land-issues?overdue=maybe", "monitor")
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["overdue"]


def test_the_api_filters_by_status_and_pages_with_a_cursor(world):
    first = world.get("/api/v1/land-issues?limit=1", "monitor").json()
    assert [i["id"] for i in first["items"]] == ids_of(world, LAND[:1])
    assert first["next_cursor"]
    second = world.get(
        "/api/v1/land-issues", "monitor", params={"limit": "3", "cursor": first["next_cursor"]}
    ).json()
    assert [i["id"] for i in second["items"]] == ids_of(world, LAND[1:])
    assert second["next_cursor"] is None
    done = world.get("/api/v1/land-issues?status=done", "monitor").json()
    assert [i["id"] for i in done["items"]] == ids_of(world, ["land_dinkes"])
    bad = world.get("/api/v1/land-issues?status=withdrawn", "monitor")
    assert bad.status_code == 422
    filtered = world.get("/land-issues?status=in_progress", "monitor").text
    assert "Subject land_moved" in filtered and "Subject land_pupr" not in filtered


def test_the_list_is_built_without_a_query_per_row(world):
    """The page and the API cost the same number of SQL statements for 4 rows as for 8."""
    engine = world.core.deps.db.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    def cost(path: str) -> int:
        # Logged in and warmed up beforehand (caches): only the request is counted.
        assert world.get(path, "monitor").status_code == 200
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert world.get(path, "monitor").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    before = {path: cost(path) for path in ("/api/v1/land-issues", "/land-issues")}

    async def more() -> None:
        cctx = await _ctx(world.core, world.ids["ani"])
        actx = await _ctx(world.core, world.ids["admin"])
        for n in range(4):
            message = await world.core.messages.submit(
                cctx, SubmitInput(subject=f"Subject extra {n}", body="Isi aduan.")
            )
            await world.core.messages.act(
                actx,
                message.id,
                "forward",
                category_id=world.ids["aduan"],
                subcategory_id=world.ids["land"],
                agency_id=world.ids["dinkes" if n % 2 else "pupr"],
            )

    anyio.run(more)
    assert len(world.get("/api/v1/land-issues", "monitor").json()["items"]) == 8
    after = {path: cost(path) for path in before}
    assert all(n > 0 for n in before.values())  # the statements are seen
    assert after == before


def test_the_page_speaks_indonesian_by_default_and_english_on_request(world):
    html = world.get("/land-issues", "monitor").text
    for text in (
        "Aduan Permasalahan Lahan",
        "Perangkat daerah saat ini",
        "Batas waktu (SOP)",
        "Log terakhir",
        "Hanya yang terlambat",
    ):
        assert text in html
    english = world.get("/land-issues?lang=en", "monitor").text
    for text in (
        "Land-dispute complaints",
        "Current agency",
        "Due date (SOP)",
        "Latest log entry",
        "Overdue only",
        "Not replied yet",
        "Replied on",
    ):
        assert text in english
    assert "Batas waktu" not in english


def test_the_monitor_reads_the_detail_but_cannot_act_on_it(world):
    mid = world.ids["land_pupr"]
    detail = world.get(f"/backoffice/messages/{mid}", "monitor")
    assert detail.status_code == 200
    assert "Subject land_pupr" in detail.text
    assert f'action="/backoffice/messages/{mid}/' not in detail.text  # no action forms
    forward = {
        "category_id": str(world.ids["aduan"]),
        "subcategory_id": str(world.ids["land"]),
        "agency_id": str(world.ids["biro-perekonomian"]),
        "note": "",
    }
    attempts = (
        (f"/backoffice/messages/{mid}/forward", {"data": forward}),
        (f"/backoffice/messages/{mid}/reject", {"data": {"reason": "Tidak jelas."}}),
        (f"/backoffice/messages/{mid}/start", {"data": {"confirm": "1"}}),
        (f"/backoffice/messages/{mid}/progress", {"data": {"note": "Catatan."}}),
        (f"/backoffice/messages/{mid}/reply", {"files": {"answer": (None, "Jawaban.")}}),
        (f"/api/v1/messages/{mid}/forward", {"json": {k: int(v) for k, v in forward.items() if v}}),
        (f"/api/v1/messages/{mid}/reject", {"json": {"reason": "Tidak jelas."}}),
        (f"/api/v1/messages/{mid}/start", {"json": {}}),
        (f"/api/v1/messages/{mid}/progress", {"json": {"note": "Catatan."}}),
        (f"/api/v1/messages/{mid}/reply", {"files": {"answer": (None, "Jawaban.")}}),
    )
    before = (world.message("land_pupr"), world.log_size("land_pupr"))
    for path, kwargs in attempts:
        response = world.post(path, "monitor", **kwargs)
        assert response.status_code in (403, 404), (path, response.status_code, response.text)
    assert (world.message("land_pupr"), world.log_size("land_pupr")) == before
    # The same requests work for the agency's own operator: they were well formed.
    started = world.post(f"/backoffice/messages/{mid}/start", "op_pupr", data={"confirm": "1"})
    assert started.status_code == 303, started.text
    progress = world.post(f"/api/v1/messages/{mid}/progress", "op_pupr", json={"note": "Ok."})
    assert progress.status_code == 200, progress.text
    assert world.message("land_pupr").status is Status.IN_PROGRESS


def test_without_the_permission_the_page_and_the_api_are_refused(world):
    assert world.get("/land-issues", "op_pupr").status_code == 403
    api = world.get("/api/v1/land-issues", "op_pupr")
    assert api.status_code == 403
    assert api.headers["content-type"].startswith("application/problem+json")
    assert 'href="/land-issues"' not in world.get("/backoffice", "op_pupr").text
    assert world.get("/land-issues?overdue=1", "op_pupr").status_code == 403
    # Another agency's land dispute stays out of reach of an ordinary operator.
    other = world.ids["land_dinkes"]
    assert world.get(f"/backoffice/messages/{other}", "op_pupr").status_code == 404
    assert world.get(f"/api/v1/messages/{other}", "op_pupr").status_code == 404
    assert world.get(f"/backoffice/messages/{world.ids['land_pupr']}", "op_pupr").status_code == 200
    assert world.get("/land-issues").status_code == 302
    assert world.get("/land-issues").headers["location"].startswith("/login")
    assert world.get("/api/v1/land-issues").status_code == 401
    assert world.get("/api/v1/land-issues", "ani").status_code == 403
    assert world.get("/api/v1/land-issues", "admin").status_code == 403


def test_a_super_admin_sees_the_same_list(world):
    body = world.get("/api/v1/land-issues", "root").json()
    assert [i["id"] for i in body["items"]] == ids_of(world, LAND)
    assert world.get("/land-issues", "root").status_code == 200


def test_the_super_admin_grants_the_permission_while_the_plugin_is_on(world):
    uid = world.ids["op_pupr"]
    form = world.get(f"/admin/users/{uid}", "root").text
    assert f'value="{MONITOR}"' in form
    patched = world.client.patch(
        f"/api/v1/admin/users/{uid}", json={"permissions": [MONITOR]}, headers=world.headers("root")
    )
    assert patched.status_code == 200, patched.text
    assert world.get("/api/v1/land-issues", "op_pupr").status_code == 200


def test_disabling_the_plugin_removes_the_menu_item_the_routes_and_the_permission(
    sqlite_database, tmp_path
):
    app, core, clock = build(sqlite_database, tmp_path, disabled_plugins=("land_issue",))
    w = World(core=core, clock=clock)

    async def go() -> None:
        root = core.admin.create_superadmin("root@example.org", "root", PASSWORD)
        w.ids["root"] = root.id
        rctx = Context(actor=root.actor())
        agency = await core.admin.create_entry(
            rctx, "agency", code="biro-perekonomian", name="Biro Perekonomian"
        )
        w.ids["agency"] = agency.id
        for username, role, agency_id in (
            ("admin", Role.ADMIN, None),
            ("op_ekon", Role.OPERATOR, agency.id),
        ):
            account = await core.admin.create_staff(
                rctx,
                StaffInput(
                    email=f"{username}@example.org",
                    username=username,
                    full_name=username,
                    password=PASSWORD,
                    role=role,
                    agency_id=agency_id,
                ),
            )
            w.ids[username] = account.id
            assert account.permissions == frozenset()  # no default grant either
        cats = {c.code: c.id for c in await core.admin.categories()}
        w.ids["aduan"] = cats["aduan"]
        subs = await core.admin.subcategories(cats["aduan"])
        assert "permasalahan-lahan" not in {s.code for s in subs}
        w.ids["road"] = (
            await core.admin.create_entry(
                rctx, "subcategory", category_id=cats["aduan"], code="jalan", name="Jalan"
            )
        ).id
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
        message = await core.messages.submit(
            await _ctx(core, citizen.id), SubmitInput(subject="Subject road", body="Isi.")
        )
        w.ids["message"] = message.id

    anyio.run(go)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        assert w.get("/land-issues", "root").status_code == 404
        assert w.get("/api/v1/land-issues", "root").status_code == 404
        assert w.get("/api/v1/land-issues", "op_ekon").status_code == 404
        backoffice = w.get("/backoffice", "root")
        assert backoffice.status_code == 200
        assert 'href="/land-issues"' not in backoffice.text
        # The permission is neither offered nor accepted.
        form = w.get(f"/admin/users/{w.ids['op_ekon']}", "root")
        assert form.status_code == 200
        assert MONITOR not in form.text
        assert MONITOR not in w.get("/admin/users", "root").text
        patched = client.patch(
            f"/api/v1/admin/users/{w.ids['op_ekon']}",
            json={"permissions": [MONITOR]},
            headers=w.headers("root"),
        )
        assert patched.status_code == 422, patched.text
        assert [e["field"] for e in patched.json()["errors"]] == ["permissions"]
        # The rest of the app works: the admin forwards, the operator reads it.
        forwarded = w.post(
            f"/api/v1/messages/{w.ids['message']}/forward",
            "admin",
            json={
                "category_id": w.ids["aduan"],
                "subcategory_id": w.ids["road"],
                "agency_id": w.ids["agency"],
            },
        )
        assert forwarded.status_code == 200, forwarded.text
        listed = w.get("/api/v1/backoffice/messages", "op_ekon").json()
        assert [i["id"] for i in listed["items"]] == [w.ids["message"]]
        assert w.get(f"/backoffice/messages/{w.ids['message']}", "op_ekon").status_code == 200


@pytest.mark.parametrize(("query", "field"), [("status=foo", "status"), ("limit=0", "limit")])
def test_bad_query_input_is_a_translated_422(world, query, field):
    answers = {
        lang: world.get(f"/api/v1/land-issues?{query}&lang={lang}", "monitor")
        for lang in ("en", "id")
    }
    for answer in answers.values():
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    [en], [idn] = (answers[lang].json()["errors"] for lang in ("en", "id"))
    assert en["code"] == idn["code"] and en["message"] != idn["message"]


def test_the_land_issue_api_is_typed_in_the_schema(world):
    """Its parameters (a boolean flag, a bounded limit) and its answer's shape are
    documented; a limit past the maximum is refused, not capped."""
    op = world.client.get("/schema/openapi.json").json()["paths"]["/api/v1/land-issues"]["get"]
    params = {p["name"]: p["schema"] for p in op["parameters"]}
    assert params["overdue"]["type"] == "boolean"
    assert params["limit"]["maximum"] == 100
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok != {"type": "object"}
    assert world.get("/api/v1/land-issues?limit=101", "monitor").status_code == 422


@pytest.mark.parametrize("value", ["yes", "on", "True", "%20true", "1%20"])
def test_the_overdue_flag_is_spelled_as_every_flag_of_the_api(world, value):
    """``true``/``1``/``false``/``0`` only, as the back-office list reads it (issue 20);
    empty is the same as absent."""
    bad = world.get(f"/api/v1/land-issues?overdue={value}", "monitor")
    assert bad.status_code == 422, bad.text
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [("overdue", "flag_invalid")]
    assert world.get("/api/v1/land-issues?overdue=", "monitor").status_code == 200
