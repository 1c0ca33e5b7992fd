"""HTTP done right: ``Allow`` on 405, HEAD wherever GET works, OPTIONS naming the
real methods, one rule for ``limit``, strict numbers in paths and queries, strict
flags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from .api_support import ApiWorld, build_world


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def methods(header: str) -> set[str]:
    return {m.strip() for m in header.split(",")}


def test_405_names_the_allowed_methods_and_options_the_real_ones(api: ApiWorld) -> None:
    c = api.client
    r = c.delete("/api/v1/public/messages")
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")
    assert methods(r.headers["allow"]) >= {"GET", "HEAD"}
    assert "DELETE" not in methods(r.headers["allow"])
    r = c.put("/api/v1/auth/login", json={})
    assert r.status_code == 405 and methods(r.headers["allow"]) >= {"POST"}
    assert "GET" not in methods(r.headers["allow"])
    r = c.options("/api/v1/public/messages")
    assert r.status_code == 204, r.text
    assert methods(r.headers["allow"]) == {"GET", "HEAD", "OPTIONS"}
    # paths with several handlers: every method, as the 405 of the same path says
    # (Litestar 2's own answer named only the first handler's)
    for path, expected in (
        ("/api/v1/me", {"GET", "HEAD", "OPTIONS", "PATCH", "DELETE"}),
        (f"/api/v1/messages/{api.seed_message()}", {"GET", "HEAD", "OPTIONS", "DELETE"}),
        ("/api/v1/admin/users", {"GET", "HEAD", "OPTIONS", "POST"}),
    ):
        r = c.options(path)
        assert r.status_code == 204 and methods(r.headers["allow"]) == expected, (path, r.headers)
        assert methods(c.put(path).headers["allow"]) == expected, path


def test_head_works_wherever_get_does(api: ApiWorld) -> None:
    c = api.client
    for path in ("/", "/api/v1/public/messages", "/static/js/app.js", "/healthz"):
        get = c.get(path)
        head = c.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
    # HEAD on a route that needs an account answers as GET would: 401
    assert c.head("/api/v1/me").status_code == 401


def test_the_request_log_says_head_for_a_head_request(api: ApiWorld) -> None:
    """HEAD is served by the GET route, but logged as what the client sent."""
    with capture_logs() as logs:
        assert api.client.head("/api/v1/public/messages").status_code == 200
        assert api.client.get("/api/v1/public/messages").status_code == 200
    lines = [e for e in logs if e["event"] == "request"]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("HEAD", "/api/v1/public/messages", 200),
        ("GET", "/api/v1/public/messages", 200),
    ]


@pytest.mark.parametrize("limit", ["0", "101", "999999", "1000000", " 5", "05", "５", "-1"])
def test_a_limit_out_of_range_or_oddly_spelled_is_refused(api: ApiWorld, limit: str) -> None:
    r = api.client.get("/api/v1/public/messages", params={"limit": limit})
    assert r.status_code == 422, limit
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0] == {
        "field": "limit",
        "code": "bad_limit",
        "message": r.json()["errors"][0]["message"],
    }


def test_the_largest_limit_is_taken(api: ApiWorld) -> None:
    assert api.client.get("/api/v1/public/messages", params={"limit": "100"}).status_code == 200


@pytest.mark.parametrize(
    "spell",
    [
        lambda n: f" {n}",
        lambda n: f"0{n}",
        lambda n: "".join(chr(0xFF10 + int(d)) for d in str(n)),  # full-width digits
        lambda n: f"+{n}",
    ],
    ids=["space", "leading-zero", "full-width", "plus"],
)
def test_numbers_in_paths_and_queries_are_plain_digits(api: ApiWorld, spell: Any) -> None:
    mid = api.seed_message()
    staff = api.bearer("admin")
    assert api.client.get(f"/api/v1/messages/{mid}", headers=staff).status_code == 200
    r = api.client.get(f"/api/v1/messages/{spell(mid)}", headers=staff)
    assert r.status_code == 422, (spell(mid), r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "message_id"
    agency = api.ids["agency_pupr"]
    q = api.client.get(
        "/api/v1/backoffice/messages", params={"agency_id": spell(agency)}, headers=staff
    )
    assert q.status_code == 422, spell(agency)
    assert q.json()["errors"][0]["field"] == "agency_id"


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        ("true", 200),
        ("1", 200),
        ("false", 200),
        ("0", 200),
        ("yes", 422),
        ("TRUE", 422),
        ("", 200),  # empty is absent, as for every flag (api.common.FLAG_RULE)
        ("x", 422),
    ],
)
def test_flags_are_true_or_false_and_nothing_else(api: ApiWorld, sent: str, status: int) -> None:
    r = api.client.get(
        "/api/v1/notifications", params={"unread": sent}, headers=api.bearer("admin")
    )
    assert r.status_code == status, (sent, r.text)
    if status == 422:
        assert r.json()["errors"][0]["field"] == "unread"


def test_the_schema_says_what_limit_and_flags_accept(api: ApiWorld) -> None:
    schema = api.client.get("/schema/openapi.json").json()

    def param(path: str, name: str) -> dict[str, Any]:
        found = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
        return found[0]["schema"]  # type: ignore[no-any-return]

    for path in ("/api/v1/public/messages", "/api/v1/backoffice/messages", "/api/v1/notifications"):
        limit = param(path, "limit")
        assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 100), path
    assert param("/api/v1/notifications", "unread")["type"] == "boolean"


def test_answers_before_any_route_are_logged_with_a_request_id(api: ApiWorld) -> None:
    """An unknown path and a method a path does not take are answered before any
    route (and its middleware) runs: they still get a request id in the answer and
    one request log line with it, like every other request."""
    with capture_logs() as logs:
        unknown = api.client.get("/no/such/page")
        wrong = api.client.put("/api/v1/public/messages")
        known = api.client.get("/api/v1/public/messages")
    assert (unknown.status_code, wrong.status_code, known.status_code) == (404, 405, 200)
    lines = [e for e in logs if e["event"] == "request"]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("GET", "/no/such/page", 404),
        ("PUT", "/api/v1/public/messages", 405),
        ("GET", "/api/v1/public/messages", 200),
    ]
    for answer, line in zip((unknown, wrong), lines, strict=False):
        assert len(answer.headers["x-request-id"]) == 32
        assert line["request_id"] == answer.headers["x-request-id"]
