"""Public pages: the message table and tracking."""

from __future__ import annotations

import re

from .test_pages_public_support import advance, submit
from .world import NIKS, WebWorld


def test_public_messages_table_hides_sender_and_confidential(web: WebWorld) -> None:
    shown = submit(web, "ani", "Lampu jalan padam")
    secret = submit(web, "budi", "Rahasia dinas", confidential=True)
    waiting = submit(web, "ani", "Belum diteruskan")
    advance(web, shown, "forwarded")
    advance(web, secret, "forwarded")
    r = web.client.get("/messages")
    assert r.status_code == 200
    assert "Lampu jalan padam" in r.text and shown.ticket in r.text
    assert 'class="responsive"' in r.text and 'data-label="Tiket"' in r.text
    assert "Rahasia dinas" not in r.text and secret.ticket not in r.text
    assert waiting.ticket not in r.text  # not yet handled by the admin
    assert "Ani" not in r.text and "ani@example.org" not in r.text
    assert "Belum dikonfirmasi" in r.text  # the status, in Indonesian
    en = web.client.get("/messages?lang=en")
    assert "Not yet confirmed" in en.text and 'data-label="Ticket"' in en.text


def test_public_messages_search_and_cursor(web: WebWorld) -> None:
    for i in range(22):
        m = submit(web, "ani" if i % 2 else "budi", f"Pesan nomor {i:02d}")
        advance(web, m, "forwarded")
    first = web.client.get("/messages")
    assert first.status_code == 200
    assert "Pesan nomor 21" in first.text and "Pesan nomor 01" not in first.text
    match = re.search(r'href="/messages\?cursor=([^"&]+)"', first.text)
    assert match, first.text
    second = web.client.get(f"/messages?cursor={match.group(1)}")
    assert "Pesan nomor 01" in second.text and "Pesan nomor 21" not in second.text
    found = web.client.get("/messages", params={"q": "nomor 07"})
    assert "Pesan nomor 07" in found.text and "Pesan nomor 08" not in found.text
    assert 'value="nomor 07"' in found.text
    bad = web.client.get("/messages?cursor=%%%garbage")
    assert bad.status_code == 422 and "Pesan nomor" not in bad.text


def test_tracking_shows_status_and_log_without_echoing_the_nik(web: WebWorld) -> None:
    m = submit(web, "ani", "Banjir di Balikpapan")
    advance(web, m, "in_progress")
    secret = submit(web, "ani", "Sangat rahasia", confidential=True)
    form = web.client.get("/tracking")
    assert form.status_code == 200
    assert 'method="post" action="/tracking"' in form.text and 'for="f-nik"' in form.text
    r = web.client.post("/tracking", data={"nik": NIKS["ani"], "_csrf_token": web.csrf()})
    assert r.status_code == 200
    assert m.ticket in r.text and "Banjir di Balikpapan" in r.text
    # a confidential message is not tracked at all (its owner sees it after logging in)
    assert secret.ticket not in r.text and "Sangat rahasia" not in r.text
    assert "Sedang ditangani" in r.text
    assert "<details>" in r.text and "<summary>Riwayat</summary>" in r.text
    assert NIKS["ani"] not in r.text and "6472********0001" in r.text
    assert NIKS["ani"] not in str(r.url)


def test_tracking_unknown_and_bad_nik(web: WebWorld) -> None:
    unknown = web.client.post(
        "/tracking", data={"nik": "6472045504910009", "_csrf_token": web.csrf()}
    )
    assert unknown.status_code == 200 and "Tidak ada pesan" in unknown.text
    bad = web.client.post("/tracking", data={"nik": "12345", "_csrf_token": web.csrf()})
    assert bad.status_code == 422
    assert "NIK terdiri dari tepat 16 digit angka" in bad.text
    assert 'aria-invalid="true"' in bad.text and 'aria-describedby="e-nik"' in bad.text
    assert "12345" not in bad.text
    en = web.client.post("/tracking?lang=en", data={"nik": "12345", "_csrf_token": web.csrf()})
    assert en.status_code == 422 and "A NIK has exactly 16 digits" in en.text


def test_the_tracking_form_needs_the_csrf_token_signed_in_or_not(web: WebWorld) -> None:
    anonymous = web.client.post("/tracking", data={"nik": NIKS["ani"]})
    assert anonymous.status_code == 403  # a form: another site could have sent it
    ok = web.client.post("/tracking", data={"nik": NIKS["ani"], "_csrf_token": web.csrf()})
    assert ok.status_code == 200
    web.login("budi")
    r = web.client.post("/tracking", data={"nik": NIKS["ani"]})
    assert r.status_code == 403


def test_a_non_ascii_csrf_token_is_refused_not_an_error(web: WebWorld) -> None:
    web.login("budi")
    for sent in ("tøken", "é" * 40, web.csrf() + "ß"):
        r = web.client.post("/tracking", data={"nik": NIKS["ani"], "_csrf_token": sent})
        assert r.status_code == 403, sent
        r = web.client.post(
            "/api/v1/public/tracking",
            json={"nik": NIKS["ani"]},
            headers={"X-CSRF-Token": sent.encode("utf-8")},
        )
        assert r.status_code == 403, sent


def test_tracking_is_throttled_with_a_translated_message(web: WebWorld) -> None:
    statuses = [
        web.client.post(
            "/tracking", data={"nik": NIKS["budi"], "_csrf_token": web.csrf()}
        ).status_code
        for _ in range(10)
    ]
    assert set(statuses) == {200}  # ASPIRASI_RATE_LIMIT_TRACK_IP: 10 per 10 minutes first
    r = web.client.post("/tracking", data={"nik": NIKS["budi"], "_csrf_token": web.csrf()})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "Terlalu banyak percobaan." in r.text and NIKS["budi"] not in r.text
