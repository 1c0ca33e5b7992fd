"""Account pages: log in and out, register, e-mail verification, password reset."""

from __future__ import annotations

import pytest

from aspirasi_core.security.tokens import TokenPurpose

from .test_pages_public_support import acc, account_count, make_token, unverify
from .world import PASSWORDS, WebWorld


def post(web: WebWorld, url: str, data: dict[str, str], **kw: object) -> object:
    return web.client.post(
        url, data={**data, "_csrf_token": web.csrf()}, follow_redirects=False, **kw
    )


# ---------------------------------------------------------------------- log in / out
def test_login_page_and_redirects_by_role(web: WebWorld) -> None:
    page = web.client.get("/login")
    assert page.status_code == 200
    assert 'for="f-login"' in page.text and 'name="_csrf_token"' in page.text
    assert 'autocomplete="current-password"' in page.text
    r = post(web, "/login", {"login": "ani", "password": PASSWORDS["ani"]})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    assert "Selamat datang kembali." in web.client.get("/dashboard").text
    r = post(web, "/login", {"login": "admin@example.org", "password": PASSWORDS["admin"]})
    assert r.status_code == 303 and r.headers["location"] == "/backoffice"
    unverify(web, "budi")
    r = post(web, "/login", {"login": "budi", "password": PASSWORDS["budi"]})
    assert r.status_code == 303 and r.headers["location"] == "/verify-pending"


def test_login_honours_a_safe_next_only(web: WebWorld) -> None:
    page = web.client.get("/login?next=/my/messages")
    assert 'name="next" value="/my/messages"' in page.text
    r = post(web, "/login", {"login": "ani", "password": PASSWORDS["ani"], "next": "/my/messages"})
    assert r.headers["location"] == "/my/messages"
    r = post(
        web, "/login", {"login": "ani", "password": PASSWORDS["ani"], "next": "//evil.example/"}
    )
    assert r.headers["location"] == "/dashboard"


def test_login_wrong_password_and_empty_fields(web: WebWorld) -> None:
    r = post(web, "/login", {"login": "ani", "password": "wrong-password-here"})
    assert r.status_code == 401
    assert "Nama pengguna/e-mail atau kata sandi salah." in r.text
    assert 'value="ani"' in r.text and "wrong-password-here" not in r.text
    assert "aspirasi_session" not in r.headers.get("set-cookie", "")
    empty = post(web, "/login?lang=en", {"login": "", "password": ""})
    assert empty.status_code == 422 and "This field is required." in empty.text
    assert 'aria-describedby="e-login"' in empty.text


def test_a_login_form_always_needs_the_csrf_token(web: WebWorld) -> None:
    web.login("ani")  # a session cookie: a forged log-in would switch this account
    r = web.client.post(
        "/login", data={"login": "budi", "password": PASSWORDS["budi"]}, follow_redirects=False
    )
    assert r.status_code == 403
    assert "aspirasi_session" not in r.headers.get("set-cookie", "")
    web.client.cookies.clear()  # no session: a forged form would sign in to another account
    r = web.client.post(
        "/login", data={"login": "ani", "password": PASSWORDS["ani"]}, follow_redirects=False
    )
    assert r.status_code == 403
    assert "aspirasi_session" not in r.headers.get("set-cookie", "")
    assert web.client.get("/login").status_code == 200  # the page sets the token's cookie
    r = post(web, "/login", {"login": "ani", "password": PASSWORDS["ani"]})
    assert r.status_code == 303
    assert "aspirasi_session" in r.headers.get("set-cookie", "")


def test_session_id_changes_at_login_and_the_old_one_dies(web: WebWorld) -> None:
    web.login("ani")
    first = web.client.cookies.get("aspirasi_session")
    assert first
    web.login("ani")
    second = web.client.cookies.get("aspirasi_session")
    assert second and second != first
    web.client.cookies.set("aspirasi_session", first)
    r = web.client.get("/dashboard", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")


def test_logout_kills_the_session_on_the_server(web: WebWorld) -> None:
    web.login("ani")
    token = web.client.cookies.get("aspirasi_session")
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 200
    r = post(web, "/logout", {})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "aspirasi_session=;" in r.headers.get("set-cookie", "")
    web.client.cookies.set("aspirasi_session", token)  # replay the old cookie
    again = web.client.get("/dashboard", follow_redirects=False)
    assert again.status_code in (302, 303) and again.headers["location"].startswith("/login")


def test_logout_needs_csrf(web: WebWorld) -> None:
    web.login("ani")
    r = web.client.post("/logout", follow_redirects=False)
    assert r.status_code == 403
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 200


def test_a_file_sent_as_the_csrf_token_is_refused_not_a_server_error(web: WebWorld) -> None:
    web.login("ani")
    token = ("_csrf_token", ("token.txt", web.csrf().encode(), "text/plain"))
    r = web.client.post("/logout", files=[token], follow_redirects=False)
    assert r.status_code == 403
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 200


# ---------------------------------------------------------------------- register
NEW = {
    "email": "citra@example.org",
    "username": "citra",
    "full_name": "Citra Lestari",
    "nik": "6472046101950003",
    "password": "citra-long-password",
    "password_confirm": "citra-long-password",
}


def test_register_happy_path_and_known_email_answer_the_same(web: WebWorld) -> None:
    page = web.client.get("/register")
    assert page.status_code == 200
    for name in NEW:
        assert f'for="f-{name}"' in page.text
    before = account_count(web)
    r = post(web, "/register", NEW)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert account_count(web) == before + 1
    known = post(
        web,
        "/register",
        {**NEW, "email": "ani@example.org", "username": "ani2", "nik": "6472046101950011"},
    )
    assert known.status_code == r.status_code and known.headers["location"] == "/login"
    # A NIK a verified account holds (Ani's): answered alike, the outcome goes by mail.
    taken = post(
        web,
        "/register",
        {**NEW, "email": "eka@example.org", "username": "eka", "nik": "6472045504910001"},
    )
    assert taken.status_code == r.status_code and taken.headers["location"] == "/login"
    assert account_count(web) == before + 1
    assert "Kami telah mengirim email ke alamat yang Anda berikan" in web.client.get("/login").text


@pytest.mark.parametrize(
    ("lang", "change", "field", "text"),
    [
        (
            "id",
            {"password_confirm": "something-else-long"},
            "password_confirm",
            "Kedua kata sandi tidak sama.",
        ),
        (
            "en",
            {"password_confirm": "something-else-long"},
            "password_confirm",
            "The two passwords do not match.",
        ),
        ("id", {"nik": "123"}, "nik", "NIK terdiri dari tepat 16 digit angka"),
        ("en", {"email": "not-an-address"}, "email", "Enter a valid e-mail address."),
        ("en", {"username": "ani"}, "username", "This username is already taken."),
    ],
)
def test_register_bad_input(
    web: WebWorld, lang: str, change: dict[str, str], field: str, text: str
) -> None:
    before = account_count(web)
    r = post(web, f"/register?lang={lang}", {**NEW, **change})
    assert r.status_code == 422
    assert text in r.text
    assert f'aria-describedby="e-{field}"' in r.text
    assert 'value="Citra Lestari"' in r.text  # values kept …
    assert NEW["password"] not in r.text  # … except passwords
    assert account_count(web) == before


# ---------------------------------------------------------------------- verification
def test_verify_email_get_does_not_consume_post_does(web: WebWorld) -> None:
    unverify(web, "budi")
    token = make_token(web, "budi", TokenPurpose.VERIFY_EMAIL)
    page = web.client.get(f"/verify-email?token={token}")
    assert page.status_code == 200 and f'value="{token}"' in page.text
    assert acc(web, "budi").email_verified_at is None
    r = post(web, "/verify-email", {"token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert acc(web, "budi").email_verified_at is not None
    again = post(web, "/verify-email?lang=en", {"token": token})
    assert again.status_code == 422 and "This link is not valid or has expired." in again.text


def test_verify_pending_page_and_resend(web: WebWorld) -> None:
    unverify(web, "budi")
    web.login("budi")
    for path in ("/dashboard", "/my/messages", "/my/messages/new", "/settings"):
        r = web.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/verify-pending", path
    page = web.client.get("/verify-pending")
    assert page.status_code == 200 and "budi@example.org" in page.text
    r = post(web, "/verify-pending", {})
    assert r.status_code == 303 and r.headers["location"] == "/verify-pending"
    assert "Link verifikasi baru telah dikirim" in web.client.get("/verify-pending").text
    post(web, "/verify-pending", {})
    post(web, "/verify-pending", {})
    refused = post(web, "/verify-pending", {})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Terlalu banyak percobaan." in refused.text


def test_verify_pending_for_others(web: WebWorld) -> None:
    r = web.client.get("/verify-pending", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    web.login("ani")
    r = web.client.get("/verify-pending", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"


# ---------------------------------------------------------------------- passwords
def test_forgot_password_answers_the_same_for_any_address(web: WebWorld) -> None:
    assert web.client.get("/forgot-password").status_code == 200
    known = post(web, "/forgot-password", {"email": "ani@example.org"})
    unknown = post(web, "/forgot-password", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/login"
    bad = post(web, "/forgot-password?lang=en", {"email": "nope"})
    assert bad.status_code == 422 and "Enter a valid e-mail address." in bad.text


def test_reset_password_happy_path_and_bad_input(web: WebWorld) -> None:
    token = make_token(web, "ani", TokenPurpose.RESET_PASSWORD)
    page = web.client.get(f"/reset-password?token={token}")
    assert page.status_code == 200 and 'for="f-password_confirm"' in page.text
    mismatch = post(
        web,
        "/reset-password",
        {"token": token, "password": "brand-new-password", "password_confirm": "other-password-x"},
    )
    assert mismatch.status_code == 422 and "Kedua kata sandi tidak sama." in mismatch.text
    r = post(
        web,
        "/reset-password",
        {
            "token": token,
            "password": "brand-new-password",
            "password_confirm": "brand-new-password",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "Kata sandi Anda telah diubah. Silakan masuk." in web.client.get("/login").text
    login = post(web, "/login", {"login": "ani", "password": "brand-new-password"})
    assert login.status_code == 303
    reused = post(
        web,
        "/reset-password?lang=en",
        {
            "token": token,
            "password": "another-new-password",
            "password_confirm": "another-new-password",
        },
    )
    assert reused.status_code == 422 and "This link is not valid or has expired." in reused.text


def test_reset_password_without_token(web: WebWorld) -> None:
    r = web.client.get("/reset-password")
    assert r.status_code == 200 and "Link ini tidak valid" in r.text
    assert "<form" not in r.text.split("<main", 1)[1]


@pytest.mark.parametrize(
    "path", ["/register", "/forgot-password", "/reset-password", "/verify-email", "/login"]
)
def test_account_forms_need_csrf_from_a_signed_in_browser(web: WebWorld, path: str) -> None:
    web.login("budi")
    before = account_count(web)
    r = web.client.post(path, data={**NEW, "token": "x"}, follow_redirects=False)
    assert r.status_code == 403
    assert "Formulir sudah kedaluwarsa." in r.text
    assert account_count(web) == before


@pytest.mark.parametrize(
    ("lang", "title", "message"),
    [
        ("id", "Tidak diizinkan", "Formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi."),
        ("en", "Not allowed", "The form has expired. Reload the page and try again."),
    ],
)
def test_a_csrf_refusal_is_a_human_message_in_the_readers_language(
    web: WebWorld, lang: str, title: str, message: str
) -> None:
    web.login("ani")  # the session and CSRF cookies; the posts below leave the token out
    page = web.client.post(f"/logout?lang={lang}", data={})
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    main = page.text.split("<main", 1)[1]
    assert f"<h1>{title}</h1>" in main and message in main
    assert "csrf" not in main.lower()  # no raw code shown to the citizen
    api = web.client.patch(
        "/api/v1/me", json={"full_name": "Ani"}, headers={"Accept-Language": lang}
    )
    assert api.status_code == 403
    assert api.headers["content-type"].startswith("application/problem+json")
    body = api.json()
    assert (body["code"], body["title"], body["detail"]) == ("csrf", title, message)
