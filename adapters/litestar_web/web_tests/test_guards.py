"""Guards per permission: a role that may never do an action is answered 403
(nobody signed in: 401) before its body is read, so an empty or broken body from
the wrong role is never a 422."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .api_support import ApiWorld, build_world

API = "/api/v1"


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


#: (method, path with {mid}, the usernames whose role may never do it)
NEVER = [
    ("post", "/messages/{mid}/forward", ["ani", "op_pupr"]),
    ("post", "/messages/{mid}/reject", ["ani", "op_pupr"]),
    ("post", "/messages/{mid}/start", ["ani", "admin"]),
    ("post", "/messages/{mid}/progress", ["ani", "admin"]),
    ("post", "/messages/{mid}/reply", ["ani", "admin"]),
    ("post", "/messages/{mid}/reveal", ["ani", "admin", "op_pupr"]),
    ("post", "/messages/{mid}/rating", ["admin", "op_pupr"]),
    ("post", "/messages", ["admin", "op_pupr"]),
    ("post", "/admin/users", ["ani", "admin", "op_pupr"]),
    ("patch", "/admin/agencies/1", ["ani", "admin", "op_pupr"]),
    ("post", "/admin/nik-holder", ["ani", "admin", "op_pupr"]),
    ("get", "/backoffice/messages", ["ani"]),
    ("get", "/notifications", ["ani"]),
    ("get", "/admin/audit", ["ani", "admin", "op_pupr"]),
    # any signed-in account, its e-mail verified or not (signed_in_any): nobody is 401
    ("post", "/auth/verification-email", []),
    ("post", "/auth/resend-verification", []),
    ("post", "/auth/logout", []),
    ("get", "/me", []),
]
BODIES: list[dict[str, Any]] = [
    {"content": b"", "headers": {"Content-Type": "application/json"}},
    {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    {"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}},
]


@pytest.mark.parametrize(("method", "path", "users"), NEVER, ids=[f"{m} {p}" for m, p, _ in NEVER])
def test_a_role_that_may_never_act_gets_403_whatever_the_body(
    api: ApiWorld, method: str, path: str, users: list[str]
) -> None:
    mid = api.seed_message()
    url = API + path.format(mid=mid)
    for username in users:
        auth = api.bearer(username)
        for body in BODIES if method != "get" else [{"headers": {}}]:
            r = api.client.request(
                method.upper(), url, **{**body, "headers": {**body["headers"], **auth}}
            )
            assert r.status_code == 403, (username, body, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "users"), NEVER, ids=[f"{m} {p}" for m, p, _ in NEVER])
def test_nobody_signed_in_gets_401_and_a_bad_token_invalid_token(
    api: ApiWorld, method: str, path: str, users: list[str]
) -> None:
    url = API + path.format(mid=1)
    r = api.client.request(method.upper(), url, content=b"{not json")
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "login_required"
    assert r.headers["www-authenticate"] == 'Bearer realm="api"'
    r = api.client.request(
        method.upper(), url, content=b"{}", headers={"Authorization": "Bearer junk"}
    )
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "invalid_token"
    assert r.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_the_role_that_may_act_still_reaches_the_body_checks(api: ApiWorld) -> None:
    """The guard lets the right role through: its broken body is a 422 again."""
    mid = api.seed_message(forward_to=None)
    r = api.client.post(
        f"{API}/messages/{mid}/forward",
        content=b"{not json",
        headers={**api.bearer("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_json"
    r = api.client.post(f"{API}/admin/users", json={}, headers=api.bearer("root"))
    assert r.status_code == 422, r.text


# ------------------------------------------------------------------------- pages

#: A form whose field cannot be read (not UTF-8): parsing it answers 400
#: (test_bad_input_never_500), so a 403 proves the form was never parsed.
UNREADABLE_FORM: dict[str, Any] = {
    "content": b'--XX\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
    b"\xff\xfe\xfd\r\n--XX--\r\n",
    "headers": {"Content-Type": "multipart/form-data; boundary=XX"},
}
#: (page form with {mid}, the usernames whose role may never post it)
PAGES_NEVER = [
    ("/backoffice/messages/{mid}/forward", ["ani"]),
    ("/backoffice/messages/{mid}/reply", ["ani"]),
    ("/backoffice/messages/{mid}/return", ["ani"]),
    ("/backoffice/messages/{mid}/reopen", ["ani", "op_pupr"]),
    ("/backoffice/messages/{mid}/review/dismiss", ["ani", "op_pupr"]),
    ("/backoffice/messages/{mid}/followups", ["ani"]),
    ("/backoffice/messages/{mid}/reveal", ["ani", "admin", "op_pupr"]),
    ("/backoffice/notifications/read", ["ani"]),
    ("/admin/nik-release", ["ani", "admin", "op_pupr"]),
]


@pytest.mark.parametrize(("path", "users"), PAGES_NEVER, ids=[p for p, _ in PAGES_NEVER])
def test_a_page_form_of_a_role_that_may_never_post_it_is_refused_unread(
    api: ApiWorld, path: str, users: list[str]
) -> None:
    """The route's guard answers the error page before the form is parsed (a bearer
    token needs no CSRF token, so nothing else reads the body first)."""
    url = path.format(mid=api.seed_message())
    for username in users:
        r = api.client.post(
            url,
            content=UNREADABLE_FORM["content"],
            headers={**UNREADABLE_FORM["headers"], **api.bearer(username)},
            follow_redirects=False,
        )
        assert r.status_code == 403, (username, r.text)
        assert r.headers["content-type"].startswith("text/html")


def test_a_page_form_of_the_role_that_may_post_it_is_read(api: ApiWorld) -> None:
    """The guard lets staff through: their unreadable form is a 400 again; nobody
    signed in is sent to log in."""
    mid = api.seed_message(forward_to=None)
    for path, username in [
        (f"/backoffice/messages/{mid}/forward", "admin"),
        (f"/backoffice/messages/{mid}/reveal", "root"),
        ("/admin/nik-release", "root"),
    ]:
        r = api.client.post(
            path,
            content=UNREADABLE_FORM["content"],
            headers={**UNREADABLE_FORM["headers"], **api.bearer(username)},
        )
        assert r.status_code == 400, (path, r.text)
    api.client.cookies.clear()
    for path in ("/backoffice/notifications", "/admin/audit", f"/backoffice/messages/{mid}"):
        r = api.client.get(path, follow_redirects=False)
        assert r.status_code == 302, path
        assert r.headers["location"].startswith("/login"), path
