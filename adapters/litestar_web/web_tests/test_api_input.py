"""Bad input on every JSON API route: a 422 (or 400) problem+json with
``errors`` [{field, code, message}] in the reader's language, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from .api_support import ApiWorld, build_world


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


PROBLEM = "application/problem+json"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")

# (method, path, actor, kind, payload, query, field expected in errors)
# kind: "json" | "form" | "raw"
CASES: list[tuple[str, str, str | None, str, Any, str, str]] = [
    ("POST", "/api/v1/auth/register", None, "json", {}, "", "email"),
    (
        "POST",
        "/api/v1/auth/register",
        None,
        "json",
        {"email": 1, "username": [], "full_name": {}, "nik": 5, "password": 1.5},
        "",
        "nik",
    ),
    ("POST", "/api/v1/auth/register", None, "json", {"nik": "1234"}, "", "nik"),
    ("POST", "/api/v1/auth/verify-email", None, "json", {"token": 5}, "", "token"),
    ("POST", "/api/v1/auth/verify-email", None, "json", {"token": "nope"}, "", "token"),
    (
        "POST",
        "/api/v1/auth/verify-email",
        None,
        "json",
        {"token": "nope", "username": "!!!"},
        "",
        "username",
    ),
    ("POST", "/api/v1/admin/nik-holder", "root", "json", {"nik": "1234"}, "", "nik"),
    ("POST", "/api/v1/admin/nik-holder", "root", "json", {"nik": 5}, "", "nik"),
    (
        "POST",
        "/api/v1/admin/nik-releases",
        "root",
        "json",
        {"nik": "6472045504910001", "reason": "  "},
        "",
        "reason",
    ),
    ("POST", "/api/v1/auth/login", None, "json", {"login": 5, "password": []}, "", "login"),
    ("POST", "/api/v1/auth/login", None, "raw", b"{not json", "", "body"),
    ("POST", "/api/v1/auth/forgot-password", None, "json", {"email": "nope"}, "", "email"),
    ("POST", "/api/v1/auth/forgot-password", None, "raw", b"[1, 2]", "", "body"),
    ("POST", "/api/v1/auth/reset-password", None, "json", {"token": ""}, "", "token"),
    ("PATCH", "/api/v1/me", "ani", "json", {"language": "fr"}, "", "language"),
    ("PATCH", "/api/v1/me", "ani", "json", {"full_name": 5}, "", "full_name"),
    ("PATCH", "/api/v1/me", "ani", "raw", b'"text"', "", "body"),
    ("POST", "/api/v1/me/password", "ani", "json", {}, "", "current_password"),
    ("DELETE", "/api/v1/me", "ani", "json", {}, "", "password"),
    ("DELETE", "/api/v1/me", "ani", "json", {"password": ["x"]}, "", "password"),
    ("DELETE", "/api/v1/me", "ani", "json", {"password": "not-it"}, "", "password"),
    ("DELETE", "/api/v1/me", "ani", "raw", b"[1]", "", "body"),
    ("POST", "/api/v1/messages", "ani", "form", {"subject": "", "body": ""}, "", "subject"),
    ("POST", "/api/v1/messages", "ani", "json", {"subject": 1, "body": []}, "", "subject"),
    (
        "POST",
        "/api/v1/messages",
        "ani",
        "form",
        {"subject": "a", "body": "b", "confidential": "maybe"},
        "",
        "confidential",
    ),
    ("POST", "/api/v1/messages", "ani", "file", ("x.exe", b"MZ\x90\x00evil"), "", "attachment"),
    (
        "POST",
        "/api/v1/messages",
        "ani",
        "json",
        {"subject": "a", "body": "b", "attachment": "x"},
        "",
        "attachment",
    ),
    ("GET", "/api/v1/me/messages", "ani", "none", None, "cursor=zzz", "cursor"),
    ("GET", "/api/v1/me/messages", "ani", "none", None, "limit=abc", "limit"),
    ("GET", "/api/v1/me/messages", "ani", "none", None, "limit=" + "9" * 5000, "limit"),
    ("POST", "/api/v1/messages/{message_id}/rating", "ani", "json", {"stars": 9}, "", "stars"),
    ("GET", "/api/v1/public/messages", None, "none", None, "cursor=%%%", "cursor"),
    ("GET", "/api/v1/land-issues", "root", "none", None, "status=foo", "status"),
    ("GET", "/api/v1/land-issues", "root", "none", None, "limit=0", "limit"),
    ("POST", "/api/v1/public/tracking", None, "json", {"nik": "123"}, "", "nik"),
    ("GET", "/api/v1/public/record/entries/{entry_hash}", None, "none", None, "", "hash"),
    ("GET", "/api/v1/public/record/roots", None, "none", None, "limit=0", "limit"),
    ("POST", "/api/v1/public/tracking", None, "json", {"nik": ["x"]}, "", "nik"),
    ("GET", "/api/v1/backoffice/messages", "admin", "none", None, "status=foo", "status"),
    (
        "GET",
        "/api/v1/backoffice/messages",
        "admin",
        "none",
        None,
        "date_from=2026-13-01",
        "date_from",
    ),
    ("GET", "/api/v1/backoffice/messages", "admin", "none", None, "date_to=tomorrow", "date_to"),
    ("GET", "/api/v1/backoffice/messages", "admin", "none", None, "agency_id=x", "agency_id"),
    ("GET", "/api/v1/backoffice/messages", "admin", "none", None, "regency=64.99", "regency"),
    (
        "POST",
        "/api/v1/messages",
        "ani",
        "json",
        {"subject": "Jalan", "body": "Rusak.", "regency": "64.72", "district": "64.74.01"},
        "",
        "district",
    ),
    (
        "POST",
        "/api/v1/messages",
        "ani",
        "form",
        {"subject": "Jalan", "body": "Rusak.", "latitude": "-0,5", "longitude": "east"},
        "",
        "longitude",
    ),
    ("GET", "/api/v1/backoffice/messages", "admin", "none", None, "sort=xyz", "sort"),
    ("GET", "/api/v1/backoffice/messages", "admin", "none", None, "overdue=maybe", "overdue"),
    (
        "GET",
        "/api/v1/backoffice/directory",
        "op_pupr",
        "none",
        None,
        "include_inactive=maybe",
        "include_inactive",
    ),
    (
        "POST",
        "/api/v1/messages/{message_id}/forward",
        "admin",
        "json",
        {"category_id": "x", "subcategory_id": None, "agency_id": True},
        "",
        "category_id",
    ),
    (
        "POST",
        "/api/v1/messages/{message_id}/forward",
        "admin",
        "json",
        {"category_id": 999, "subcategory_id": 999, "agency_id": 999},
        "",
        "agency_id",
    ),
    ("POST", "/api/v1/messages/{message_id}/reject", "admin", "json", {"reason": ""}, "", "reason"),
    ("POST", "/api/v1/messages/{message_id}/start", "op_pupr", "json", {"note": 5}, "", "note"),
    (
        "POST",
        "/api/v1/messages/{message_id}/progress",
        "op_pupr",
        "json",
        {"note": ""},
        "",
        "note",
    ),
    (
        "POST",
        "/api/v1/messages/{message_id}/reply",
        "op_pupr",
        "form",
        {"answer": ""},
        "",
        "answer",
    ),
    ("GET", "/api/v1/notifications", "admin", "none", None, "limit=0", "limit"),
    # work that continues (api/followups.py)
    (
        "POST",
        "/api/v1/messages/{message_id}/followups",
        "op_pupr",
        "json",
        {"body": ""},
        "",
        "body",
    ),
    (
        "POST",
        "/api/v1/messages/{message_id}/return",
        "op_pupr",
        "json",
        {"reason": ""},
        "",
        "reason",
    ),
    ("POST", "/api/v1/messages/{message_id}/reopen", "admin", "json", {"reason": 5}, "", "reason"),
    ("GET", "/api/v1/reviews", "admin", "none", None, "closed=maybe", "closed"),
    ("POST", "/api/v1/admin/invitations", "root", "json", {"email": 5}, "", "email"),
    (
        "POST",
        "/api/v1/admin/invitations",
        "root",
        "json",
        {"email": "x@example.org", "role": "operator", "permissions": "all"},
        "",
        "permissions",
    ),
    (
        "POST",
        "/api/v1/admin/users",
        "root",
        "json",
        {"email": "x", "role": "king", "permissions": "all"},
        "",
        "permissions",
    ),
    (
        "POST",
        "/api/v1/admin/users",
        "root",
        "json",
        {
            "email": "new@example.org",
            "username": "newop",
            "full_name": "New",
            "password": "new-long-password",
            "role": "operator",
        },
        "",
        "agency_id",
    ),
    (
        "PATCH",
        "/api/v1/admin/users/{account_id}",
        "root",
        "json",
        {"permissions": ["nope"]},
        "",
        "permissions",
    ),
    (
        "PATCH",
        "/api/v1/admin/users/{account_id}",
        "root",
        "json",
        {"is_active": "no"},
        "",
        "is_active",
    ),
    ("PATCH", "/api/v1/admin/users/{account_id}", "root", "json", {"role": 5}, "", "role"),
    ("GET", "/api/v1/admin/users", "root", "none", None, "agency_id=-1", "agency_id"),
    (
        "POST",
        "/api/v1/admin/agencies",
        "root",
        "json",
        {"code": "BAD CODE!", "name": ""},
        "",
        "code",
    ),
    (
        "PATCH",
        "/api/v1/admin/agencies/{agency_id}",
        "root",
        "json",
        {"is_active": "x"},
        "",
        "is_active",
    ),
    ("POST", "/api/v1/admin/categories", "root", "json", {}, "", "code"),
    ("PATCH", "/api/v1/admin/categories/{category_id}", "root", "json", {"name": 5}, "", "name"),
    (
        "PATCH",
        "/api/v1/admin/categories/{category_id}",
        "root",
        "json",
        {"is_active": False},
        "",
        "is_active",
    ),
    (
        "POST",
        "/api/v1/admin/subcategories",
        "root",
        "json",
        {"category_id": 99999, "code": "x", "name": "y"},
        "",
        "category_id",
    ),
    ("GET", "/api/v1/admin/subcategories", "root", "none", None, "category_id=a", "category_id"),
    (
        "PATCH",
        "/api/v1/admin/subcategories/{subcategory_id}",
        "root",
        "json",
        {"name": ""},
        "",
        "name",
    ),
    (
        "PATCH",
        "/api/v1/admin/subcategories/{subcategory_id}",
        "root",
        "json",
        {"sop_reply_days": 0},
        "",
        "sop_reply_days",
    ),
    ("GET", "/api/v1/admin/days-off", "root", "none", None, "year=20x6", "year"),
    ("POST", "/api/v1/admin/days-off", "root", "json", {"day": "4 Nov", "name": "x"}, "", "day"),
    ("POST", "/api/v1/admin/days-off", "root", "json", {"day": "2030-01-02"}, "", "name"),
    ("GET", "/api/v1/evaluator/report", "root", "none", None, "from=2026-02-30", "from"),
    ("GET", "/api/v1/evaluator/messages", "root", "none", None, "status=foo", "status"),
    ("POST", "/api/v1/evaluator/reprimands", "root", "json", {"text": "x"}, "", "agency_id"),
    ("GET", "/api/v1/reprimands", "root", "none", None, "limit=0", "limit"),
    ("POST", "/api/v1/messages/{message_id}/reveal", "root", "json", {"reason": "x"}, "", "reason"),
    ("GET", "/api/v1/admin/audit", "root", "none", None, "action=Not+An+Action", "action"),
    ("GET", "/api/v1/admin/audit", "root", "none", None, "date_to=2026-02-30", "date_to"),
]

#: Routes whose bad-input cases need an account this world does not have: an
#: unverified one (test_pages_links_and_waiting.py, the API client's correction).
CASES_ELSEWHERE = {("POST", "/api/v1/auth/verification-email")}

#: Routes whose only input is the path or that take no input worth a case.
NO_BODY_INPUT = {
    ("GET", "/api/v1/messages/{message_id}/followups"),
    ("POST", "/api/v1/messages/{message_id}/review/dismiss"),
    ("GET", "/api/v1/auth/csrf"),
    ("POST", "/api/v1/auth/resend-verification"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/me/export"),
    ("GET", "/api/v1/messages/{message_id}"),
    ("GET", "/api/v1/regions"),
    ("DELETE", "/api/v1/messages/{message_id}"),
    ("GET", "/api/v1/messages/{message_id}/log"),
    ("GET", "/api/v1/messages/{message_id}/attachments/{attachment_id}"),
    ("POST", "/api/v1/notifications/{notification_id}/read"),
    ("GET", "/api/v1/admin/users/{account_id}"),
    ("DELETE", "/api/v1/admin/users/{account_id}"),
    ("GET", "/api/v1/admin/agencies"),
    ("DELETE", "/api/v1/admin/agencies/{agency_id}"),
    ("GET", "/api/v1/admin/categories"),
    ("DELETE", "/api/v1/admin/subcategories/{subcategory_id}"),
    ("DELETE", "/api/v1/admin/days-off/{day_off_id}"),
    # Needs a reprimand of the operator's agency; its bad input (an empty or too long
    # response, twice) is tested in plugins/evaluator/tests.
    ("POST", "/api/v1/reprimands/{reprimand_id}/acknowledge"),
}


def _path(world: ApiWorld, template: str, ids: dict[str, int]) -> str:
    values = {
        "message_id": ids["message"],
        "account_id": world.ids["op_dinkes"],
        "agency_id": world.ids["agency_dinkes"],
        "category_id": world.ids["cat_aspirasi"],
        "subcategory_id": world.ids["sub_infra"],
        "day_off_id": 1,
        "reprimand_id": 1,
        "entry_hash": "not-a-hash",
    }
    return _PARAM.sub(lambda m: str(values[m.group(1)]), template)


def _send(world: ApiWorld, case: tuple[Any, ...], ids: dict[str, int], lang: str) -> Any:
    method, template, actor, kind, payload, query, _ = case
    headers = world.bearer(actor) if actor else {"Authorization": "Bearer none"}
    url = _path(world, template, ids) + "?" + "&".join(x for x in (query, f"lang={lang}") if x)
    kwargs: dict[str, Any] = {"headers": headers}
    if kind == "json":
        kwargs["json"] = payload
    elif kind == "form":
        kwargs["data"] = payload
        kwargs["files"] = {"unused": ("", b"", "application/octet-stream")}
    elif kind == "file":
        kwargs["data"] = {"subject": "a", "body": "b"}
        kwargs["files"] = {"attachment": (payload[0], payload[1], "application/octet-stream")}
    elif kind == "raw":
        kwargs["content"] = payload
        headers["Content-Type"] = "application/json"
    return world.client.request(method, url, **kwargs)


def test_every_api_route_with_body_or_query_input_has_a_case(api: ApiWorld) -> None:
    from .test_access_matrix import app_routes

    covered = {(m, t) for m, t, *_ in CASES} | NO_BODY_INPUT | CASES_ELSEWHERE
    api_routes = [r for r in app_routes(api.app) if r[1].startswith("/api/")]
    assert [r for r in api_routes if r not in covered] == []


def test_bad_input_is_a_translated_422(api: ApiWorld) -> None:
    ids = {"message": api.seed_message("ani", forward_to="pupr")}
    # the reply case needs an in_progress message of PUPR
    api.client.post(
        f"/api/v1/messages/{ids['message']}/start", json={}, headers=api.bearer("op_pupr")
    )
    failures = []
    for case in CASES:
        answers = {lang: _send(api, case, ids, lang) for lang in ("en", "id")}
        en, idn = answers["en"], answers["id"]
        where = f"{case[0]} {case[1]} {case[4]!r} {case[5]}"
        if en.status_code != 422 or idn.status_code != 422:
            failures.append(f"{where}: {en.status_code} {en.text[:200]}")
            continue
        assert en.headers["content-type"].startswith(PROBLEM)
        body_en, body_id = en.json(), idn.json()
        fields = {e["field"] for e in body_en.get("errors", [])}
        if case[6] not in fields:
            failures.append(f"{where}: no error for {case[6]!r} in {body_en}")
            continue
        for e_en, e_id in zip(body_en["errors"], body_id["errors"], strict=True):
            assert set(e_en) == {"field", "code", "message"}
            assert e_en["code"] == e_id["code"] and e_en["message"]
            if e_en["message"] == e_id["message"]:
                failures.append(f"{where}: not translated: {e_en['message']!r}")
        assert body_en["code"] == body_id["code"] and body_en["status"] == 422
        assert body_en["title"] == "Invalid input" and body_id["title"] != body_en["title"]
    assert not failures, "\n".join(failures)


GARBAGE: list[bytes] = [b"{", b"[]", b"1e999", b"\xff\xfe"]
WEIRD = {
    k: v
    for k, v in zip(
        [
            "email",
            "username",
            "full_name",
            "nik",
            "password",
            "password_confirm",
            "token",
            "login",
            "current_password",
            "language",
            "subject",
            "body",
            "confidential",
            "anonymous",
            "attachment",
            "stars",
            "comment",
            "category_id",
            "subcategory_id",
            "agency_id",
            "note",
            "reason",
            "answer",
            "role",
            "permissions",
            "is_active",
            "name",
            "code",
        ],
        [[1], {"a": 1}, 1.5, True, None, -1, 2**70, "\x00", "x" * 5000] * 4,
        strict=False,
    )
}


@pytest.mark.parametrize("actor", [None, "ani", "op_pupr", "root"])
def test_garbage_never_causes_a_500(api: ApiWorld, actor: str | None) -> None:
    from .test_access_matrix import app_routes

    mid = api.seed_message("ani", forward_to="pupr", attachment=True)
    values = {
        "message_id": mid,
        "attachment_id": 1,
        "notification_id": 1,
        "account_id": api.ids["budi"],
        "agency_id": api.ids["agency_dinkes"],
        "category_id": api.ids["cat_aduan"],
        "subcategory_id": api.ids["sub_infra"],
        "day_off_id": 1,
        "reprimand_id": 1,
        "entry_hash": "%ff" * 30,
    }
    headers = api.bearer(actor) if actor else {"Authorization": "Bearer none"}
    for method, template in app_routes(api.app):
        if not template.startswith("/api/") or template.endswith("/logout"):
            continue
        path = _PARAM.sub(lambda m: str(values[m.group(1)]), template)
        for query in ["?cursor=%00&limit=-5&status=%ff&date_from=x&agency_id=1e9&q=" + "x" * 300]:
            if method in ("GET", "DELETE"):
                r = api.client.request(method, path + query, headers=headers)
                assert r.status_code < 500, (method, path, query, r.text)
                continue
            for raw in [*GARBAGE, __import__("json").dumps(WEIRD).encode()]:
                r = api.client.request(
                    method,
                    path + query,
                    content=raw,
                    headers={**headers, "Content-Type": "application/json"},
                )
                assert r.status_code < 500, (method, path, raw[:40], r.text)
                if r.status_code >= 400:
                    assert r.headers["content-type"].startswith(PROBLEM), (method, path)
            r = api.client.request(
                method,
                path,
                content=b"--b\r\nContent-Disposition: form-data; name=x\r\n",
                headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
            )
            assert r.status_code < 500, (method, path, "multipart", r.text)
            assert r.status_code < 400 or r.headers["content-type"].startswith(PROBLEM)


def test_unverified_accounts_may_only_resend_verify_read_themselves_and_log_out(
    api: ApiWorld,
) -> None:
    c = api.client
    anon = {"Authorization": "Bearer none"}
    password = "citra-long-password"
    r = c.post(
        "/api/v1/auth/register",
        json={
            "email": "citra@example.org",
            "username": "citra",
            "full_name": "Citra",
            "nik": "6472046512900005",
            "password": password,
            "password_confirm": password,
        },
        headers=anon,
    )
    assert r.status_code == 201
    token = c.post(
        "/api/v1/auth/login", json={"login": "citra", "password": password}, headers=anon
    ).json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/v1/me", headers=h).status_code == 200
    for method, path in [
        ("PATCH", "/api/v1/me"),
        ("GET", "/api/v1/me/messages"),
        ("POST", "/api/v1/messages"),
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/me/password"),
        ("GET", "/api/v1/backoffice/messages"),
    ]:
        r = c.request(method, path, json={} if method != "GET" else None, headers=h)
        assert r.status_code == 403 and r.json()["code"] == "email_unverified", (path, r.text)
    assert c.post("/api/v1/auth/resend-verification", headers=h).status_code == 202
    assert c.post("/api/v1/auth/logout", headers=h).status_code == 204


def test_an_invalid_bearer_token_is_a_401_even_with_a_session_cookie(api: ApiWorld) -> None:
    api.login("ani")
    r = api.client.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert r.headers["content-type"].startswith(PROBLEM)
    assert api.client.get("/api/v1/me").json()["username"] == "ani"


def test_openapi_schema_is_browsable_offline(api: ApiWorld) -> None:
    page = api.client.get("/schema")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in page.text
    assert "/static/js/swagger-init.js" in page.text
    assert "<script>" not in page.text and "cdn" not in page.text.lower()
    assert api.client.get("/static/js/swagger-init.js").status_code == 200
    assert api.client.get("/static/vendor/swagger-ui-5.35.0/swagger-ui.css").status_code == 200
    spec = api.client.get("/schema/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/api/v1/messages/{message_id}" in spec["paths"]
    assert spec["paths"]["/api/v1/auth/login"]["post"]["security"] == [{}]
    assert spec["security"] == [{"bearer": []}]


@pytest.mark.parametrize("command", ["forward", "reject", "start", "progress", "reply"])
def test_a_citizen_sending_a_staff_command_with_an_empty_body_gets_403_not_422(
    api: ApiWorld, command: str
) -> None:
    """The role is checked before the input: a citizen learns that it may not
    act, not which fields the staff must fill in."""
    mid = api.seed_message("ani", forward_to="pupr")
    r = api.client.post(f"/api/v1/messages/{mid}/{command}", json={}, headers=api.bearer("ani"))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden"
