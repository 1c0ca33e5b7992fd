"""Issue 18, the account parts, through HTTP: registration answers alike whatever
is known, a NIK and a username go to whoever verifies first, logout ends the whole
log-in, a browser or app that logged in before is not locked out by an attacker,
and the super admin releases a NIK (API and pages)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from aspirasi_core.domain.errors import Throttled, Unauthenticated
from aspirasi_core.services import Context
from aspirasi_core.services.accounts import RegisterInput

from .api_support import ApiWorld, build_world
from .test_pages_public_support import account_count
from .world import NIKS, PASSWORDS, WebWorld

ANON = {"Authorization": "Bearer none"}  # an API client: no cookies, no CSRF
NEW_NIK = "6472046101950003"


def body(email: str, username: str, nik: str) -> dict[str, str]:
    return {
        "email": email,
        "username": username,
        "full_name": "Eka Putri",
        "nik": nik,
        "password": "eka-long-password",
        "password_confirm": "eka-long-password",
    }


def post_form(web: WebWorld, url: str, data: dict[str, str]) -> Any:
    return web.client.post(url, data={**data, "_csrf_token": web.csrf()}, follow_redirects=False)


def register_unverified(web: WebWorld, email: str, username: str, nik: str) -> str:
    """Register through the use case; the verification token (from the recorder)."""

    async def go() -> None:
        await web.core.accounts.register(
            Context(),
            RegisterInput(**body(email, username, nik)),  # type: ignore[arg-type]
        )

    anyio.run(go)
    return web.recorder.last("verification")  # type: ignore[attr-defined,no-any-return]


def lock_out(web: WebWorld, login: str) -> None:
    """Wrong passwords for ``login`` from many addresses until the account is locked."""

    async def go() -> None:
        for n in range(10):
            try:
                await web.core.accounts.login(
                    Context(client_ip=f"192.0.2.{n}"), login, "a-wrong-password"
                )
            except Unauthenticated:
                continue
            except Throttled:
                return
        raise AssertionError("never locked")

    anyio.run(go)


# --------------------------------------------------------------------------- registration


def test_the_registration_answer_tells_nothing_of_the_email_or_the_nik(api: ApiWorld) -> None:
    c = api.client
    before = account_count(api)
    answers = [
        c.post("/api/v1/auth/register", json=body(*case), headers=ANON)
        for case in (
            ("eka@example.org", "eka", NEW_NIK),  # new
            ("ani@example.org", "eka2", "6472046101950011"),  # a known e-mail
            ("fani@example.org", "fani", NIKS["ani"]),  # a NIK Ani verified
            ("budi@example.org", "budi3", NIKS["ani"]),  # both
        )
    ]
    assert {a.status_code for a in answers} == {201}
    assert all(a.json() == answers[0].json() for a in answers)
    assert all(
        a.headers.get("content-type") == answers[0].headers.get("content-type") for a in answers
    )
    assert account_count(api) == before + 1
    # In Indonesian too, and without the word "created".
    idn = c.post(
        "/api/v1/auth/register?lang=id",
        json=body("gita@example.org", "gita", "6472046101950029"),
        headers=ANON,
    )
    assert idn.json()["detail"].startswith("Terima kasih. Kami telah mengirim email")
    assert "created" not in answers[0].json()["detail"]


def test_the_register_page_says_what_the_owner_of_a_taken_nik_can_do(web: WebWorld) -> None:
    for lang, text in (
        ("id", "NIK Anda didaftarkan oleh orang lain?"),
        ("en", "Is your NIK registered by someone else?"),
    ):
        page = web.client.get(f"/register?lang={lang}")
        assert text in page.text
        assert web.core.deps.settings.contact_email in page.text


# --------------------------------------------------------------------------- verification


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def test_the_loser_of_a_username_picks_another_one_on_the_verify_page(api: ApiWorld) -> None:
    first = register_unverified(api, "dewi1@example.org", "dewi", NEW_NIK)
    second = register_unverified(api, "dewi2@example.org", "dewi", "6472046101950011")
    assert post_form(api, "/verify-email", {"token": second}).status_code == 303
    lost = post_form(api, "/verify-email?lang=en", {"token": first})
    assert lost.status_code == 422
    assert "Another account confirmed the username dewi first" in lost.text
    assert 'name="username"' in lost.text and f'value="{first}"' in lost.text
    done = post_form(api, "/verify-email", {"token": first, "username": "dewi_asli"})
    assert done.status_code == 303
    assert (
        api.client.post(
            "/api/v1/auth/login",
            json={"login": "dewi_asli", "password": "eka-long-password"},
            headers=ANON,
        ).status_code
        == 200
    )


def test_a_nik_verified_first_by_another_account_fails_verification_clearly(
    api: ApiWorld,
) -> None:
    squatter = register_unverified(api, "squat@example.org", "squat", NEW_NIK)
    owner = register_unverified(api, "owner@example.org", "owner", NEW_NIK)
    assert post_form(api, "/verify-email", {"token": squatter}).status_code == 303
    page = post_form(api, "/verify-email", {"token": owner})
    assert page.status_code == 422
    assert "Akun lain sudah lebih dulu mengonfirmasi NIK ini." in page.text
    assert api.core.deps.settings.contact_email in page.text
    r = api.client.post("/api/v1/auth/verify-email?lang=en", json={"token": owner}, headers=ANON)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "nik_taken"
    # The super admin checks and releases it; the owner's same link then works.
    root = api.bearer("root")
    released = api.client.post(
        "/api/v1/admin/nik-releases",
        json={"nik": NEW_NIK, "reason": "KTP asli diperiksa."},
        headers=root,
    )
    assert released.status_code == 200, released.text
    r = api.client.post("/api/v1/auth/verify-email", json={"token": owner}, headers=ANON)
    assert r.status_code == 200, r.text


def test_verification_mail_is_capped_per_address_per_day(
    sqlite_database: Any, tmp_path: Any
) -> None:
    for world in build_world(sqlite_database, tmp_path, verification_mails_per_day=2):
        register_unverified(world, "hana@example.org", "hana", NEW_NIK)
        login = world.client.post(
            "/api/v1/auth/login",
            json={"login": "hana@example.org", "password": "eka-long-password"},
            headers=ANON,
        )
        token = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (
            world.client.post("/api/v1/auth/resend-verification", headers=token).status_code == 202
        )
        refused = world.client.post("/api/v1/auth/resend-verification?lang=id", headers=token)
        assert refused.status_code == 429
        assert refused.json()["code"] == "verification_mail_cap"
        assert "coba lagi besok" in refused.json()["detail"]
        assert 0 < int(refused.headers["retry-after"]) <= 86400


# --------------------------------------------------------------------------- logout


def browser_json_login(web: WebWorld, username: str) -> Any:
    """A JSON log-in from the browser: a bearer token and a session cookie."""
    return web.client.post(
        "/api/v1/auth/login",
        json={"login": username, "password": PASSWORDS[username]},
        headers={"X-CSRF-Token": web.csrf()},
    )


def test_logging_out_the_bearer_token_ends_the_session_cookie_of_the_same_log_in(
    web: WebWorld,
) -> None:
    login = browser_json_login(web, "ani")
    assert login.status_code == 200, login.text
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 200
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    assert web.client.post("/api/v1/auth/logout", headers=bearer).status_code == 204
    after = web.client.get("/dashboard", follow_redirects=False)
    assert after.status_code in (302, 303) and after.headers["location"].startswith("/login")


def test_logging_out_the_session_ends_the_bearer_token_of_the_same_log_in(
    web: WebWorld,
) -> None:
    login = browser_json_login(web, "ani")
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    assert web.client.get("/api/v1/me", headers=bearer).status_code == 200
    assert post_form(web, "/logout", {}).status_code == 303
    assert web.client.get("/api/v1/me", headers=bearer).status_code == 401


# --------------------------------------------------------------------------- lock-out


def test_a_browser_that_logged_in_before_is_not_locked_out(web: WebWorld) -> None:
    web.login("ani")
    cookie = web.client.cookies.get("aspirasi_device")
    assert cookie and cookie.startswith(f"{web.ids['ani']}.")
    post_form(web, "/logout", {})
    assert web.client.cookies.get("aspirasi_device") == cookie  # no credential: it stays
    lock_out(web, "ani")
    again = post_form(web, "/login", {"login": "ani", "password": PASSWORDS["ani"]})
    assert again.status_code == 303 and again.headers["location"] == "/dashboard"
    renewed = web.client.cookies.get("aspirasi_device")
    assert renewed and renewed != cookie
    # Another browser (no device cookie) is locked out, right password or not.
    web.client.cookies.delete("aspirasi_device")
    post_form(web, "/logout", {})
    refused = post_form(web, "/login", {"login": "ani", "password": PASSWORDS["ani"]})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_the_device_cookie_is_http_only_and_kept_for_the_setting(web: WebWorld) -> None:
    page = web.client.get("/login")
    assert page.status_code == 200
    r = post_form(web, "/login", {"login": "ani", "password": PASSWORDS["ani"]})
    header = next(h for h in r.headers.get_list("set-cookie") if h.startswith("aspirasi_device="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert f"Max-Age={90 * 86400}" in header


def test_an_app_sends_its_device_token_back_and_is_not_locked_out(api: ApiWorld) -> None:
    c = api.client
    first = c.post(
        "/api/v1/auth/login", json={"login": "budi", "password": PASSWORDS["budi"]}, headers=ANON
    )
    device = first.json()["device_token"]
    assert device
    lock_out(api, "budi")
    c.cookies.clear()  # an app keeps no cookies: only the header counts
    refused = c.post(
        "/api/v1/auth/login", json={"login": "budi", "password": PASSWORDS["budi"]}, headers=ANON
    )
    assert refused.status_code == 429
    trusted = c.post(
        "/api/v1/auth/login",
        json={"login": "budi", "password": PASSWORDS["budi"]},
        headers={**ANON, "X-Aspirasi-Device": device},
    )
    assert trusted.status_code == 200, trusted.text
    assert trusted.json()["device_token"] != device


# --------------------------------------------------------------------------- NIK release


def test_the_super_admin_finds_and_releases_a_nik_through_the_api(api: ApiWorld) -> None:
    c = api.client
    root = api.bearer("root")
    for who in ("admin", "ani"):
        assert (
            c.post(
                "/api/v1/admin/nik-holder", json={"nik": NIKS["ani"]}, headers=api.bearer(who)
            ).status_code
            == 403
        )
    holder = c.post("/api/v1/admin/nik-holder", json={"nik": NIKS["ani"]}, headers=root)
    assert holder.status_code == 200 and holder.json()["username"] == "ani"
    assert holder.json()["nik_masked"] == "6472********0001"
    assert NIKS["ani"] not in holder.text
    no_reason = c.post(
        "/api/v1/admin/nik-releases", json={"nik": NIKS["ani"], "reason": ""}, headers=root
    )
    assert no_reason.status_code == 422
    r = c.post(
        "/api/v1/admin/nik-releases",
        json={"nik": NIKS["ani"], "reason": "KTP asli diperiksa di kantor."},
        headers=root,
    )
    assert r.status_code == 200 and r.json()["account"]["id"] == api.ids["ani"]
    assert r.json()["account"].get("nik_masked") is None
    gone = c.post("/api/v1/admin/nik-holder", json={"nik": NIKS["ani"]}, headers=root)
    assert gone.status_code == 404 and gone.json()["code"] == "nik_not_registered"


def test_the_super_admin_releases_a_nik_on_the_admin_pages(web: WebWorld) -> None:
    web.login("root")
    page = web.client.get("/admin/nik-release")
    assert page.status_code == 200 and "Lepaskan NIK" in page.text
    found = post_form(web, "/admin/nik-release", {"step": "find", "nik": NIKS["budi"]})
    assert found.status_code == 200
    assert "budi@example.org" in found.text and "6471********0002" in found.text
    missing = post_form(
        web, "/admin/nik-release", {"step": "release", "nik": NIKS["budi"], "reason": ""}
    )
    assert missing.status_code == 422
    done = post_form(
        web,
        "/admin/nik-release",
        {"step": "release", "nik": NIKS["budi"], "reason": "KTP asli diperiksa."},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/users/{web.ids['budi']}"
    assert "NIK telah dilepaskan dari akun ini." in web.client.get(done.headers["location"]).text
    unknown = post_form(web, "/admin/nik-release", {"step": "find", "nik": NIKS["budi"]})
    assert unknown.status_code == 404
    assert "Tidak ada akun terverifikasi yang memegang NIK ini." in unknown.text
