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
