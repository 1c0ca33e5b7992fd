"""The tutorial's whole business process through the JSON API, with the mail
read from a real local SMTP server (notify_email delivering through the outbox)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .api_support import ApiWorld, build_world, jpeg_bytes, pdf_bytes
from .smtp_sink import SmtpSink, smtp  # noqa: F401 - the fixture
from .world import PASSWORDS


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any, smtp: SmtpSink) -> Iterator[ApiWorld]:  # noqa: F811
    yield from build_world(sqlite_database, tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port)


def deliver(api: ApiWorld) -> None:
    """Run the outbox dispatcher until nothing is due (as `aspirasi outbox run` would)."""
    while api.core.outbox.run_once_sync().handled:
        pass


def link_token(text: str, path: str) -> str:
    match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)


NIK = "6472046512900003"


def test_whole_process_through_the_api(api: ApiWorld, smtp: SmtpSink) -> None:  # noqa: F811
    c = api.client
    anon = {"Authorization": "Bearer none"}  # API clients skip the CSRF cookie dance
    password = "sari-long-password"

    # register (and the same answer for a known e-mail)
    body = {
        "email": "sari@example.org",
        "username": "sari",
        "full_name": "Sari",
        "nik": NIK,
        "password": password,
        "password_confirm": password,
    }
    r = c.post("/api/v1/auth/register", json=body, headers=anon)
    assert r.status_code == 201, r.text
    again = c.post(
        "/api/v1/auth/register",
        json={**body, "username": "sari2", "nik": "6472046512900004"},
        headers=anon,
    )
    assert again.status_code == 201 and again.json() == r.json()

    # an unverified account may log in, read itself, but not send messages
    login = c.post(
        "/api/v1/auth/login", json={"login": "sari@example.org", "password": password}, headers=anon
    )
    assert login.status_code == 200, login.text
    assert "aspirasi_session" in login.headers.get("set-cookie", "")
    assert "no-store" in login.headers["cache-control"]
    sari = {"Authorization": f"Bearer {login.json()['token']}"}
    assert login.json()["user"]["email_verified"] is False
    assert c.get("/api/v1/me", headers=sari).json()["username"] == "sari"
    refused = c.post("/api/v1/messages", data={"subject": "x", "body": "y"}, headers=sari)
    assert refused.status_code == 403 and refused.json()["code"] == "email_unverified"

    # verify with the link of the mail that reached the SMTP server
    deliver(api)
    mails = smtp.to("sari@example.org")
    assert len(mails) == 2  # the verification, and the notice about the second registration
    verification = next(m for m in mails if "verify-email" in smtp.text(m))
    assert verification["Subject"] and "ASPIRASI ETAM" in verification["Subject"]
    token = link_token(smtp.text(verification), "http://127.0.0.1:8000/verify-email")
    r = c.post("/api/v1/auth/verify-email", json={"token": token}, headers=anon)
    assert r.status_code == 200, r.text
    assert c.get("/api/v1/me", headers=sari).json()["email_verified"] is True

    # submit with a JPG
    r = c.post(
        "/api/v1/messages",
        data={
            "subject": "Jalan rusak di Jl. Juanda",
            "body": "Berlubang besar.",
            "anonymous": "false",
        },
        files={"attachment": ("foto.jpg", jpeg_bytes(), "image/jpeg")},
        headers=sari,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    mid = created["id"]
    assert created["status"] == "submitted" and created["ticket"]
    mine = c.get("/api/v1/me/messages", headers=sari).json()
    assert [m["id"] for m in mine["items"]] == [mid] and mine["next_cursor"] is None
    detail = c.get(f"/api/v1/messages/{mid}", headers=sari).json()
    assert detail["attachments"][0]["content_type"] == "image/jpeg"
    url = detail["attachments"][0]["url"]
    download = c.get(url, headers=sari)
    assert download.status_code == 200 and download.content[:3] == b"\xff\xd8\xff"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert c.get(url, headers=api.bearer("budi")).status_code == 404

    # the admin sees it and forwards it to Dinas PUPR
    admin = api.bearer("admin")
    notes = c.get("/api/v1/notifications", headers=admin).json()["items"]
    assert any(n["message_id"] == mid for n in notes)
    listed = c.get("/api/v1/backoffice/messages?status=submitted", headers=admin).json()
    assert mid in [m["id"] for m in listed["items"]]
    r = c.post(
        f"/api/v1/messages/{mid}/forward",
        json={
            "category_id": api.ids["cat_aduan"],
            "subcategory_id": api.ids["sub_infra"],
            "agency_id": api.ids["agency_pupr"],
            "note": "Mohon ditindaklanjuti",
        },
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["status"] == "forwarded", r.text

    # the other agency cannot see it; PUPR's operator starts, updates, replies
    assert c.get(f"/api/v1/messages/{mid}", headers=api.bearer("op_dinkes")).status_code == 404
    op = api.bearer("op_pupr")
    listed = c.get("/api/v1/backoffice/messages", headers=op).json()
    assert [m["id"] for m in listed["items"]] == [mid]
    assert c.post(f"/api/v1/messages/{mid}/start", json={}, headers=op).json()["status"] == (
        "in_progress"
    )
    r = c.post(f"/api/v1/messages/{mid}/progress", json={"note": "Tim sudah survei."}, headers=op)
    assert r.status_code == 200, r.text
    r = c.post(
        f"/api/v1/messages/{mid}/reply",
        data={"answer": "Jalan sudah diperbaiki."},
        files={"attachment": ("laporan.pdf", pdf_bytes(), "application/pdf")},
        headers=op,
    )
    assert r.status_code == 200 and r.json()["status"] == "done", r.text

    # the citizen reads the log and the reply, and rates once
    detail = c.get(f"/api/v1/messages/{mid}", headers=sari).json()
    assert detail["status"] == "done" and detail["agency"]["code"] == "pupr"
    assert detail["reply"]["answer"] == "Jalan sudah diperbaiki."
    assert detail["reply"]["attachment"]["content_type"] == "application/pdf"
    assert "rate" in detail["actions"]
    log = c.get(f"/api/v1/messages/{mid}/log", headers=sari).json()["items"]
    assert [e["to_status"] for e in log] == [
        "submitted",
        "forwarded",
        "in_progress",
        "in_progress",
        "done",
    ]
    assert log[0]["at"].endswith("Z")
    r = c.post(
        f"/api/v1/messages/{mid}/rating", json={"stars": 5, "comment": "Cepat"}, headers=sari
    )
    assert r.status_code == 201 and r.json()["stars"] == 5, r.text
    again = c.post(f"/api/v1/messages/{mid}/rating", json={"stars": 4}, headers=sari)
    assert again.status_code == 409

    # the mail: admins on submission, the agency's operators on forwarding, the
    # citizen on every step, each once
    deliver(api)
    assert len(smtp.to("admin@example.org")) == 1
    assert len(smtp.to("op-pupr@example.org")) == 1
    assert smtp.to("op-dinkes@example.org") == []
    assert len(smtp.to("sari@example.org")) == 2 + 4  # forward, start, progress, reply
    ids = [m["Message-ID"] for m in smtp.inbox]
    assert len(ids) == len(set(ids))

    # public tracking by NIK shows it, with its log
    r = c.post("/api/v1/public/tracking", json={"nik": NIK}, headers=anon)
    assert r.status_code == 200, r.text
    tracked = r.json()["items"]
    assert tracked[0]["ticket"] == created["ticket"] and tracked[0]["status"] == "done"
    assert len(tracked[0]["log"]) == 5
    public = c.get("/api/v1/public/messages").json()
    assert created["ticket"] in [m["ticket"] for m in public["items"]]
    assert "author" not in public["items"][0]

    # log out: the token is dead on the server
    assert c.post("/api/v1/auth/logout", headers=sari).status_code == 204
    dead = c.get("/api/v1/me", headers=sari)
    assert dead.status_code == 401 and dead.json()["code"] == "invalid_token"


def test_login_sets_a_new_session_and_cookie_requests_need_csrf(api: ApiWorld) -> None:
    c = api.client
    api.login("ani")  # HTML form: a session cookie
    old = c.cookies.get("aspirasi_session")
    csrf = api.csrf()
    r = c.post(
        "/api/v1/auth/login",
        json={"login": "ani", "password": PASSWORDS["ani"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    new = c.cookies.get("aspirasi_session")
    assert new and new != old
    assert c.get("/api/v1/me").json()["username"] == "ani"
    # the old session is dead (a new id at log-in)
    c.cookies.set("aspirasi_session", old)
    assert c.get("/api/v1/me").status_code == 401
    c.cookies.set("aspirasi_session", new)
    # cookie-authenticated unsafe request without the header: refused
    r = c.patch("/api/v1/me", json={"full_name": "Ani S"})
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    r = c.patch("/api/v1/me", json={"full_name": "Ani S"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["full_name"] == "Ani S"
    # a bearer request ignores the cookies and needs no CSRF token
    r = c.patch("/api/v1/me", json={"language": "en"}, headers=api.bearer("budi"))
    assert r.status_code == 200 and r.json()["username"] == "budi"
    # logout kills the session
    assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    c.cookies.set("aspirasi_session", new)
    assert c.get("/api/v1/me").status_code == 401


def test_a_cookie_client_gets_its_csrf_token_from_the_api(api: ApiWorld) -> None:
    """A web app on this site keeps the log-in's session cookie: it asks the API for
    the token its unsafe requests repeat, no HTML page needed."""
    c = api.client
    c.cookies.clear()
    r = c.post("/api/v1/auth/login", json={"login": "ani", "password": PASSWORDS["ani"]})
    assert r.status_code == 200 and c.cookies.get("aspirasi_session")
    refused = c.patch("/api/v1/me", json={"full_name": "Ani S"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf"
    got = c.get("/api/v1/auth/csrf")
    assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
    body = got.json()
    assert body["header"] == "x-csrf-token"
    r = c.patch(
        "/api/v1/me", json={"full_name": "Ani S"}, headers={body["header"]: body["csrf_token"]}
    )
    assert r.status_code == 200 and r.json()["full_name"] == "Ani S"


def test_a_client_without_cookies_uses_the_api_with_json_alone(api: ApiWorld) -> None:
    """No cookie jar, no CSRF dance, no ``Authorization: Bearer none`` trick: JSON alone."""
    from http.cookiejar import CookieJar, DefaultCookiePolicy

    from litestar.testing import TestClient

    no_jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    with TestClient(app=api.app, base_url="http://127.0.0.1:8000", cookies=no_jar) as c:
        password = "dewi-long-password"
        r = c.post(
            "/api/v1/auth/register",
            json={
                "email": "dewi@example.org",
                "username": "dewi",
                "full_name": "Dewi",
                "nik": "6472046512900007",
                "password": password,
                "password_confirm": password,
            },
        )
        assert r.status_code == 201, r.text
        r = c.post("/api/v1/auth/verify-email", json={"token": api.recorder.last("verif")})
        assert r.status_code == 200, r.text
        r = c.post("/api/v1/auth/forgot-password", json={"email": "dewi@example.org"})
        assert r.status_code == 202, r.text
        new = "dewi-new-long-password"
        r = c.post(
            "/api/v1/auth/reset-password",
            json={"token": api.recorder.last("reset"), "password": new, "password_confirm": new},
        )
        assert r.status_code == 200, r.text
        r = c.post("/api/v1/auth/login", json={"login": "dewi", "password": new})
        assert r.status_code == 200, r.text
        dewi = {"Authorization": f"Bearer {r.json()['token']}"}
        assert c.get("/api/v1/me", headers=dewi).json()["email_verified"] is True
        r = c.post("/api/v1/public/tracking", json={"nik": "6472046512900007"})
        assert r.status_code == 200, r.text
        assert not c.cookies  # nothing was kept, nothing was needed
        # an anonymous unsafe request to a route that needs an account: 401, not 403 csrf
        for method, path in [("PATCH", "/api/v1/me"), ("POST", "/api/v1/auth/logout")]:
            r = c.request(method, path, json={"full_name": "X"})
            assert r.status_code == 401, (path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")


def test_an_anonymous_form_post_to_an_api_route_needing_an_account_answers_401(
    api: ApiWorld,
) -> None:
    """Without the session cookie there is nothing to forge: an API operation that
    needs credentials answers 401 to a form or multipart body too, not 403 ``csrf``
    (the log-in CSRF rule stays for the operations open to anyone and the pages)."""
    c = api.client
    c.cookies.clear()
    mid = api.seed_message()
    sent = [
        ("POST", f"/api/v1/messages/{mid}/reply", {"files": {"attachment": ("a.pdf", b"%PDF-")}}),
        ("POST", "/api/v1/messages", {"data": {"subject": "s", "body": "b"}, "files": {}}),
        ("POST", f"/api/v1/messages/{mid}/followups", {"data": {"body": "b"}}),
        ("PATCH", "/api/v1/me", {"data": {"full_name": "X"}}),
        (
            "POST",
            "/api/v1/auth/logout",
            {"content": "x", "headers": {"content-type": "text/plain"}},
        ),
    ]
    for method, path, body in sent:
        r = c.request(method, path, **body)  # type: ignore[arg-type]
        assert r.status_code == 401, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "login_required"
    # an operation open to anyone reads a body sent as JSON only: a form, or JSON
    # sent as text/plain (what another site's page can make a browser send), signs
    # nobody in (log-in CSRF), and needs no CSRF token to be refused
    login = {"login": "ani", "password": PASSWORDS["ani"]}
    for body in (
        {"data": login},
        {"content": json.dumps(login), "headers": {"content-type": "text/plain"}},
        {"content": json.dumps(login), "headers": {"content-type": ""}},
    ):
        r = c.post("/api/v1/auth/login", **body)  # type: ignore[arg-type]
        assert r.status_code == 422 and r.json()["code"] == "invalid_json", (body, r.text)
        assert "aspirasi_session" not in r.cookies
    # a session cookie that signs nobody in (expired, logged out) is no session: the
    # same 401, and a JSON log-in needs no token (a mobile app's stale cookie jar)
    c.cookies.set("aspirasi_session", "expired-or-unknown")
    for method, path, body in sent:
        r = c.request(method, path, **body)  # type: ignore[arg-type]
        assert r.status_code == 401 and r.json()["code"] == "login_required", (path, r.text)
    r = c.post("/api/v1/auth/login", json={"login": "ani", "password": PASSWORDS["ani"]})
    assert r.status_code == 200, r.text
    # ... while a form log-in is still refused (log-in CSRF)
    c.cookies.clear()  # the log-in above set a live session
    c.cookies.set("aspirasi_session", "expired-or-unknown")
    r = c.post("/api/v1/auth/login", data=login)
    assert r.status_code == 422 and "aspirasi_session" not in r.cookies


def test_the_csrf_cookie_is_signed_and_a_forged_pair_is_refused(api: ApiWorld) -> None:
    """A cookie tossed by a sibling site with a token of its own making does not pass:
    the token is signed with the server's key."""
    c = api.client
    api.login("ani")
    forged = "a" * 64 + "b" * 64
    c.cookies.set("aspirasi_csrf", forged)
    r = c.patch("/api/v1/me", json={"full_name": "Ani F"}, headers={"X-CSRF-Token": forged})
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    # answered like any other refusal: with the security headers
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-request-id"]


def test_a_form_posted_from_another_site_cannot_log_the_visitor_in(api: ApiWorld) -> None:
    """Log-in CSRF: a page elsewhere posts the attacker's credentials to the visitor's
    browser, which has no session here. A form, or ``text/plain`` JSON (what a
    ``no-cors`` fetch can send), is not read as JSON by the API (and a page's form
    needs the token like any cookie request); JSON sent as
    ``application/json`` (which a browser only sends cross-site after CORS allows it)
    stays open to clients without cookies."""
    c = api.client
    c.cookies.clear()
    creds = {"login": "ani", "password": PASSWORDS["ani"]}
    r = c.post("/login", data=creds, follow_redirects=False)
    assert r.status_code == 403
    assert "aspirasi_session" not in r.headers.get("set-cookie", "")
    r = c.post(
        "/api/v1/auth/login",
        content=json.dumps(creds),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_json"
    assert "aspirasi_session" not in r.headers.get("set-cookie", "")
    assert c.post("/api/v1/auth/login", json=creds).status_code == 200
