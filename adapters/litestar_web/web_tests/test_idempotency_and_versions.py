"""Idempotency keys and expected versions as the pages and the API take them:
a form sent twice creates one message and both answers lead to it; a form shown
before someone else's change answers "the message was changed"; the API checks
its headers and answers resends with the first answer."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .test_pages_public_support import advance, message_count, submit
from .world import PASSWORDS, WebWorld


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in the form"
    return found.group(1)


def _post(web: WebWorld, url: str, data: dict[str, Any], **kw: Any) -> Any:
    return web.client.post(
        url, data={**data, "_csrf_token": web.csrf()}, follow_redirects=False, **kw
    )


# ---------------------------------------------------------------------- forms


def test_the_new_message_form_sent_twice_creates_one_message(web: WebWorld) -> None:
    web.login("ani")
    form = web.client.get("/my/messages/new").text
    key = _hidden(form, "idempotency_key")
    assert key != _hidden(web.client.get("/my/messages/new").text, "idempotency_key")
    data = {"subject": "Lampu jalan mati", "body": "Sejak seminggu.", "idempotency_key": key}
    first = _post(web, "/my/messages/new", data)
    again = _post(web, "/my/messages/new", data)  # the double click, or a reload
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert first.headers["location"].startswith("/messages/")
    assert message_count(web) == 1
    # A form without a key (an old page) still works, once per post.
    _post(web, "/my/messages/new", {"subject": "Tanpa kunci", "body": "Isi."})
    assert message_count(web) == 2


def test_a_form_that_failed_can_be_sent_again_with_its_key(web: WebWorld) -> None:
    web.login("ani")
    key = _hidden(web.client.get("/my/messages/new").text, "idempotency_key")
    bad = _post(web, "/my/messages/new", {"subject": "", "body": "", "idempotency_key": key})
    assert bad.status_code == 422 and message_count(web) == 0
    good = _post(
        web, "/my/messages/new", {"subject": "Diperbaiki", "body": "Isi.", "idempotency_key": key}
    )
    assert good.status_code == 303 and message_count(web) == 1


def test_the_register_form_sent_twice_registers_once(web: WebWorld) -> None:
    """Without the key the second post would answer the same (no enumeration) but
    mail the owner about a second registration: with it, nothing more is queued."""
    page = web.client.get("/register").text
    data = {
        "email": "citra@example.org",
        "username": "citra",
        "full_name": "Citra",
        "nik": "6472041708450003",
        "password": "citra-long-password",
        "password_confirm": "citra-long-password",
        "idempotency_key": _hidden(page, "idempotency_key"),
    }
    first = _post(web, "/register", data)
    queued = _count(web, "outbox")
    again = _post(web, "/register", data)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/login"
    assert _count(web, "outbox") == queued
    assert _count(web, "idempotency_keys") == 1
    # A new page (a new key) is a new request: the same e-mail with another
    # username and NIK is answered alike, and the owner gets a mail about it.
    data["idempotency_key"] = _hidden(web.client.get("/register").text, "idempotency_key")
    data.update(username="citra2", nik="6472046612990004")
    assert _post(web, "/register", data).headers["location"] == "/login"
    assert _count(web, "outbox") > queued


def _count(web: WebWorld, table: str) -> int:
    from sqlalchemy import text

    with web.core.deps.db.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_the_rating_form_sent_twice_rates_once_and_a_stale_one_is_told(web: WebWorld) -> None:
    msg = submit(web)
    advance(web, msg, "done")
    web.login("ani")
    page = web.client.get(f"/messages/{msg.id}").text
    data = {
        "stars": "4",
        "comment": "",
        "idempotency_key": _hidden(page, "idempotency_key"),
        "version": _hidden(page, "version"),
    }
    first = _post(web, f"/my/messages/{msg.id}/rating", data)
    again = _post(web, f"/my/messages/{msg.id}/rating", data)
    assert first.status_code == again.status_code == 303
    # The same page in another tab, sent with a new key: the message changed.
    other = _post(web, f"/my/messages/{msg.id}/rating", {**data, "idempotency_key": "tab-2"})
    assert other.status_code == 409
    assert "changed by someone else" in other.text or "diubah oleh orang lain" in other.text


@pytest.mark.parametrize("action", ["forward", "reject"])
def test_a_backoffice_form_shown_before_a_change_answers_changed(
    web: WebWorld, action: str
) -> None:
    """Two admins opened the same message; the second one's form is stale."""
    msg = submit(web)
    web.login("admin")
    page = web.client.get(f"/backoffice/messages/{msg.id}").text
    stale_version = _hidden(page, "version")
    advance(web, msg, "forwarded", agency="dinkes")  # the first admin
    data: dict[str, Any] = {
        "forward": {
            "category_id": str(web.ids["cat_aduan"]),
            "subcategory_id": str(web.ids["sub_infra"]),
            "agency_id": str(web.ids["agency_pupr"]),
        },
        "reject": {"reason": "Tidak jelas."},
    }[action]
    r = _post(
        web,
        f"/backoffice/messages/{msg.id}/{action}",
        {**data, "version": stale_version, "idempotency_key": f"k-{action}"},
    )
    assert r.status_code == 409
    assert "changed by someone else" in r.text or "diubah oleh orang lain" in r.text
    detail = web.core.deps.db.run_sync(lambda uow: uow.messages.get(msg.id), write=False)
    assert detail.agency_id == web.ids["agency_dinkes"] and detail.version == 2


def test_the_reply_form_sent_twice_replies_once(web: WebWorld) -> None:
    msg = submit(web)
    advance(web, msg, "in_progress")
    web.login("op_pupr")
    page = web.client.get(f"/backoffice/messages/{msg.id}").text
    reply_form = page[page.index(f'action="/backoffice/messages/{msg.id}/reply"') :]
    data = {
        "answer": "Sudah diperbaiki.",
        "idempotency_key": _hidden(reply_form, "idempotency_key"),
        "version": _hidden(reply_form, "version"),
    }
    first = _post(web, f"/backoffice/messages/{msg.id}/reply", data)
    again = _post(web, f"/backoffice/messages/{msg.id}/reply", data)
    assert first.status_code == again.status_code == 303, again.text
    log = web.core.deps.db.run_sync(lambda uow: uow.messages.log(msg.id), write=False)
    assert [e.action for e in log].count("reply") == 1


# ---------------------------------------------------------------------- the API


def _bearer(web: WebWorld, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.token(name)}"}


def test_api_answers_a_resent_key_with_the_first_answer(web: WebWorld) -> None:
    headers = {**_bearer(web, "ani"), "Idempotency-Key": "2f1c7a54-0b8e-4b51-9d1e-1a0cbb1f0001"}
    body = {"subject": "Pohon tumbang", "body": "Menutup jalan."}
    first = web.client.post("/api/v1/messages", json=body, headers=headers)
    again = web.client.post("/api/v1/messages", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert message_count(web) == 1
    # Keys are per account: budi's same key is his own.
    budi = {**_bearer(web, "budi"), "Idempotency-Key": headers["Idempotency-Key"]}
    assert web.client.post("/api/v1/messages", json=body, headers=budi).status_code == 201
    assert message_count(web, "budi") == 1
    other = web.client.post("/api/v1/messages", json={**body, "body": "Lain."}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    "key", [b"", b"a" * 256, b"kunci dengan spasi", "kunci-\xfc".encode("latin-1"), b"k\x7f"]
)
def test_api_refuses_a_malformed_key(web: WebWorld, key: bytes) -> None:
    headers = {**_bearer(web, "ani"), "Idempotency-Key": key}
    r = web.client.post("/api/v1/messages", json={"subject": "S", "body": "B"}, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "idempotency_key_invalid"
    assert message_count(web) == 0


def test_api_register_resent_by_the_same_client_registers_once(web: WebWorld) -> None:
    body = {
        "email": "dewi@example.org",
        "username": "dewi",
        "full_name": "Dewi",
        "nik": "6472046612990004",
        "password": PASSWORDS["ani"],
        "password_confirm": PASSWORDS["ani"],
    }
    headers = {
        "Idempotency-Key": "reg-1",
        "User-Agent": "aspirasi-app/1.0",
        "X-CSRF-Token": web.csrf(),
    }
    first = web.client.post("/api/v1/auth/register", json=body, headers=headers)
    again = web.client.post("/api/v1/auth/register", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and first.content == again.content
    # Another client's same key is not this one's.
    other = web.client.post(
        "/api/v1/auth/register",
        json={**body, "email": "eka@example.org", "username": "eka", "nik": "6472041708450003"},
        headers={**headers, "User-Agent": "another-app/2.0"},
    )
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers


def test_api_if_match_guards_every_change(web: WebWorld) -> None:
    msg = submit(web)
    admin = _bearer(web, "admin")
    forward = {
        "category_id": web.ids["cat_aduan"],
        "subcategory_id": web.ids["sub_infra"],
        "agency_id": web.ids["agency_pupr"],
    }
    seen = web.client.get(f"/api/v1/messages/{msg.id}", headers=admin).json()
    assert seen["version"] == 1
    moved = web.client.post(
        f"/api/v1/messages/{msg.id}/forward", json=forward, headers={**admin, "If-Match": '"1"'}
    )
    assert moved.status_code == 200 and moved.json()["version"] == 2
    stale = web.client.post(
        f"/api/v1/messages/{msg.id}/forward",
        json={**forward, "agency_id": web.ids["agency_dinkes"]},
        headers={**admin, "If-Match": '"1"'},
    )
    assert stale.status_code == 409 and stale.json()["code"] == "message_changed"
    for bad in ('"x"', "0", "1, 2", '"-1"', '"03"', "02", '" 3"'):
        r = web.client.post(
            f"/api/v1/messages/{msg.id}/forward",
            json={**forward, "agency_id": web.ids["agency_dinkes"]},
            headers={**admin, "If-Match": bad},
        )
        assert r.status_code == 422 and r.json()["code"] == "version_invalid", bad
    anyone = web.client.post(
        f"/api/v1/messages/{msg.id}/forward",
        json={**forward, "agency_id": web.ids["agency_dinkes"]},
        headers={**admin, "If-Match": "*"},
    )
    assert anyone.status_code == 200 and anyone.json()["version"] == 3


def test_openapi_documents_the_headers(web: WebWorld) -> None:
    doc = web.client.get("/schema/openapi.json").json()
    creating = [
        ("/api/v1/messages", "post"),
        ("/api/v1/auth/register", "post"),
        ("/api/v1/messages/{message_id}/rating", "post"),
        ("/api/v1/messages/{message_id}/reply", "post"),
        ("/api/v1/messages/{message_id}/forward", "post"),
        ("/api/v1/messages/{message_id}/reject", "post"),
        ("/api/v1/messages/{message_id}/start", "post"),
        ("/api/v1/messages/{message_id}/progress", "post"),
    ]
    for path, method in creating:
        params = {p["name"]: p for p in doc["paths"][path][method].get("parameters", [])}
        assert params["Idempotency-Key"]["in"] == "header", path
        assert not params["Idempotency-Key"].get("required"), path
        assert "24 hours" in params["Idempotency-Key"]["description"]
    for path, method in [*creating[2:], ("/api/v1/messages/{message_id}", "delete")]:
        params = {p["name"] for p in doc["paths"][path][method].get("parameters", [])}
        assert "If-Match" in params, path
