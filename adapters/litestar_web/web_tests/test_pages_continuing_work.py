"""Work that continues, on the pages (issue 22): return to the admin, follow-ups,
oversight reviews and reopening, and the log's words."""

from __future__ import annotations

import anyio

from aspirasi_core.services import Context

from .test_pages_backoffice_support import (
    actor_of,
    csrf_field,
    forward_to,
    login,
    status_of,
    submit,
    text_of,
)
from .world import WebWorld


def _act(web: WebWorld, who: str, mid: int, action: str, **fields: object) -> None:
    async def go() -> None:
        await web.core.messages.act(
            Context(actor=actor_of(web, who)),  # type: ignore[arg-type]
            mid,
            action,
            **fields,
        )

    anyio.run(go)


def _post(web: WebWorld, url: str, **data: str) -> object:
    return web.client.post(url, data={**csrf_field(web), **data}, follow_redirects=False)


def test_an_operator_returns_a_message_and_the_admin_sees_why(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid)
    login(web, "op_pupr")
    page = web.client.get(f"/backoffice/messages/{mid}")
    assert f'action="/backoffice/messages/{mid}/return"' in page.text
    empty = _post(web, f"/backoffice/messages/{mid}/return", reason=" ")
    assert empty.status_code == 422  # type: ignore[attr-defined]
    assert 'id="return"' in empty.text and "has-error" in empty.text  # type: ignore[attr-defined]
    assert status_of(web, mid) == "forwarded"

    r = _post(web, f"/backoffice/messages/{mid}/return", reason="Bukan kewenangan kami.")
    assert r.status_code == 303 and r.headers["location"] == "/backoffice"  # type: ignore[attr-defined]
    assert status_of(web, mid) == "submitted"

    login(web, "admin")
    # the new message and its return
    assert web.client.get("/backoffice/notifications/count").text.strip() == "2"
    detail = text_of(web.client.get(f"/backoffice/messages/{mid}").text)
    assert "Dikembalikan ke admin oleh Dinas pupr" in detail
    assert "Bukan kewenangan kami." in detail
    assert "Diteruskan ke Dinas pupr" in detail  # the forward names the agency
    assert "Belum dikonfirmasi → Belum dikonfirmasi" not in detail


def test_follow_ups_between_sender_and_agency(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid)
    login(web, "op_pupr")
    r = _post(web, f"/backoffice/messages/{mid}/followups", body="Di RT berapa?")
    assert r.status_code == 303  # type: ignore[attr-defined]

    login(web, "ani")
    page = web.client.get(f"/messages/{mid}")
    assert "Di RT berapa?" in page.text and "Dinas pupr" in page.text
    empty = _post(web, f"/messages/{mid}/followups", body="")
    assert empty.status_code == 422 and 'id="followups"' in empty.text  # type: ignore[attr-defined]
    r = _post(web, f"/messages/{mid}/followups", body="RT 05 dekat masjid")
    assert r.status_code == 303  # type: ignore[attr-defined]
    # Another citizen cannot write into it.
    login(web, "budi")
    other = _post(web, f"/messages/{mid}/followups", body="hai")
    assert other.status_code == 404  # type: ignore[attr-defined]

    login(web, "op_pupr")
    detail = web.client.get(f"/backoffice/messages/{mid}").text
    assert "RT 05 dekat masjid" in detail
    login(web, "op_dinkes")
    assert web.client.get(f"/backoffice/messages/{mid}").status_code == 404


def test_a_poor_rating_is_reviewed_and_reopened(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid)
    _act(web, "op_pupr", mid, "start")
    _act(web, "op_pupr", mid, "reply", answer="Sudah diperbaiki.")
    login(web, "ani")
    rated = _post(web, f"/my/messages/{mid}/rating", stars="1", comment="Belum diperbaiki")
    assert rated.status_code == 303  # type: ignore[attr-defined]

    login(web, "op_pupr")
    assert web.client.get("/backoffice/reviews").status_code == 403
    login(web, "admin")
    listing = web.client.get("/backoffice/reviews")
    assert listing.status_code == 200 and f"/backoffice/messages/{mid}#review" in listing.text
    detail = web.client.get(f"/backoffice/messages/{mid}").text
    assert f'action="/backoffice/messages/{mid}/reopen"' in detail
    missing = _post(web, f"/backoffice/messages/{mid}/reopen", reason="")
    assert missing.status_code == 422  # type: ignore[attr-defined]
    r = _post(web, f"/backoffice/messages/{mid}/reopen", reason="Periksa lagi di lokasi.")
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert status_of(web, mid) == "in_progress"
    page = text_of(web.client.get(f"/backoffice/messages/{mid}").text)
    assert "Dibuka kembali untuk Dinas pupr" in page
    assert "No review is open" not in page
    assert "Belum ada tinjauan yang terbuka." in web.client.get("/backoffice/reviews").text


def test_a_reopened_message_done_again_is_rated_anew(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid)
    _act(web, "op_pupr", mid, "start")
    _act(web, "op_pupr", mid, "reply", answer="Sudah diperbaiki.")
    login(web, "ani")
    assert _post(web, f"/my/messages/{mid}/rating", stars="1").status_code == 303  # type: ignore[attr-defined]
    assert f"/messages/{mid}#rating" not in web.client.get("/dashboard").text
    _act(web, "admin", mid, "reopen", reason="Periksa lagi di lokasi.")
    # while the agency works on it again, there is nothing to rate
    assert f'action="/my/messages/{mid}/rating"' not in web.client.get(f"/messages/{mid}").text
    _act(web, "op_pupr", mid, "reply", answer="Sudah diaspal ulang.")
    assert f"/messages/{mid}#rating" in web.client.get("/dashboard").text
    page = web.client.get(f"/messages/{mid}")
    assert f'action="/my/messages/{mid}/rating"' in page.text
    assert "Anda memberi jawaban sebelumnya 1 dari 5 bintang" in text_of(page.text)
    r = _post(web, f"/my/messages/{mid}/rating", stars="5", comment="Mantap")
    assert r.status_code == 303  # type: ignore[attr-defined]
    page = web.client.get(f"/messages/{mid}")
    assert f'action="/my/messages/{mid}/rating"' not in page.text
    assert "5 dari 5 bintang" in text_of(page.text)
    assert f"/messages/{mid}#rating" not in web.client.get("/dashboard").text
    again = _post(web, f"/my/messages/{mid}/rating", stars="4")
    assert again.status_code == 409  # type: ignore[attr-defined]
    # the poor rating stays with its (closed) review
    reviews = web.core.deps.db.run_sync(
        lambda uow: uow.reviews.listing(open_only=False, before_id=None, limit=50), write=False
    )
    assert [(r.stars, str(r.outcome)) for r in reviews if r.message_id == mid] == [(1, "reopened")]


def test_a_message_in_progress_says_how_long_it_is_handled(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid)
    _act(web, "op_pupr", mid, "start")
    _act(web, "op_pupr", mid, "progress", note="Survei lokasi")
    login(web, "op_pupr")
    page = text_of(web.client.get(f"/backoffice/messages/{mid}").text)
    assert "sedang ditangani selama" in page
    assert "Pembaruan" in page
    login(web, "ani")
    own = text_of(web.client.get(f"/messages/{mid}").text)
    assert "Pembaruan" in own and "Diteruskan ke Dinas pupr" in own


def test_the_workflow_vocabulary_is_translated() -> None:
    from aspirasi_core.domain.vocabulary import all_texts
    from aspirasi_web.i18n import Translations

    t = Translations("Asia/Makassar").get("id")
    untranslated = sorted(text for text in all_texts() if t(text) == text)
    assert untranslated == []


def test_a_first_log_in_is_a_welcome_and_the_next_one_a_welcome_back(web: WebWorld) -> None:
    from aspirasi_core.security.tokens import TokenPurpose

    from .test_pages_public_support import make_token, unverify
    from .world import PASSWORDS

    unverify(web, "budi")
    token = make_token(web, "budi", TokenPurpose.VERIFY_EMAIL)
    web.client.cookies.clear()
    verified = _post(web, "/verify-email", token=token)
    assert verified.status_code == 303  # type: ignore[attr-defined]

    def log_in() -> str:
        r = _post(web, "/login", login="budi", password=PASSWORDS["budi"])
        assert r.status_code == 303  # type: ignore[attr-defined]
        return text_of(web.client.get(r.headers["location"]).text)  # type: ignore[attr-defined]

    first = log_in()
    assert "Selamat datang! Akun Anda siap" in first and "Selamat datang kembali" not in first
    web.client.post("/logout", data=csrf_field(web))
    assert "Selamat datang kembali" in log_in()


def test_classifying_groups_sub_categories_and_refuses_a_mismatch_in_the_form(
    web: WebWorld,
) -> None:
    mid = submit(web)
    login(web, "admin")
    page = web.client.get(f"/backoffice/messages/{mid}").text
    assert 'data-filters="f-subcategory_id"' in page
    assert f'data-category="{web.ids["cat_aduan"]}"' in page
    r = _post(
        web,
        f"/backoffice/messages/{mid}/forward",
        category_id=str(web.ids["cat_aspirasi"]),
        subcategory_id=str(web.ids["sub_infra"]),
        agency_id=str(web.ids["agency_pupr"]),
    )
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert 'id="e-subcategory_id"' in r.text  # type: ignore[attr-defined]
    # The choices are kept: the category chosen, to correct the sub-category.
    assert f'<option value="{web.ids["cat_aspirasi"]}" selected>' in r.text  # type: ignore[attr-defined]
    assert status_of(web, mid) == "submitted"


def test_the_earlier_rating_stays_visible_after_rating_anew(web: WebWorld) -> None:
    """Rating a reopened message anew keeps the first rating and its comment, on
    the sender's page, the staff's detail page and the API, in both languages."""
    mid = submit(web)
    forward_to(web, mid)
    _act(web, "op_pupr", mid, "start")
    _act(web, "op_pupr", mid, "reply", answer="Sudah diperbaiki.")
    login(web, "ani")
    first = _post(web, f"/my/messages/{mid}/rating", stars="1", comment="Lubangnya masih ada")
    assert first.status_code == 303  # type: ignore[attr-defined]
    _act(web, "admin", mid, "reopen", reason="Periksa lagi di lokasi.")
    _act(web, "op_pupr", mid, "reply", answer="Sudah diaspal ulang.")
    assert _post(web, f"/my/messages/{mid}/rating", stars="5", comment="Mantap").status_code == 303  # type: ignore[attr-defined]
    page = text_of(web.client.get(f"/messages/{mid}").text)
    assert "5 dari 5 bintang" in page and "Mantap" in page
    assert "Penilaian sebelumnya" in page
    assert "1 dari 5 bintang" in page and "Lubangnya masih ada" in page
    english = text_of(web.client.get(f"/messages/{mid}?lang=en").text)
    assert "Earlier ratings" in english and "1 of 5 stars" in english
    api = web.client.get(f"/api/v1/messages/{mid}").json()
    assert api["rating"]["stars"] == 5
    assert [(r["stars"], r["comment"]) for r in api["replaced_ratings"]] == [
        (1, "Lubangnya masih ada")
    ]
    for staff in ("op_pupr", "admin"):
        login(web, staff)
        detail = text_of(web.client.get(f"/backoffice/messages/{mid}").text)
        assert "Penilaian sebelumnya" in detail and "Lubangnya masih ada" in detail, staff
