"""Photos that just work (issue 22, item 1): size limits answered in the form and in
the API, several attachments per message, thumbnails and photos opened in place
behind the download's access check, the form again after an expired form token.

The app here accepts at most 2 files of 1 MB each (so a body past 3 MB is 413)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image

from .test_pages_public_support import advance, jpeg_bytes, message_count, submit
from .world import WebWorld

MB = 1024 * 1024


@pytest.fixture
def web_overrides() -> dict[str, Any]:
    return {"max_upload_mb": 1, "max_attachments": 2}


def gps_photo(size: tuple[int, int] = (1200, 900)) -> bytes:
    """A phone photo: a JPEG with EXIF carrying a GPS position."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825).update({1: "S", 2: (0.0, 30.0, 0.0), 3: "E", 4: (117.0, 9.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def send_form(web: WebWorld, files: list[tuple[str, bytes, str]], **headers: str) -> Any:
    return web.client.post(
        "/my/messages/new",
        data={"subject": "Jalan berlubang", "body": "Di depan SDN 012.", "_csrf_token": web.csrf()},
        files=[("attachment", f) for f in files],
        headers=headers,
        follow_redirects=False,
    )


def send_api(web: WebWorld, token: str, files: list[tuple[str, bytes, str]]) -> Any:
    return web.client.post(
        "/api/v1/messages",
        data={"subject": "Lampu padam", "body": "Sejak seminggu."},
        files=[("attachment", f) for f in files],
        headers={"Authorization": f"Bearer {token}"},
    )


def stored_files(web: WebWorld) -> list[Any]:
    root = web.core.deps.files.root  # type: ignore[attr-defined]
    return [p for p in root.rglob("*") if p.is_file()]


# ---------------------------------------------------------------------- the form
def test_form_takes_several_photos_and_a_pdf_in_one_message(web: WebWorld) -> None:
    web.login("ani")
    page = web.client.get("/my/messages/new")
    assert 'name="attachment"' in page.text and " multiple " in page.text
    assert 'data-max-files="2"' in page.text and 'src="/static/js/upload.js"' in page.text
    r = send_form(
        web,
        [("jalan.jpg", gps_photo(), "image/jpeg"), ("surat.pdf", pdf_bytes(), "application/pdf")],
    )
    assert r.status_code == 303, r.text
    detail = web.client.get(r.headers["location"])
    assert "jalan.jpg" in detail.text and "surat.pdf" in detail.text
    assert detail.text.count('loading="lazy"') == 1  # the photo's thumbnail; the PDF a link
    assert len(stored_files(web)) == 2


def test_too_large_or_too_many_files_reshow_the_form_with_the_text(web: WebWorld) -> None:
    web.login("ani")
    big = jpeg_bytes() + b"\0" * (MB + 10)
    r = send_form(web, [("besar.jpg", big, "image/jpeg")])
    assert r.status_code == 422 and "Ukuran berkas lebih dari 1 MB." in r.text
    assert 'value="Jalan berlubang"' in r.text and "Di depan SDN 012." in r.text
    three = [("a.jpg", jpeg_bytes(), "image/jpeg")] * 3
    r = send_form(web, three)
    assert r.status_code == 422 and "Lampirkan paling banyak 2 berkas." in r.text
    assert 'value="Jalan berlubang"' in r.text
    # Each file is checked; the refused one is named, and nothing is stored.
    r = send_form(
        web,
        [("baik.jpg", jpeg_bytes(), "image/jpeg"), ("rusak.jpg", b"\xff\xd8\xffxx", "image/jpeg")],
    )
    assert r.status_code == 422 and "rusak.jpg" in r.text and "baik.jpg" not in r.text
    assert "Gambar tidak dapat dibaca." in r.text
    assert message_count(web) == 0 and stored_files(web) == []


def test_a_body_past_every_limit_answers_with_the_form_not_a_dead_end(web: WebWorld) -> None:
    web.login("ani")
    huge = jpeg_bytes() + b"\0" * (3 * MB)
    r = send_form(web, [("besar.jpg", huge, "image/jpeg")])
    assert r.status_code == 413
    assert 'action="/my/messages/new"' in r.text and "data-upload" in r.text
    assert "paling banyak 2 berkas dengan ukuran masing-masing 1 MB" in r.text
    r = web.client.post(
        "/my/messages/new?lang=en",
        data={"subject": "x", "body": "y", "_csrf_token": web.csrf()},
        files={"attachment": ("besar.jpg", huge, "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 413 and "at most 2 files of 1 MB each" in r.text
    assert message_count(web) == 0


def test_an_expired_form_token_shows_the_form_again_with_the_typed_text(web: WebWorld) -> None:
    web.login("ani")
    posted = {"subject": "Tetap ada", "body": "Teks panjang warga.", "_csrf_token": "expired"}
    own = web.client.post(
        "/my/messages/new", data=posted, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert own.status_code == 403
    assert 'value="Tetap ada"' in own.text and "Teks panjang warga." in own.text
    assert "Formulir sudah kedaluwarsa. Periksa pesan Anda lalu kirim lagi." in own.text
    # Posted from another site: the form again, but never filled with its text.
    other = web.client.post(
        "/my/messages/new", data=posted, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert other.status_code == 403 and "Tetap ada" not in other.text
    assert 'action="/my/messages/new"' in other.text
    # Without a session (no cookie, so no token is checked): to the log-in page,
    # which comes back to the form.
    web.client.cookies.delete("aspirasi_session")
    r = web.client.post("/my/messages/new", data=posted, follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"] == "/login?next=/my/messages/new"
    assert message_count(web) == 0


def test_the_form_script_gets_the_location_and_the_notice_waits_for_it(web: WebWorld) -> None:
    web.login("ani")
    r = send_form(web, [("foto.jpg", jpeg_bytes(), "image/jpeg")], **{"X-Aspirasi-Upload": "1"})
    assert r.status_code == 200, r.text
    location = r.json()["location"]
    assert location.startswith("/messages/")
    assert "Pesan Anda telah terkirim." in web.client.get(location).text


# ---------------------------------------------------------------------- the API
def test_api_takes_several_parts_and_answers_problems(web: WebWorld) -> None:
    token = web.token("ani")
    r = send_api(
        web, token, [("a.jpg", gps_photo(), "image/jpeg"), ("b.jpg", jpeg_bytes(), "image/jpeg")]
    )
    assert r.status_code == 201, r.text
    detail = web.client.get(
        f"/api/v1/messages/{r.json()['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert [a["filename"] for a in detail.json()["attachments"]] == ["a.jpg", "b.jpg"]
    r = send_api(web, token, [("a.jpg", jpeg_bytes(), "image/jpeg")] * 3)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["code"] == "too_many_files"
    r = send_api(web, token, [("besar.jpg", jpeg_bytes() + b"\0" * (MB + 10), "image/jpeg")])
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "file_too_large"
    r = send_api(web, token, [("besar.jpg", jpeg_bytes() + b"\0" * (3 * MB), "image/jpeg")])
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "too_large"


# ---------------------------------------------------------------------- thumbnails
def test_photos_are_stored_without_exif_and_shown_as_thumbnails_to_readers_only(
    web: WebWorld,
) -> None:
    web.login("ani")
    r = send_form(
        web,
        [
            ("jalan.jpg", gps_photo((3000, 2000)), "image/jpeg"),
            ("surat.pdf", pdf_bytes(), "application/pdf"),
        ],
    )
    assert r.status_code == 303, r.text
    message_id = int(r.headers["location"].rsplit("/", 1)[1])
    detail = web.client.get(f"/messages/{message_id}")
    found = re.findall(rf'"/files/{message_id}/(\d+)[/"]', detail.text)
    photo, pdf = sorted({int(x) for x in found})
    base = f"/files/{message_id}"

    full = web.client.get(f"{base}/{photo}/view")
    assert full.status_code == 200 and full.headers["content-disposition"].startswith("inline;")
    with Image.open(io.BytesIO(full.content)) as image:
        assert not image.getexif() and max(image.size) <= 2560
    small = web.client.get(f"{base}/{photo}/thumb")
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(small.content)) as image:
        assert max(image.size) == 320
    # A PDF stays a download and has no thumbnail.
    assert (
        web.client.get(f"{base}/{pdf}/view")
        .headers["content-disposition"]
        .startswith("attachment;")
    )
    assert web.client.get(f"{base}/{pdf}/thumb").status_code == 404

    # Staff of the agency see them once the message is theirs; nobody else ever.
    urls = [f"{base}/{photo}/thumb", f"{base}/{photo}/view"]
    web.login("budi")
    assert [web.client.get(u).status_code for u in urls] == [404, 404]
    web.login("op_pupr")
    assert [web.client.get(u).status_code for u in urls] == [404, 404]
    web.login("admin")
    page = web.client.get(f"/backoffice/messages/{message_id}")
    assert f'src="{base}/{photo}/thumb"' in page.text and f'href="{base}/{photo}/view"' in page.text
    web.client.cookies.clear()
    anon = web.client.get(urls[0], follow_redirects=False)
    assert anon.status_code in (302, 303)


def test_thumbnail_follows_the_agency_that_holds_the_message(web: WebWorld) -> None:
    m = submit(web, "ani", attachment=True)
    url = f"/files/{m.id}/{m.attachments[0].id}/thumb"
    advance(web, m, "forwarded", agency="dinkes")
    web.login("op_pupr")
    assert web.client.get(url).status_code == 404
    web.login("op_dinkes")
    assert web.client.get(url).status_code == 200
