"""Accounts (resend limit, password reset, password change) and the super
admin's directory through the JSON API; back-office filters and notifications."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from .api_support import ApiWorld, build_world
from .world import PASSWORDS

ANON = {"Authorization": "Bearer none"}


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def _register_unverified(api: ApiWorld, username: str, nik: str) -> dict[str, str]:
    password = f"{username}-long-password"
    r = api.client.post(
        "/api/v1/auth/register",
        json={
            "email": f"{username}@example.org",
            "username": username,
            "full_name": username.title(),
            "nik": nik,
            "password": password,
            "password_confirm": password,
        },
        headers=ANON,
    )
    assert r.status_code == 201, r.text
    login = api.client.post(
        "/api/v1/auth/login", json={"login": username, "password": password}, headers=ANON
    )
    return {"Authorization": f"Bearer {login.json()['token']}"}


def test_resend_verification_is_refused_after_three_with_retry_after(api: ApiWorld) -> None:
    h = _register_unverified(api, "dewi", "6472046512900006")
    for _ in range(3):
        assert api.client.post("/api/v1/auth/resend-verification", headers=h).status_code == 202
    r = api.client.post("/api/v1/auth/resend-verification", headers=h)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.headers["content-type"].startswith("application/problem+json")
    # the newest link works
    token = api.recorder.last("verif")
    ok = api.client.post("/api/v1/auth/verify-email", json={"token": token}, headers=ANON)
    assert ok.status_code == 200
    again = api.client.post("/api/v1/auth/verify-email", json={"token": token}, headers=ANON)
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "token_invalid"


def test_forgot_and_reset_password_end_every_token(api: ApiWorld) -> None:
    c = api.client
    ani = api.bearer("ani")
    known = c.post("/api/v1/auth/forgot-password", json={"email": "ani@example.org"}, headers=ANON)
    unknown = c.post(
        "/api/v1/auth/forgot-password", json={"email": "nobody@example.org"}, headers=ANON
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    token = api.recorder.last("reset")
    weak = c.post(
        "/api/v1/auth/reset-password",
        json={"token": token, "password": "x", "password_confirm": "x"},
        headers=ANON,
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    new = "ani-new-long-password"
    r = c.post(
        "/api/v1/auth/reset-password",
        json={"token": token, "password": new, "password_confirm": new},
        headers=ANON,
    )
    assert r.status_code == 200, r.text
    assert c.get("/api/v1/me", headers=ani).status_code == 401
    r = c.post("/api/v1/auth/login", json={"login": "ani", "password": new}, headers=ANON)
    assert r.status_code == 200


def test_change_password_gives_the_bearer_caller_a_new_token(api: ApiWorld) -> None:
    c = api.client
    old = api.bearer("budi")
    other = api.bearer("budi")
    new = "budi-new-long-password"
    r = c.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORDS["budi"], "password": new, "password_confirm": new},
        headers=old,
    )
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['token']}"}
    assert c.get("/api/v1/me", headers=fresh).status_code == 200
    assert c.get("/api/v1/me", headers=old).status_code == 401
    assert c.get("/api/v1/me", headers=other).status_code == 401


def test_wrong_login_is_a_translated_401(api: ApiWorld) -> None:
    r = api.client.post(
        "/api/v1/auth/login?lang=en",
        json={"login": "ani", "password": "wrong-password"},
        headers=ANON,
    )
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    idn = api.client.post(
        "/api/v1/auth/login?lang=id",
        json={"login": "ani", "password": "wrong-password"},
        headers=ANON,
    )
    assert idn.json()["detail"] != r.json()["detail"]


def test_super_admin_manages_accounts_agencies_and_categories(api: ApiWorld) -> None:
    c = api.client
    root = api.bearer("root")
    agency = c.post(
        "/api/v1/admin/agencies", json={"code": "bappeda", "name": "Bappeda"}, headers=root
    )
    assert agency.status_code == 201, agency.text
    aid = agency.json()["id"]
    user = c.post(
        "/api/v1/admin/users",
        json={
            "email": "op-bappeda@example.org",
            "username": "op_bappeda",
            "full_name": "Operator Bappeda",
            "password": "op-bappeda-long-password",
            "role": "operator",
            "agency_id": aid,
        },
        headers=root,
    )
    assert user.status_code == 201, user.text
    uid = user.json()["id"]
    assert user.json()["role"] == "operator" and user.json()["agency_id"] == aid
    granted = c.patch(
        f"/api/v1/admin/users/{uid}",
        json={"permissions": ["land_issue.monitor"]},
        headers=root,
    )
    assert granted.status_code == 200 and granted.json()["permissions"] == ["land_issue.monitor"]
    listed = c.get("/api/v1/admin/users?role=operator", headers=root).json()
    assert uid in [u["id"] for u in listed["items"]] and "next_cursor" in listed
    # deactivation (PATCH or DELETE) ends the account's tokens
    op = c.post(
        "/api/v1/auth/login",
        json={"login": "op_bappeda", "password": "op-bappeda-long-password"},
        headers=ANON,
    ).json()["token"]
    off = c.patch(f"/api/v1/admin/users/{uid}", json={"is_active": False}, headers=root)
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {op}"}).status_code == 401
    assert c.delete(f"/api/v1/admin/users/{api.ids['op_dinkes']}", headers=root).status_code == 204
    assert (
        c.get(f"/api/v1/admin/users/{api.ids['op_dinkes']}", headers=root).json()["is_active"]
        is False
    )
    # agencies
    renamed = c.patch(
        f"/api/v1/admin/agencies/{aid}", json={"name": "Bappeda Kaltim"}, headers=root
    )
    assert renamed.json()["name"] == "Bappeda Kaltim"
    assert c.delete(f"/api/v1/admin/agencies/{aid}", headers=root).status_code == 204
    agencies = c.get("/api/v1/admin/agencies", headers=root).json()["items"]
    assert {"id": aid, "code": "bappeda", "name": "Bappeda Kaltim", "is_active": False} in agencies
    # categories and sub-categories
    cats = c.get("/api/v1/admin/categories", headers=root).json()["items"]
    assert {c_["code"] for c_ in cats} >= {"aspirasi", "aduan"}
    cat = c.post(
        "/api/v1/admin/categories", json={"code": "usulan", "name": "Usulan"}, headers=root
    )
    assert cat.status_code == 201
    cid = cat.json()["id"]
    assert c.patch(
        f"/api/v1/admin/categories/{cid}", json={"name": "Usulan warga"}, headers=root
    ).json()["name"] == ("Usulan warga")
    sub = c.post(
        "/api/v1/admin/subcategories",
        json={"category_id": cid, "code": "taman", "name": "Taman"},
        headers=root,
    )
    assert sub.status_code == 201, sub.text
    sid = sub.json()["id"]
    off = c.patch(f"/api/v1/admin/subcategories/{sid}", json={"is_active": False}, headers=root)
    assert off.json()["is_active"] is False
    subs = c.get(f"/api/v1/admin/subcategories?category_id={cid}", headers=root).json()["items"]
    assert [s["id"] for s in subs] == [sid]
    assert c.delete(f"/api/v1/admin/subcategories/{sid}", headers=root).status_code == 204


def test_backoffice_filters_dates_in_the_province_time_zone(api: ApiWorld) -> None:
    c = api.client
    admin = api.bearer("admin")
    pupr = api.seed_message("ani", forward_to="pupr")
    dinkes = api.seed_message("budi", forward_to="dinkes")
    waiting = api.seed_message("budi", forward_to=None)

    def ids(query: str, headers: dict[str, str] = admin) -> list[int]:
        r = c.get(f"/api/v1/backoffice/messages?{query}", headers=headers)
        assert r.status_code == 200, r.text
        return [m["id"] for m in r.json()["items"]]

    assert ids("") == [waiting, dinkes, pupr]
    assert ids("status=submitted") == [waiting]
    assert ids(f"agency_id={api.ids['agency_dinkes']}") == [dinkes]
    assert ids(f"category_id={api.ids['cat_aduan']}&subcategory_id={api.ids['sub_infra']}") == [
        dinkes,
        pupr,
    ]
    assert ids("q=berlubang") == [waiting, dinkes, pupr]
    assert ids("limit=1&cursor=") == [waiting]
    first = c.get("/api/v1/backoffice/messages?limit=2", headers=admin).json()
    rest = c.get(
        f"/api/v1/backoffice/messages?limit=2&cursor={first['next_cursor']}", headers=admin
    ).json()
    assert [m["id"] for m in rest["items"]] == [pupr] and rest["next_cursor"] is None
    # "today" in the province's time zone contains them all; tomorrow none
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(api.core.deps.settings.timezone)
    today = datetime.now(UTC).astimezone(tz).date()
    assert ids(f"date_from={today}&date_to={today}") == [waiting, dinkes, pupr]
    tomorrow = today.fromordinal(today.toordinal() + 1)
    assert ids(f"date_from={tomorrow}") == []
    assert ids(f"date_to={today.fromordinal(today.toordinal() - 1)}") == []
    # the operator sees only their agency's, whatever the filter asks
    assert ids(f"agency_id={api.ids['agency_dinkes']}", api.bearer("op_pupr")) == []
    assert ids("", api.bearer("op_pupr")) == [pupr]


def test_notifications_list_and_read(api: ApiWorld) -> None:
    c = api.client
    mid = api.seed_message("ani", forward_to="pupr")
    op = api.bearer("op_pupr")
    items = c.get("/api/v1/notifications?lang=en", headers=op).json()["items"]
    assert items and items[0]["message_id"] == mid and items[0]["read_at"] is None
    assert items[0]["text"].startswith("Message ")
    nid = items[0]["id"]
    assert c.post(f"/api/v1/notifications/{nid}/read", headers=op).status_code == 204
    assert c.get("/api/v1/notifications?unread=true", headers=op).json()["items"] == []
    other = c.post(f"/api/v1/notifications/{nid}/read", headers=api.bearer("op_dinkes"))
    assert other.status_code == 404


def test_withdraw_only_while_submitted_and_then_gone(api: ApiWorld) -> None:
    c = api.client
    ani = api.bearer("ani")
    mid = api.seed_message("ani", forward_to=None)
    assert c.delete(f"/api/v1/messages/{mid}", headers=ani).status_code == 204
    assert c.get(f"/api/v1/messages/{mid}", headers=ani).status_code == 404
    assert c.get("/api/v1/me/messages", headers=ani).json()["items"] == []
    forwarded = api.seed_message("ani", forward_to="pupr")
    r = c.delete(f"/api/v1/messages/{forwarded}", headers=ani)
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem")


def test_anonymous_messages_hide_the_author_from_the_agency(api: ApiWorld) -> None:
    c = api.client
    r = c.post(
        "/api/v1/messages",
        json={"subject": "Rahasia", "body": "Isi", "anonymous": True, "confidential": True},
        headers=api.bearer("ani"),
    )
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    c.post(
        f"/api/v1/messages/{mid}/forward",
        json={
            "category_id": api.ids["cat_aduan"],
            "subcategory_id": api.ids["sub_infra"],
            "agency_id": api.ids["agency_pupr"],
        },
        headers=api.bearer("admin"),
    )
    seen = c.get(f"/api/v1/messages/{mid}", headers=api.bearer("op_pupr")).json()
    assert "author" not in seen and seen["anonymous"] is True
    own = c.get(f"/api/v1/messages/{mid}", headers=api.bearer("ani")).json()
    assert own["author"]["username"] == "ani"
    public = c.get("/api/v1/public/messages").json()["items"]
    assert mid not in [m["id"] for m in public]


def test_a_password_without_a_utf8_form_is_refused_not_a_500(api: ApiWorld) -> None:
    """A JSON ``\\ud800`` (a lone surrogate, no UTF-8 form; argon2 hashes bytes) or a
    form's invalid UTF-8 never reaches the hasher as such: a clear 4xx, never a 500."""
    for login in ("ani", "nobody-here"):
        r = api.client.post(
            "/api/v1/auth/login?lang=en",
            content=b'{"login": "%s", "password": "abc\\ud800def"}' % login.encode(),
            headers={**ANON, "Content-Type": "application/json"},
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_json"
        form = api.client.post(
            "/api/v1/auth/login?lang=en",
            content=b"login=%s&password=abc%%ED%%A0%%80def" % login.encode(),
            headers={**ANON, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code in (401, 415, 422), form.text


def test_the_super_admin_invites_staff_through_the_api(api: ApiWorld) -> None:
    c = api.client
    root = api.bearer("root")
    body = {
        "email": "Sari.Dewi@example.org",
        "full_name": "Sari Dewi",
        "role": "operator",
        "agency_id": api.ids["agency_pupr"],
    }
    r = c.post("/api/v1/admin/invitations", json=body, headers=root)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["email"] == "sari.dewi@example.org" and made["username"] == "sari.dewi"
    assert made["role"] == "operator" and made["agency_id"] == api.ids["agency_pupr"]
    token = api.recorder.last("invited")
    assert anyio.run(api.core.accounts.link_valid, "staff_invitation", token)
    # the address has an account now
    assert c.post("/api/v1/admin/invitations", json=body, headers=root).status_code == 422
    for who in ("admin", "op_pupr", "ani"):
        refused = c.post("/api/v1/admin/invitations", json=body, headers=api.bearer(who))
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert c.post("/api/v1/admin/invitations", json=body, headers=ANON).status_code == 401
    bad = c.post(
        "/api/v1/admin/invitations?lang=en",
        json={"email": "nope", "full_name": "", "role": "operator"},
        headers=root,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"email", "full_name"} <= fields
    wrong_type = c.post("/api/v1/admin/invitations", json={**body, "agency_id": "x"}, headers=root)
    assert wrong_type.status_code == 422
    assert wrong_type.headers["content-type"].startswith("application/problem+json")
    schema = c.get("/schema/openapi.json").json()
    operation = schema["paths"]["/api/v1/admin/invitations"]["post"]
    assert "201" in operation["responses"] and operation["requestBody"]
