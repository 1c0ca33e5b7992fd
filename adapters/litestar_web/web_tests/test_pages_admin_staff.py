"""Staff accounts by invitation, the forced first password change, and the
designed admin screens (issue 22): compact lists with a server-side search,
editing on an entry's own page, deactivation behind a confirmation step,
levels and permissions by their translated names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from litestar.testing import TestClient

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager, migration_locations
from aspirasi_core.services import AccountChanges, Context
from aspirasi_core.storage import upgrade
from aspirasi_core.testing.world import FakeClock
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

from .test_pages_backoffice_support import csrf_field, login, set_lang, text_of
from .world import WebWorld, make_settings, populate


@pytest.fixture
def clocked(sqlite_database: Any, tmp_path: Any) -> Iterator[tuple[WebWorld, FakeClock]]:
    """The ``web`` world on a clock the test moves."""
    clock = FakeClock(datetime.now(UTC))
    settings = make_settings(tmp_path)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    upgrade(sqlite_database.engine, migration_locations(pm))
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database, clock=clock)
    world = WebWorld(app=create_app(aspirasi=core, run_outbox=False), core=core)
    populate(world)
    with TestClient(app=world.app, base_url="http://127.0.0.1:8000") as client:
        world.client = client
        yield world, clock


def _invitation_links(web: WebWorld, address: str) -> list[str]:
    """The invitation links of the mails queued for ``address`` (rendered by notify_email)."""
    plugin = web.core.plugin_manager.get_plugin("notify_email")
    items = web.core.deps.db.run_sync(lambda uow: uow.outbox.list(status="pending", limit=500))
    links = []
    for item in items:
        if item.topic != "email":
            continue
        mail = plugin.mail_of(item.payload)
        if mail.to == address:
            links += re.findall(r"https?://\S+/invitation\?token=[\w\-]+", mail.text)
    return links


def _invite(web: WebWorld, **extra: str) -> object:
    data = {
        **csrf_field(web),
        "email": "sari.dewi@example.org",
        "full_name": "Sari Dewi",
        "role": "operator",
        "agency_id": str(web.ids["agency_dinkes"]),
        **extra,
    }
    return web.client.post("/admin/users", data=data, follow_redirects=False)


def test_an_invited_operator_sets_their_own_password_once(web: WebWorld) -> None:
    login(web, "root")
    form = web.client.get("/admin/users/new")
    assert form.status_code == 200 and 'name="email"' in form.text
    r = _invite(web)
    assert r.status_code == 303, r.text
    created = web.core.deps.db.run_sync(
        lambda uow: uow.accounts.find_by_email("sari.dewi@example.org")
    )
    assert created.awaiting_password and created.username == "sari.dewi"
    assert r.headers["location"] == f"/admin/users/{created.id}?done=invited"
    page = web.client.get(r.headers["location"])
    assert "Akun dibuat, undangan dikirim ke sari.dewi@example.org." in text_of(page.text)
    assert "Undangan belum diterima" in text_of(page.text)
    # nobody can log in to it before the invitation is accepted
    web.client.cookies.clear()
    refused = web.client.post(
        "/login",
        data={**csrf_field(web), "login": "sari.dewi", "password": ""},
        follow_redirects=False,
    )
    assert refused.status_code != 303
    [link] = _invitation_links(web, "sari.dewi@example.org")
    token = link.split("token=", 1)[1]
    # the token is stored hashed only
    stored = web.core.deps.db.run_sync(
        lambda uow: uow.tokens.lookup("staff_invitation", token.encode(), web.core.deps.clock.now())
    )
    assert stored is None
    page = web.client.get(f"/invitation?token={token}")
    assert page.status_code == 200 and 'name="password_confirm"' in page.text
    short = web.client.post(
        "/invitation",
        data={**csrf_field(web), "token": token, "password": "x", "password_confirm": "x"},
    )
    assert short.status_code == 422 and 'aria-invalid="true"' in short.text
    good = {
        "token": token,
        "password": "sari-own-secret-77",
        "password_confirm": "sari-own-secret-77",
    }
    r = web.client.post("/invitation", data={**csrf_field(web), **good}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # single use
    again = web.client.post("/invitation", data={**csrf_field(web), **good})
    assert again.status_code == 422 and "tidak valid" in again.text
    r = web.client.post(
        "/login",
        data={**csrf_field(web), "login": "sari.dewi", "password": "sari-own-secret-77"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/backoffice"


def test_an_invitation_expires_and_can_be_sent_again(
    clocked: tuple[WebWorld, FakeClock],
) -> None:
    web, clock = clocked
    login(web, "root")
    _invite(web)
    created = web.core.deps.db.run_sync(
        lambda uow: uow.accounts.find_by_email("sari.dewi@example.org")
    )
    [old] = _invitation_links(web, "sari.dewi@example.org")
    clock.advance(days=8)
    login(web, "root")  # the session is older now too
    token = old.split("token=", 1)[1]
    expired = web.client.post(
        "/invitation",
        data={
            **csrf_field(web),
            "token": token,
            "password": "sari-own-secret-77",
            "password_confirm": "sari-own-secret-77",
        },
    )
    assert expired.status_code == 422
    r = web.client.post(
        f"/admin/users/{created.id}/invitation", data=csrf_field(web), follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=reinvited")
    links = _invitation_links(web, "sari.dewi@example.org")
    assert len(links) == 2 and links[1] != old


def test_invitation_errors_are_shown_and_nothing_is_written(web: WebWorld) -> None:
    login(web, "root")
    set_lang(web, "en")
    r = _invite(web, email="ani@example.org")  # taken
    assert r.status_code == 422 and "An account with this e-mail already exists." in r.text
    assert 'value="Sari Dewi"' in r.text
    r = _invite(web, agency_id="")
    assert r.status_code == 422 and "An operator belongs to an agency" in r.text
    assert (
        web.core.deps.db.run_sync(lambda uow: uow.accounts.find_by_email("sari.dewi@example.org"))
        is None
    )
    assert _invitation_links(web, "sari.dewi@example.org") == []


def test_a_typed_password_must_be_changed_at_the_first_log_in(web: WebWorld) -> None:
    login(web, "root")
    r = _invite(web, password="temporary-pass-2026")
    created = web.core.deps.db.run_sync(
        lambda uow: uow.accounts.find_by_email("sari.dewi@example.org")
    )
    assert r.headers["location"] == f"/admin/users/{created.id}?done=created"
    assert created.must_change_password and _invitation_links(web, created.email) == []
    web.client.cookies.clear()
    r = web.client.post(
        "/login",
        data={**csrf_field(web), "login": "sari.dewi", "password": "temporary-pass-2026"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    # every other page sends them back; the API answers 403 with a code
    r = web.client.get("/backoffice", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/account/password"
    api = web.client.get("/api/v1/notifications")
    assert api.status_code == 403
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["code"] == "password_change_required"
    # a fragment the page fetches by itself (the bell's count) gets nothing to swap in,
    # not the change page inside the bell
    bell = web.client.get(
        "/backoffice/notifications/count", headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert bell.status_code == 204 and bell.text == ""
    page = web.client.get("/account/password")
    assert page.status_code == 200 and "Pilih kata sandi Anda sendiri" in page.text
    same = web.client.post(
        "/account/password",
        data={
            **csrf_field(web),
            "current_password": "temporary-pass-2026",
            "password": "temporary-pass-2026",
            "password_confirm": "temporary-pass-2026",
        },
    )
    assert same.status_code == 422
    r = web.client.post(
        "/account/password",
        data={
            **csrf_field(web),
            "current_password": "temporary-pass-2026",
            "password": "sari-own-secret-77",
            "password_confirm": "sari-own-secret-77",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/backoffice"
    assert web.client.get("/backoffice").status_code == 200
    after = web.core.deps.db.run_sync(lambda uow: uow.accounts.get(created.id))
    assert not after.must_change_password


def _nav(page: Any) -> str:
    return str(page.text.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0])


def test_a_forced_account_sees_only_the_change_page_and_log_out(web: WebWorld) -> None:
    login(web, "root")
    _invite(web, password="temporary-pass-2026")
    web.client.cookies.clear()
    r = web.client.post(
        "/login",
        data={**csrf_field(web), "login": "sari.dewi", "password": "temporary-pass-2026"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/account/password"
    for lang, label in (("id", "Ganti kata sandi"), ("en", "Change password")):
        page = web.client.get(f"/account/password?lang={lang}")
        nav = _nav(page)
        assert re.findall(r'<a href="([^"]+)"', nav) == ["/account/password"], nav
        assert label in nav and 'action="/logout"' in nav
        assert "/backoffice/notifications" not in page.text  # no bell
    set_lang(web, "id")
    r = web.client.post(
        "/account/password",
        data={
            **csrf_field(web),
            "current_password": "temporary-pass-2026",
            "password": "sari-own-secret-77",
            "password_confirm": "sari-own-secret-77",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    nav = _nav(web.client.get("/backoffice"))
    assert 'href="/backoffice/messages"' in nav and 'href="/messages"' in nav


def test_the_api_lets_a_forced_account_change_its_password(web: WebWorld) -> None:
    login(web, "root")
    _invite(web, password="temporary-pass-2026")
    r = web.client.post(
        "/api/v1/auth/login",
        json={"login": "sari.dewi", "password": "temporary-pass-2026"},
        headers={"Authorization": "Bearer none"},
    )
    bearer = {"Authorization": f"Bearer {r.json()['token']}"}
    refused = web.client.get("/api/v1/notifications", headers=bearer)
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    assert web.client.get("/api/v1/me", headers=bearer).status_code == 200
    changed = web.client.post(
        "/api/v1/me/password",
        json={
            "current_password": "temporary-pass-2026",
            "password": "sari-own-secret-77",
            "password_confirm": "sari-own-secret-77",
        },
        headers=bearer,
    )
    assert changed.status_code == 200, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['token']}"}
    assert web.client.get("/api/v1/notifications", headers=fresh).status_code == 200


def test_deactivation_asks_first_and_lists_have_no_red_buttons(web: WebWorld) -> None:
    login(web, "root")
    op = web.ids["op_dinkes"]
    aid = web.ids["agency_dinkes"]
    for path in ("/admin/users", "/admin/agencies", "/admin/categories"):
        page = web.client.get(path)
        assert page.status_code == 200 and 'class="danger"' not in page.text, path
    detail = web.client.get(f"/admin/users/{op}")
    assert 'class="danger"' not in detail.text and f"/admin/users/{op}/deactivate" in detail.text
    confirm = web.client.get(f"/admin/users/{op}/deactivate")
    assert confirm.status_code == 200 and 'class="danger"' in confirm.text
    assert 'name="active" value="0"' in confirm.text
    r = web.client.post(
        f"/admin/users/{op}/active",
        data={**csrf_field(web), "active": "0"},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"/admin/users/{op}?done=deactivated"
    assert "dinonaktifkan" in web.client.get(r.headers["location"]).text
    assert web.client.get(f"/admin/agencies/{aid}/deactivate").status_code == 200
    sub = web.ids["sub_infra"]
    page = web.client.get(f"/admin/subcategories/{sub}/deactivate")
    assert page.status_code == 200 and 'class="danger"' in page.text


def test_search_filters_on_the_server(web: WebWorld) -> None:
    login(web, "root")
    agencies = web.client.get("/admin/agencies", params={"q": "dinkes"})
    assert "Dinas dinkes" in agencies.text and "Dinas pupr" not in agencies.text
    users = web.client.get("/admin/users", params={"q": "dinkes"})
    assert "op_dinkes" in users.text and "op_pupr" not in users.text
    cats = web.client.get("/admin/categories", params={"q": "zzz-nothing"})
    assert cats.status_code == 200 and "Infrastruktur" not in text_of(cats.text)


def test_deadlines_are_edited_on_the_sub_category_page(web: WebWorld) -> None:
    login(web, "root")
    listing = web.client.get("/admin/categories")
    assert 'name="sop_confirm_days"' not in listing.text
    sub = web.ids["sub_infra"]
    page = web.client.get(f"/admin/subcategories/{sub}")
    assert page.status_code == 200 and 'name="sop_confirm_days"' in page.text
    bad = web.client.post(
        f"/admin/subcategories/{sub}",
        data={**csrf_field(web), "name": "Infrastruktur", "sop_confirm_days": "0"},
    )
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    r = web.client.post(
        f"/admin/subcategories/{sub}",
        data={**csrf_field(web), "name": "Infrastruktur", "sop_confirm_days": "4"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    saved = web.core.deps.db.run_sync(lambda uow: uow.directory.subcategory(sub))
    assert saved.sop_confirm_days == 4
    assert "konfirmasi 4" in web.client.get("/admin/categories").text


def test_levels_and_permissions_show_translated_names(web: WebWorld) -> None:
    login(web, "root")
    policy = web.core.deps.policy
    grant = sorted(policy.grantable())[0]
    op = web.ids["op_pupr"]

    async def give() -> None:
        root = web.core.deps.db.run_sync(lambda uow: uow.accounts.get(web.ids["root"]))
        await web.core.admin.update_account(
            Context(actor=root.actor()), op, AccountChanges(permissions=(grant,))
        )

    anyio.run(give)
    description = policy.permissions[grant].description
    for lang, citizen in (("id", "Pengguna"), ("en", "User")):
        set_lang(web, lang)
        page = text_of(web.client.get(f"/admin/users/{op}").text)
        assert grant not in page  # the code never shows
        # in Indonesian the description is translated, in English it is the msgid
        assert (description in page) is (lang == "en")
        listing = text_of(web.client.get("/admin/users", params={"role": "user"}).text)
        assert "ani" in listing and " user " not in listing and f" {citizen} " in listing
