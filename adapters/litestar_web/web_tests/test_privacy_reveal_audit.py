"""The super admin's audited reveal of an anonymous sender and the audit log,
through the JSON API and the pages."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest

from aspirasi_core.services import Context, SubmitInput

from .api_support import ApiWorld, build_world
from .test_pages_backoffice_support import actor_of, csrf_field, forward_to, login, set_lang

REASON = "Perintah pengadilan nomor 12/2026 meminta identitas pelapor."


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path, disabled_plugins=("rate_limit",))


def send(api: ApiWorld, *, anonymous: bool, subject: str = "Pungli di kantor desa") -> int:
    async def go() -> int:
        message = await api.core.messages.submit(
            Context(actor=actor_of(api, "budi")),  # type: ignore[arg-type]
            SubmitInput(subject=subject, body="Diminta bayar.", anonymous=anonymous),
        )
        return message.id

    message_id = anyio.run(go)
    forward_to(api, message_id, "dinkes")
    return message_id


def ticket_of(api: ApiWorld, message_id: int) -> str:
    return api.core.deps.db.run_sync(lambda uow: uow.messages.get(message_id)).ticket


# ----------------------------------------------------------------------------- API


def test_api_reveal_names_the_sender_once_and_is_audited(api: ApiWorld) -> None:
    hidden = send(api, anonymous=True)
    c = api.client
    root = api.bearer("root")
    r = c.post(
        f"/api/v1/messages/{hidden}/reveal",
        json={"reason": REASON},
        headers={**root, "X-Forwarded-For": "203.0.113.5"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sender"]["username"] == "budi" and body["sender"]["id"] == api.ids["budi"]
    assert body["sender"]["email"] == "budi@example.org"
    assert body["sender"]["nik_masked"] == "6471********0002"
    assert body["ticket"] == ticket_of(api, hidden) and body["revealed_at"].endswith("Z")
    assert r.headers["cache-control"] == "no-store"
    # the normal view stays anonymous, for the super admin too
    detail = c.get(f"/api/v1/messages/{hidden}", headers=root).json()
    assert "author" not in detail and detail["log"][0]["actor_id"] is None
    audit = c.get(
        "/api/v1/admin/audit", params={"action": "message.sender_reveal"}, headers=root
    ).json()
    (entry,) = audit["items"]
    assert entry["id"] == body["audit_id"] and entry["reason"] == REASON
    assert entry["actor"] == {"id": api.ids["root"], "username": "root"}
    assert entry["subject_account_id"] == api.ids["budi"]
    assert entry["message"] == {"id": hidden, "ticket": body["ticket"]}
    assert entry["at"].endswith("Z") and entry["client_ip"]


def test_api_reveal_refusals(api: ApiWorld) -> None:
    hidden = send(api, anonymous=True)
    signed = send(api, anonymous=False, subject="Jalan rusak")
    c = api.client
    for who in ("admin", "op_dinkes", "budi"):
        r = c.post(
            f"/api/v1/messages/{hidden}/reveal", json={"reason": REASON}, headers=api.bearer(who)
        )
        assert r.status_code == 403, (who, r.text)
    root = api.bearer("root")
    for body, code in (
        ({}, "required"),
        ({"reason": "   "}, "required"),
        ({"reason": "karena"}, "reason_too_short"),
        ({"reason": 12345678901}, None),
    ):
        r = c.post(f"/api/v1/messages/{hidden}/reveal", json=body, headers=root)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem["errors"][0]["field"] == "reason"
        if code:
            assert problem["errors"][0]["code"] == code
    r = c.post(f"/api/v1/messages/{hidden}/reveal?lang=id", json={"reason": "x"}, headers=root)
    assert "paling sedikit 10 karakter" in r.text
    r = c.post(f"/api/v1/messages/{signed}/reveal", json={"reason": REASON}, headers=root)
    assert r.status_code == 409 and r.json()["code"] == "message_not_anonymous"
    r = c.post("/api/v1/messages/999999/reveal", json={"reason": REASON}, headers=root)
    assert r.status_code == 404
    r = c.post(
        f"/api/v1/messages/{hidden}/reveal",
        content=b"{not json",
        headers={**root, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_json"
    audit = c.get("/api/v1/admin/audit", headers=root).json()
    assert [e["action"] for e in audit["items"]] == []  # no reveal happened


def test_api_audit_log_filters_and_pages(api: ApiWorld) -> None:
    signed = send(api, anonymous=False, subject="Jalan rusak")
    c = api.client
    for who in ("admin", "op_dinkes", "admin"):
        assert c.get(f"/api/v1/messages/{signed}", headers=api.bearer(who)).status_code == 200
    root = api.bearer("root")
    assert c.get(f"/api/v1/admin/users/{api.ids['ani']}", headers=root).status_code == 200
    everything = c.get("/api/v1/admin/audit", headers=root).json()["items"]
    assert [e["action"] for e in everything] == ["account.read"] + ["message.sender_read"] * 3
    assert everything[1]["message"]["ticket"] == ticket_of(api, signed)

    def actions(**params: Any) -> list[str]:
        r = c.get("/api/v1/admin/audit", params=params, headers=root)
        assert r.status_code == 200, r.text
        return [f"{e['actor']['username']}:{e['action']}" for e in r.json()["items"]]

    assert actions(actor="admin") == ["admin:message.sender_read"] * 2
    assert actions(actor=str(api.ids["op_dinkes"])) == ["op_dinkes:message.sender_read"]
    assert actions(subject_account_id=str(api.ids["ani"])) == ["root:account.read"]
    assert actions(message_id=str(signed)) == actions(ticket=ticket_of(api, signed))
    assert len(actions(message_id=str(signed))) == 3
    zone = ZoneInfo(api.core.deps.settings.timezone)
    today = api.core.deps.clock.now().astimezone(zone).date().isoformat()
    assert len(actions(date_from=today, date_to=today)) == 4
    assert actions(date_from="2001-01-01", date_to="2001-01-02") == []
    first = c.get("/api/v1/admin/audit", params={"limit": "3"}, headers=root).json()
    rest = c.get(
        "/api/v1/admin/audit", params={"cursor": first["next_cursor"]}, headers=root
    ).json()
    assert len(first["items"]) == 3 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    for params, field in (
        ({"action": "DROP TABLE"}, "action"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"subject_account_id": "abc"}, "subject_account_id"),
        ({"cursor": "garbage"}, "cursor"),
        ({"date_from": "2026-11-05", "date_to": "2026-11-01"}, "at_to"),
    ):
        r = c.get("/api/v1/admin/audit", params=params, headers=root)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert c.get("/api/v1/admin/audit", headers=api.bearer("admin")).status_code == 403


# ----------------------------------------------------------------------------- pages


def test_reveal_page_for_the_super_admin_only(api: ApiWorld) -> None:
    hidden = send(api, anonymous=True)
    login(api, "admin")
    page = api.client.get(f"/backoffice/messages/{hidden}")
    assert page.status_code == 200 and "/reveal" not in page.text
    login(api, "root")
    set_lang(api, "en")
    page = api.client.get(f"/backoffice/messages/{hidden}")
    assert page.status_code == 200
    assert f'action="/backoffice/messages/{hidden}/reveal"' in page.text
    assert "budi" not in page.text.lower()
    r = api.client.post(
        f"/backoffice/messages/{hidden}/reveal",
        data={**csrf_field(api), "reveal_reason": REASON},
    )
    assert r.status_code == 200, r.text
    text = html.unescape(r.text)
    assert "budi@example.org" in text and "Budi" in text and "6471********0002" in text
    assert REASON in text and "recorded in the audit log" in text
    assert r.headers["cache-control"] == "no-store"
    again = api.client.get(f"/backoffice/messages/{hidden}")
    assert "budi" not in again.text.lower()  # shown on that answer only
    audit = api.client.get("/admin/audit", params={"action": "message.sender_reveal"})
    assert audit.status_code == 200
    assert ticket_of(api, hidden) in audit.text and REASON in html.unescape(audit.text)


def test_reveal_page_shows_its_errors_in_both_languages(api: ApiWorld) -> None:
    hidden = send(api, anonymous=True)
    login(api, "root")
    for lang, expected in (("en", "at least 10 characters"), ("id", "paling sedikit 10 karakter")):
        set_lang(api, lang)
        r = api.client.post(
            f"/backoffice/messages/{hidden}/reveal",
            data={**csrf_field(api), "reveal_reason": "alasan"},
        )
        assert r.status_code == 422
        assert expected in r.text and 'id="reveal" open' in r.text
        assert 'aria-invalid="true"' in r.text and ">alasan</textarea>" in r.text
        assert "budi" not in r.text.lower()
    signed = send(api, anonymous=False, subject="Jalan rusak")
    r = api.client.post(
        f"/backoffice/messages/{signed}/reveal", data={**csrf_field(api), "reveal_reason": REASON}
    )
    assert r.status_code == 409
    login(api, "admin")
    r = api.client.post(
        f"/backoffice/messages/{hidden}/reveal", data={**csrf_field(api), "reveal_reason": REASON}
    )
    assert r.status_code == 403


def test_audit_page_filters_and_shows_errors(api: ApiWorld) -> None:
    signed = send(api, anonymous=False, subject="Jalan rusak")
    for who in ("admin", "op_dinkes"):
        login(api, who)
        assert api.client.get(f"/backoffice/messages/{signed}").status_code == 200
    login(api, "root")
    set_lang(api, "en")
    page = api.client.get("/admin/audit")
    assert page.status_code == 200
    assert page.text.count("Sender of a message shown") >= 2
    assert 'href="/admin/audit"' in api.client.get("/admin/users").text  # in the admin menu
    only_admin = api.client.get("/admin/audit", params={"actor": "admin"})
    assert ">admin</a>" in only_admin.text and ">op_dinkes</a>" not in only_admin.text
    by_ticket = api.client.get("/admin/audit", params={"ticket": ticket_of(api, signed)})
    assert by_ticket.text.count("Sender of a message shown") >= 2
    none = api.client.get(
        "/admin/audit", params={"date_from": "2001-01-01", "date_to": "2001-01-01"}
    )
    assert "No entries found." in none.text
    for params, status in (
        ({"date_from": "kemarin"}, 422),
        ({"account": "abc"}, 422),
        ({"action": "Not An Action"}, 422),
        ({"cursor": "garbage"}, 422),
    ):
        r = api.client.get("/admin/audit", params=params)
        assert r.status_code == status, (params, r.status_code)
        assert 'class="error"' in r.text or 'class="notice error"' in r.text
    set_lang(api, "id")
    assert "Log audit" in api.client.get("/admin/audit").text
    login(api, "admin")
    assert api.client.get("/admin/audit").status_code == 403
