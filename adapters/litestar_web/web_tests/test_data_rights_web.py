"""Rights of the data subject on the web: download one's data and delete one's account
(Settings and ``/api/v1/me``); removed attachments on the pages and in the API."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import anyio
import attrs
import pytest
from sqlalchemy import text

from aspirasi_core.domain.model import Message

from .test_pages_public_support import acc, advance, ctx, submit
from .world import NIKS, PASSWORDS, WebWorld


def bearer(web: WebWorld, name: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + web.token(name)}


def post(web: WebWorld, url: str, data: dict[str, str]) -> object:
    return web.client.post(url, data={**data, "_csrf_token": web.csrf()}, follow_redirects=False)


def read_zip(content: bytes) -> tuple[dict[str, object], zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return json.loads(archive.read("data.json")), archive


def photo_of(web: WebWorld, message: Message) -> object:
    return web.core.deps.db.run_sync(
        lambda uow: uow.messages.attachments_for([message.id])[message.id][0], write=False
    )


# ----------------------------------------------------------------------- API


def test_api_export_streams_a_zip_of_the_citizens_data(web: WebWorld) -> None:
    mine = submit(web, "ani", "Jalan rusak", attachment=True)
    submit(web, "budi", "Punya Budi")
    r = web.client.get("/api/v1/me/export", headers=bearer(web, "ani"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith('attachment; filename="aspirasi-data-')
    assert r.headers["cache-control"] == "private, no-store"
    assert int(r.headers["content-length"]) == len(r.content)
    data, archive = read_zip(r.content)
    assert data["account"]["nik"] == NIKS["ani"]  # type: ignore[index]
    messages = data["messages"]
    assert [m["ticket"] for m in messages] == [mine.ticket]  # type: ignore[union-attr, index]
    photo = messages[0]["attachments"][0]  # type: ignore[index]
    assert archive.read(photo["file"]).startswith(b"\xff\xd8\xff")
    assert "Punya Budi" not in json.dumps(data)


@pytest.mark.parametrize("name", ["admin", "op_pupr", "root"])
def test_api_export_and_delete_are_for_citizens(web: WebWorld, name: str) -> None:
    headers = bearer(web, name)
    r = web.client.get("/api/v1/me/export", headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "citizens_only"
    r = web.client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORDS[name]}, headers=headers
    )
    assert r.status_code == 403 and r.json()["code"] == "citizens_only"
    assert acc(web, name).is_active


def test_api_export_and_delete_need_a_login(web: WebWorld) -> None:
    none = {"Authorization": "Bearer none"}
    assert web.client.get("/api/v1/me/export", headers=none).status_code == 401
    assert web.client.request("DELETE", "/api/v1/me", json={}, headers=none).status_code == 401


def test_api_delete_checks_the_password_then_deletes(web: WebWorld) -> None:
    msg = submit(web, "ani", "Jalan rusak", attachment=True)
    advance(web, msg, "in_progress")
    headers = bearer(web, "ani")
    wrong = web.client.request(
        "DELETE", "/api/v1/me?lang=en", json={"password": "wrong"}, headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "password_wrong"
    assert wrong.json()["errors"][0]["field"] == "password"
    assert acc(web, "ani").is_active
    bad = web.client.request("DELETE", "/api/v1/me", content=b"[1]", headers=headers)
    assert bad.status_code == 422

    r = web.client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORDS["ani"]}, headers=headers
    )
    assert r.status_code == 204 and not r.content
    assert web.client.get("/api/v1/me", headers=headers).status_code == 401
    login = web.client.post(
        "/api/v1/auth/login",
        json={"login": "ani", "password": PASSWORDS["ani"]},
        headers={"Authorization": "Bearer none"},
    )
    assert login.status_code == 401

    staff = bearer(web, "admin")
    detail = web.client.get(f"/api/v1/messages/{msg.id}", headers=staff).json()
    assert detail["author_deleted"] is True and "author" not in detail
    (photo,) = detail["attachments"]
    assert photo["url"] is None and photo["removed_reason"] == "account_deleted"
    assert photo["filename"] == "" and photo["removed_at"]
    gone = web.client.get(
        f"/api/v1/messages/{msg.id}/attachments/{photo['id']}?lang=en", headers=staff
    )
    assert gone.status_code == 404 and gone.json()["code"] == "attachment_removed"
    users = web.client.get("/api/v1/admin/users?role=user", headers=bearer(web, "root")).json()
    husk = next(u for u in users["items"] if u["id"] == web.ids["ani"])
    assert husk["deleted_at"] and husk["email"] == f"deleted:{web.ids['ani']}"
    assert husk["full_name"] == "" and husk.get("nik_masked") is None


# ----------------------------------------------------------------------- pages


def test_settings_offers_the_export_and_the_deletion_to_citizens_only(web: WebWorld) -> None:
    web.login("ani")
    page = web.client.get("/settings?lang=en")
    assert 'href="/settings/export"' in page.text and 'action="/settings/delete"' in page.text
    assert "Download my data (ZIP)" in page.text
    assert "Unduh data saya (ZIP)" in web.client.get("/settings?lang=id").text
    web.login("admin")
    page = web.client.get("/settings")
    assert "/settings/export" not in page.text and "/settings/delete" not in page.text


def test_settings_export_downloads_the_zip(web: WebWorld) -> None:
    submit(web, "ani", "Jalan rusak")
    web.login("ani")
    r = web.client.get("/settings/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    data, _ = read_zip(r.content)
    assert data["account"]["username"] == "ani"  # type: ignore[index]
    web.login("op_pupr")
    refused = web.client.get("/settings/export?lang=en")
    assert refused.status_code == 403
    assert "Only citizens&#39; accounts can do this" in refused.text


@pytest.mark.parametrize(
    ("lang", "wrong"),
    [("id", "Kata sandi saat ini salah."), ("en", "The current password is wrong.")],
)
def test_settings_delete_with_a_wrong_password_is_shown_again(
    web: WebWorld, lang: str, wrong: str
) -> None:
    web.login("ani")
    r = post(web, f"/settings/delete?lang={lang}", {"delete_password": "nope"})
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert wrong in r.text  # type: ignore[attr-defined]
    assert 'id="f-delete_password"' in r.text  # type: ignore[attr-defined]
    assert acc(web, "ani").is_active


def test_settings_delete_ends_the_session_and_keeps_the_messages(web: WebWorld) -> None:
    msg = submit(web, "ani", "Lampu jalan mati", attachment=True)
    web.login("ani")
    r = post(web, "/settings/delete", {"delete_password": PASSWORDS["ani"]})
    assert r.status_code == 303 and r.headers["location"] == "/"  # type: ignore[attr-defined]
    home = web.client.get("/?lang=en")
    assert "Your account was deleted. Your messages stay, without your name." in home.text
    again = web.client.get("/settings", follow_redirects=False)
    assert again.status_code in (302, 303) and again.headers["location"].startswith("/login")
    assert acc(web, "ani").deleted

    web.login("admin")
    detail = web.client.get(f"/backoffice/messages/{msg.id}?lang=en")
    assert detail.status_code == 200
    assert "Lampu jalan mati" in detail.text and "Deleted account" in detail.text
    assert "removed when the sender deleted their account" in detail.text
    assert f'href="/files/{msg.id}/' not in detail.text
    assert "Akun yang dihapus" in web.client.get(f"/backoffice/messages/{msg.id}?lang=id").text
    gone = web.client.get(f"/files/{msg.id}/{photo_of(web, msg).id}")  # type: ignore[attr-defined]
    assert gone.status_code == 404

    web.login("root")
    users = web.client.get("/admin/users?lang=en")
    assert "Deleted account" in users.text
    page = web.client.get(f"/admin/users/{web.ids['ani']}?lang=en")
    assert page.status_code == 200 and "Its owner deleted this account on" in page.text
    assert 'action="/admin/users/' not in page.text  # nothing to edit or reactivate
    audit = web.client.get("/admin/audit?lang=en")
    assert "Citizen deleted their account" in audit.text
    assert "Warga menghapus akunnya" in web.client.get("/admin/audit?lang=id").text


def test_pages_say_when_an_attachment_was_removed_after_the_retention_period(
    web: WebWorld,
) -> None:
    msg = submit(web, "ani", "Jembatan retak", attachment=True)
    advance(web, msg, "done")
    deps = web.core.deps
    deps.settings = attrs.evolve(deps.settings, attachment_retention_days=30)
    closed = deps.clock.now() - timedelta(days=30, minutes=5)
    with deps.db.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            text("UPDATE messages SET updated_at = :at WHERE id = :id"),
            {"at": closed.replace(tzinfo=None), "id": msg.id},
        )
    assert anyio.run(web.core.data_rights.sweep) == 1

    web.login("ani")
    page = web.client.get(f"/messages/{msg.id}?lang=en")
    assert "foto.jpg: removed 30 days after the message was closed" in page.text
    assert f'href="/files/{msg.id}/' not in page.text
    page_id = web.client.get(f"/messages/{msg.id}?lang=id")
    assert "foto.jpg: dihapus 30 hari setelah pesan ditutup" in page_id.text
    web.login("admin")
    staff = web.client.get(f"/backoffice/messages/{msg.id}?lang=en")
    assert "foto.jpg: removed 30 days after the message was closed" in staff.text
    api = web.client.get(f"/api/v1/messages/{msg.id}", headers=bearer(web, "admin")).json()
    assert api["attachments"][0]["removed_reason"] == "retention"
    assert api["attachments"][0]["url"] is None


def test_the_land_issue_and_evaluator_views_keep_a_deleted_senders_messages(
    web: WebWorld,
) -> None:
    core = web.core
    msg = submit(web, "ani", "Sengketa lahan kebun", attachment=True)

    async def classify() -> None:
        subs = await core.admin.subcategories(web.ids["cat_aduan"])
        land = next(s for s in subs if s.code == "permasalahan-lahan")
        await core.messages.act(
            ctx(web, "admin"),
            msg.id,
            "forward",
            category_id=web.ids["cat_aduan"],
            subcategory_id=land.id,
            agency_id=web.ids["agency_pupr"],
        )

    anyio.run(classify)
    web.login("ani")
    r = post(web, "/settings/delete", {"delete_password": PASSWORDS["ani"]})
    assert r.status_code == 303  # type: ignore[attr-defined]

    root = bearer(web, "root")
    land = web.client.get("/api/v1/land-issues", headers=root)
    assert land.status_code == 200
    assert msg.ticket in [m["ticket"] for m in land.json()["items"]]
    report = web.client.get("/api/v1/evaluator/report", headers=root)
    assert report.status_code == 200
    web.login("root")
    for page in ("/land-issues", "/evaluator", "/evaluator/messages", "/evaluator/report.csv"):
        answer = web.client.get(page)
        assert answer.status_code == 200, page
    assert "Sengketa lahan kebun" in web.client.get("/land-issues").text
