"""Citizen pages: dashboard, settings, sending, history, detail, withdraw, rating, files."""

from __future__ import annotations

import pytest

from .test_pages_public_support import acc, advance, jpeg_bytes, message_count, submit
from .world import PASSWORDS, WebWorld

CITIZEN_PAGES = ("/dashboard", "/settings", "/my/messages/new", "/my/messages")


def post(web: WebWorld, url: str, data: dict[str, str], **kw: object) -> object:
    return web.client.post(
        url, data={**data, "_csrf_token": web.csrf()}, follow_redirects=False, **kw
    )


@pytest.mark.parametrize("path", CITIZEN_PAGES)
def test_citizen_pages_need_a_verified_citizen(web: WebWorld, path: str) -> None:
    r = web.client.get(path, follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login?next=")
    web.login("ani")
    r = web.client.get(path)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    web.login("op_pupr")
    r = web.client.get(path, follow_redirects=False)
    if path == "/settings":  # staff have settings too
        assert r.status_code == 200
    else:
        assert r.status_code == 303 and r.headers["location"] == "/backoffice"


def test_dashboard_counts_own_messages(web: WebWorld) -> None:
    done = submit(web, "ani", "Sudah selesai")
    advance(web, done, "done")
    submit(web, "ani", "Masih menunggu")
    submit(web, "budi", "Punya Budi")
    web.login("ani")
    r = web.client.get("/dashboard")
    assert "Sudah selesai" in r.text and "Masih menunggu" in r.text
    assert "Punya Budi" not in r.text
    assert "Halo, Ani." in r.text


# ---------------------------------------------------------------------- settings
def test_settings_profile_save_and_bad_input(web: WebWorld) -> None:
    web.login("ani")
    page = web.client.get("/settings")
    assert 'value="Ani"' in page.text and "6472********0001" in page.text
    r = post(web, "/settings", {"full_name": "Ani Rahmawati", "language": "en"})
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    saved = acc(web, "ani")
    assert saved.full_name == "Ani Rahmawati" and saved.language == "en"
    assert "Your profile was saved." in web.client.get("/settings").text
    bad = post(web, "/settings", {"full_name": "", "language": "xx"})
    assert bad.status_code == 422
    assert "This field is required." in bad.text and "Choose Indonesian or English." in bad.text
    assert acc(web, "ani").full_name == "Ani Rahmawati"
    bad_id = post(web, "/settings?lang=id", {"full_name": "", "language": "id"})
    assert bad_id.status_code == 422 and "Kolom ini wajib diisi." in bad_id.text


def test_change_password_keeps_this_session_only(web: WebWorld) -> None:
    web.login("ani")
    old = web.client.cookies.get("aspirasi_session")
    wrong = post(
        web,
        "/settings/password",
        {
            "current_password": "not-it-at-all",
            "password": "x-new-password-1",
            "password_confirm": "x-new-password-1",
        },
    )
    assert wrong.status_code == 422 and "Kata sandi saat ini salah." in wrong.text
    r = post(
        web,
        "/settings/password",
        {
            "current_password": PASSWORDS["ani"],
            "password": "x-new-password-1",
            "password_confirm": "x-new-password-1",
        },
    )
    assert r.status_code == 303
    new = web.client.cookies.get("aspirasi_session")
    assert new and new != old
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 200
    web.client.cookies.set("aspirasi_session", old)
    assert web.client.get("/dashboard", follow_redirects=False).status_code in (302, 303)


# ---------------------------------------------------------------------- send a message
def test_send_a_message_with_a_jpg(web: WebWorld) -> None:
    web.login("ani")
    page = web.client.get("/my/messages/new")
    assert 'enctype="multipart/form-data"' in page.text and 'for="f-attachment"' in page.text
    assert "10 MB" in page.text
    r = web.client.post(
        "/my/messages/new",
        data={
            "subject": "Jembatan retak",
            "body": "Di jalan A.",
            "anonymous": "1",
            "_csrf_token": web.csrf(),
        },
        files={"attachment": ("foto.jpg", jpeg_bytes(), "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/messages/")
    detail = web.client.get(r.headers["location"])
    assert "Jembatan retak" in detail.text and "Pesan Anda telah terkirim." in detail.text
    assert 'href="/files/' in detail.text
    assert message_count(web) == 1


def test_send_a_message_refuses_a_fake_jpg_and_keeps_values(web: WebWorld) -> None:
    web.login("ani")
    r = web.client.post(
        "/my/messages/new",
        data={
            "subject": "Jembatan retak",
            "body": "Di jalan A.",
            "confidential": "1",
            "_csrf_token": web.csrf(),
        },
        files={"attachment": ("foto.jpg", b"<html>not a picture</html>", "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert "Hanya berkas JPG dan PDF yang diterima." in r.text
    assert 'aria-describedby="e-attachment"' in r.text
    assert 'value="Jembatan retak"' in r.text and "Di jalan A." in r.text
    assert 'name="confidential" type="checkbox" value="1" checked' in r.text
    assert message_count(web) == 0


@pytest.mark.parametrize(
    ("lang", "text"), [("id", "Kolom ini wajib diisi."), ("en", "This field is required.")]
)
def test_send_a_message_bad_input(web: WebWorld, lang: str, text: str) -> None:
    web.login("ani")
    r = post(web, f"/my/messages/new?lang={lang}", {"subject": "", "body": "Isi saja"})
    assert r.status_code == 422 and text in r.text
    assert 'aria-describedby="e-subject"' in r.text and "Isi saja" in r.text
    assert message_count(web) == 0


def test_send_a_message_needs_csrf(web: WebWorld) -> None:
    web.login("ani")
    r = web.client.post(
        "/my/messages/new", data={"subject": "S", "body": "B"}, follow_redirects=False
    )
    assert r.status_code == 403 and message_count(web) == 0


# ---------------------------------------------------------------------- history, withdraw
def test_history_and_withdraw_only_while_submitted(web: WebWorld) -> None:
    fresh = submit(web, "ani", "Bisa ditarik")
    moved = submit(web, "ani", "Sudah diteruskan")
    advance(web, moved, "forwarded")
    web.login("ani")
    page = web.client.get("/my/messages")
    assert "Bisa ditarik" in page.text and "Sudah diteruskan" in page.text
    assert f'action="/my/messages/{fresh.id}/withdraw"' in page.text
    assert f'action="/my/messages/{moved.id}/withdraw"' not in page.text
    assert "data-confirm=" in page.text
    refused = post(web, f"/my/messages/{moved.id}/withdraw", {})
    assert refused.status_code == 409
    r = post(web, f"/my/messages/{fresh.id}/withdraw", {})
    assert r.status_code == 303 and r.headers["location"] == "/my/messages"
    after = web.client.get("/my/messages")
    assert "Bisa ditarik" not in after.text and "Pesan telah ditarik." in after.text
    assert web.client.get(f"/messages/{fresh.id}").status_code == 404


def test_withdraw_someone_elses_message_is_not_found(web: WebWorld) -> None:
    m = submit(web, "ani")
    web.login("budi")
    assert post(web, f"/my/messages/{m.id}/withdraw", {}).status_code == 404
    web.client.cookies.delete("aspirasi_session")
    web.login("ani")
    assert (
        web.client.post(f"/my/messages/{m.id}/withdraw", follow_redirects=False).status_code == 403
    )
    assert message_count(web) == 1


# ---------------------------------------------------------------------- detail, rating
def test_message_detail_access(web: WebWorld) -> None:
    m = submit(web, "ani", "Detail milik Ani")
    r = web.client.get(f"/messages/{m.id}", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")
    web.login("budi")
    assert web.client.get(f"/messages/{m.id}").status_code == 404
    web.login("op_pupr")
    assert web.client.get(f"/messages/{m.id}").status_code == 404
    web.login("admin")
    assert web.client.get(f"/messages/{m.id}").status_code == 200
    web.login("ani")
    page = web.client.get(f"/messages/{m.id}")
    assert page.status_code == 200 and "Detail milik Ani" in page.text
    assert 'id="log"' in page.text and "Terkirim" in page.text


def test_rating_once_done(web: WebWorld) -> None:
    m = submit(web, "ani", "Perlu dinilai")
    advance(web, m, "done")
    web.login("ani")
    page = web.client.get(f"/messages/{m.id}")
    assert "Sudah diperbaiki." in page.text  # the reply
    assert "<fieldset" in page.text and 'type="radio" name="stars" value="5"' in page.text
    # Each star is a radio button with its own name, in both languages.
    assert ">1 bintang</span></label>" in page.text and ">5 bintang</span></label>" in page.text
    english = web.client.get(f"/messages/{m.id}?lang=en").text
    assert ">1 star</span></label>" in english and ">5 stars</span></label>" in english
    # The dashboard asks for the rating of the answered, unrated message.
    call = f'href="/messages/{m.id}#rating"'
    dashboard = web.client.get("/dashboard").text
    assert "Mohon beri nilai atas jawaban yang Anda terima" in dashboard and call in dashboard
    bad = post(web, f"/my/messages/{m.id}/rating", {"stars": "9", "comment": "Keren"})
    assert bad.status_code == 422 and "Pilih 1 sampai 5 bintang." in bad.text
    assert "Keren" in bad.text
    bad_en = post(web, f"/my/messages/{m.id}/rating?lang=en", {"comment": "x"})
    assert bad_en.status_code == 422 and "Choose from 1 to 5 stars." in bad_en.text
    r = post(web, f"/my/messages/{m.id}/rating", {"stars": "4", "comment": "Cepat"})
    assert r.status_code == 303 and r.headers["location"] == f"/messages/{m.id}"
    after = web.client.get(f"/messages/{m.id}")
    assert "4 dari 5 bintang" in after.text and 'name="stars"' not in after.text
    assert call not in web.client.get("/dashboard").text  # rated: no call any more
    again = post(web, f"/my/messages/{m.id}/rating", {"stars": "5", "comment": ""})
    assert again.status_code == 409


def test_rating_before_done_is_refused(web: WebWorld) -> None:
    m = submit(web, "ani")
    web.login("ani")
    assert 'name="stars"' not in web.client.get(f"/messages/{m.id}").text
    r = post(web, f"/my/messages/{m.id}/rating", {"stars": "5", "comment": ""})
    assert r.status_code == 409


# ---------------------------------------------------------------------- files
def test_attachment_download_is_authorized(web: WebWorld) -> None:
    m = submit(web, "ani", attachment=True)
    att = m.attachments[0]
    url = f"/files/{m.id}/{att.id}"
    anon = web.client.get(url, follow_redirects=False)
    assert anon.status_code in (302, 303)
    web.login("ani")
    r = web.client.get(url)
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert web.client.get(f"/files/{m.id}/{att.id + 999}").status_code == 404
    web.login("budi")
    assert web.client.get(url).status_code == 404
    web.login("op_pupr")  # not forwarded to the agency yet
    assert web.client.get(url).status_code == 404
    advance(web, m, "forwarded", agency="dinkes")
    assert web.client.get(url).status_code == 404  # another agency's message
    web.login("op_dinkes")
    assert web.client.get(url).status_code == 200


def test_send_a_message_with_a_5_mb_photo_under_the_default_limits(web: WebWorld) -> None:
    """Issue 22: a 5.1 MB phone photo was refused; by default a message takes up to
    5 files of 10 MB each (the limits themselves: test_pages_photos.py)."""
    web.login("ani")
    page = web.client.get("/my/messages/new")
    assert 'data-max-files="5"' in page.text and 'data-max-bytes="10485760"' in page.text
    photo = jpeg_bytes() + b"\0" * (5 * 1024 * 1024 + 100 * 1024)
    r = web.client.post(
        "/my/messages/new",
        data={"subject": "Besar", "body": "Lampiran besar", "_csrf_token": web.csrf()},
        files={"attachment": ("foto.jpg", photo, "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert message_count(web) == 1
