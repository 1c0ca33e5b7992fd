"""Back-office pages: inbox, list, detail and the action forms."""

from __future__ import annotations

from .test_pages_backoffice_support import (
    csrf_field,
    forward_to,
    log_count,
    login,
    pdf_bytes,
    set_lang,
    status_of,
    submit,
)
from .world import WebWorld


def test_admin_forwards_and_operator_handles_to_the_end(web: WebWorld) -> None:
    mid = submit(web)
    login(web, "admin")
    inbox = web.client.get("/backoffice")
    assert inbox.status_code == 200
    assert "Jalan rusak di Samarinda" in inbox.text
    assert f"/backoffice/messages/{mid}" in inbox.text
    detail = web.client.get(f"/backoffice/messages/{mid}")
    assert detail.status_code == 200
    assert f'action="/backoffice/messages/{mid}/forward"' in detail.text
    assert f'action="/backoffice/messages/{mid}/reject"' in detail.text
    assert 'name="_csrf_token"' in detail.text
    r = web.client.post(
        f"/backoffice/messages/{mid}/forward",
        data={
            **csrf_field(web),
            "category_id": str(web.ids["cat_aduan"]),
            "subcategory_id": str(web.ids["sub_infra"]),
            "agency_id": str(web.ids["agency_pupr"]),
            "note": "Mohon ditindaklanjuti",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/backoffice/messages/{mid}"
    page = web.client.get(r.headers["location"])
    assert "Pesan telah diteruskan." in page.text or "forwarded" in page.text.lower()
    assert status_of(web, mid) == "forwarded"

    # the operator of that agency
    login(web, "op_pupr")
    assert web.client.get("/backoffice/notifications/count").text.strip() == "1"
    inbox = web.client.get("/backoffice")
    assert "Jalan rusak di Samarinda" in inbox.text
    listing = web.client.get("/backoffice/messages")
    assert f"/backoffice/messages/{mid}" in listing.text
    detail = web.client.get(f"/backoffice/messages/{mid}")
    assert detail.status_code == 200
    assert "/forward" not in detail.text.split('id="h-log"')[0].split("h-actions")[-1]
    # reply is shown but disabled until the message is being handled
    assert "disabled" in detail.text and f"/backoffice/messages/{mid}/reply" not in detail.text
    r = web.client.post(
        f"/backoffice/messages/{mid}/start",
        data={**csrf_field(web), "confirm": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert status_of(web, mid) == "in_progress"
    detail = web.client.get(f"/backoffice/messages/{mid}")
    assert f"/backoffice/messages/{mid}/reply" in detail.text
    assert f"/backoffice/messages/{mid}/progress" in detail.text
    before = log_count(web, mid)
    r = web.client.post(
        f"/backoffice/messages/{mid}/progress",
        data={**csrf_field(web), "note": "Tim sudah survei lokasi"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert log_count(web, mid) == before + 1
    assert "Tim sudah survei lokasi" in web.client.get(f"/backoffice/messages/{mid}").text
    r = web.client.post(
        f"/backoffice/messages/{mid}/reply",
        data={**csrf_field(web), "answer": "Jalan sudah diperbaiki."},
        files={"attachment": ("jawaban.pdf", pdf_bytes(), "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert status_of(web, mid) == "done"
    detail = web.client.get(f"/backoffice/messages/{mid}")
    assert "Jalan sudah diperbaiki." in detail.text
    assert f'href="/files/{mid}/' in detail.text and "jawaban" in detail.text


def test_other_agency_operator_gets_404_everywhere(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid, "pupr")
    login(web, "op_dinkes")
    assert web.client.get(f"/backoffice/messages/{mid}").status_code == 404
    assert f"/backoffice/messages/{mid}" not in web.client.get("/backoffice/messages").text
    posts = {
        "forward": {
            "category_id": str(web.ids["cat_aduan"]),
            "subcategory_id": str(web.ids["sub_infra"]),
            "agency_id": str(web.ids["agency_dinkes"]),
        },
        "reject": {"reason": "x"},
        "start": {"confirm": "1"},
        "progress": {"note": "x"},
        "reply": {"answer": "x"},
    }
    for action, data in posts.items():
        r = web.client.post(
            f"/backoffice/messages/{mid}/{action}",
            data={**csrf_field(web), **data},
            follow_redirects=False,
        )
        assert r.status_code == 404, (action, r.status_code)
    assert status_of(web, mid) == "forwarded"


def test_citizens_and_anonymous_are_kept_out(web: WebWorld) -> None:
    r = web.client.get("/backoffice", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")
    login(web, "ani")
    for path in ("/backoffice", "/backoffice/messages", "/backoffice/notifications"):
        assert web.client.get(path, follow_redirects=False).status_code == 403


def test_reject_without_reason_reshows_the_form_in_both_languages(web: WebWorld) -> None:
    mid = submit(web)
    login(web, "admin")
    for lang, phrase in (("id", "Kolom ini wajib diisi."), ("en", "This field is required.")):
        set_lang(web, lang)
        before = log_count(web, mid)
        r = web.client.post(
            f"/backoffice/messages/{mid}/reject",
            data={**csrf_field(web), "reason": "  "},
            follow_redirects=False,
        )
        assert r.status_code == 422
        assert phrase in r.text
        assert 'id="f-reason"' in r.text and 'aria-invalid="true"' in r.text
        assert status_of(web, mid) == "submitted" and log_count(web, mid) == before
    r = web.client.post(
        f"/backoffice/messages/{mid}/reject",
        data={**csrf_field(web), "reason": "Bukan kewenangan provinsi"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and status_of(web, mid) == "rejected"


def test_forward_with_subcategory_of_another_category_is_refused(web: WebWorld) -> None:
    mid = submit(web)
    login(web, "admin")
    for lang, phrase in (
        ("id", "Pilih sub kategori dari kategori yang dipilih."),
        ("en", "Choose a sub-category of the chosen category."),
    ):
        set_lang(web, lang)
        r = web.client.post(
            f"/backoffice/messages/{mid}/forward",
            data={
                **csrf_field(web),
                "category_id": str(web.ids["cat_aspirasi"]),
                "subcategory_id": str(web.ids["sub_infra"]),
                "agency_id": str(web.ids["agency_pupr"]),
            },
            follow_redirects=False,
        )
        assert r.status_code == 422
        assert phrase in r.text
        assert status_of(web, mid) == "submitted" and log_count(web, mid) == 1


def test_reply_with_a_non_pdf_is_refused(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid)
    login(web, "op_pupr")
    # before confirming, replying is a conflict (translated), not a crash
    r = web.client.post(
        f"/backoffice/messages/{mid}/reply",
        data={**csrf_field(web), "answer": "Sudah"},
        follow_redirects=False,
    )
    assert r.status_code == 409 and status_of(web, mid) == "forwarded"
    assert "Belum dikonfirmasi" in r.text
    web.client.post(f"/backoffice/messages/{mid}/start", data={**csrf_field(web), "confirm": "1"})
    before = log_count(web, mid)
    for lang, phrase in (
        ("id", "Hanya berkas PDF yang diterima."),
        ("en", "Only PDF files are accepted."),
    ):
        set_lang(web, lang)
        r = web.client.post(
            f"/backoffice/messages/{mid}/reply",
            data={**csrf_field(web), "answer": "Sudah selesai"},
            files={"attachment": ("foto.pdf", b"GIF89a not a pdf", "application/pdf")},
            follow_redirects=False,
        )
        assert r.status_code == 422, r.text
        assert phrase in r.text and 'id="e-attachment"' in r.text
        assert "Sudah selesai" in r.text  # the answer is kept
        assert status_of(web, mid) == "in_progress" and log_count(web, mid) == before
    # a progress update without a note
    r = web.client.post(
        f"/backoffice/messages/{mid}/progress", data={**csrf_field(web), "note": ""}
    )
    assert r.status_code == 422 and log_count(web, mid) == before


def test_list_filters_and_waited_time(web: WebWorld) -> None:
    first = submit(web, subject="Lampu jalan mati")
    second = submit(web, subject="Banjir di Sempaja")
    forward_to(web, second)
    login(web, "admin")
    r = web.client.get("/backoffice/messages", params={"status": "submitted"})
    assert r.status_code == 200
    assert "Lampu jalan mati" in r.text and "Banjir di Sempaja" not in r.text
    assert "menunggu" in r.text.lower()
    r = web.client.get("/backoffice/messages", params={"agency": str(web.ids["agency_pupr"])})
    assert "Banjir di Sempaja" in r.text and "Lampu jalan mati" not in r.text
    r = web.client.get("/backoffice/messages", params={"q": "Lampu"})
    assert "Lampu jalan mati" in r.text and "Banjir" not in r.text
    r = web.client.get(
        "/backoffice/messages", params={"date_from": "2000-01-01", "date_to": "2000-01-02"}
    )
    assert r.status_code == 200 and "Lampu" not in r.text
    r = web.client.get("/backoffice/messages", params={"date_from": "kemarin"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    r = web.client.get("/backoffice/messages", params={"cursor": "garbage"})
    assert r.status_code == 422
    # cursor pagination
    for i in range(19):  # the submit limit is 20 a day per account
        submit(web, author="budi", subject=f"Pesan nomor {i}")
    page = web.client.get("/backoffice/messages")
    assert "cursor=" in page.text and "Lampu jalan mati" not in page.text
    import re

    href = re.search(r'href="(/backoffice/messages\?[^"]*cursor=[^"]+)"', page.text)
    assert href is not None
    older = web.client.get(href.group(1).replace("&amp;", "&"))
    assert older.status_code == 200 and f"/backoffice/messages/{first}" in older.text


def test_notifications_count_fragment_and_marking(web: WebWorld) -> None:
    r = web.client.get("/backoffice/notifications/count", follow_redirects=False)
    assert r.status_code == 200 and r.text == ""
    login(web, "ani")
    r = web.client.get("/backoffice/notifications/count", follow_redirects=False)
    assert r.status_code == 200 and r.text == ""
    login(web, "admin")
    assert web.client.get("/backoffice/notifications/count").text == ""
    submit(web)
    submit(web, subject="Kedua")
    assert web.client.get("/backoffice/notifications/count").text == "2"
    page = web.client.get("/backoffice/notifications")
    assert page.status_code == 200 and "Kedua" in page.text
    nid = web.core.deps.db.run_sync(
        lambda uow: uow.notifications.list_for(web.ids["admin"], before_id=None, limit=5)
    )[0].id
    r = web.client.post(
        "/backoffice/notifications/read",
        data={**csrf_field(web), "id": str(nid)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert web.client.get("/backoffice/notifications/count").text == "1"
    r = web.client.post(
        "/backoffice/notifications/read-all", data=csrf_field(web), follow_redirects=False
    )
    assert r.status_code == 303
    assert web.client.get("/backoffice/notifications/count").text == ""
    # someone else's notification is not found
    login(web, "op_pupr")
    r = web.client.post("/backoffice/notifications/read", data={**csrf_field(web), "id": str(nid)})
    assert r.status_code == 404


def test_waited_time_reads_in_both_languages(web: WebWorld) -> None:
    from datetime import UTC, datetime, timedelta

    from aspirasi_web.vocabulary import waited

    translations = web.app.state["translations"]
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    since = now - timedelta(days=3, hours=4, minutes=10)
    assert waited(translations.get("en"), since, now) == "3 days 4 hours"
    assert waited(translations.get("id"), since, now) == "3 hari 4 jam"
    assert waited(translations.get("en"), now - timedelta(days=1), now) == "1 day"
    assert waited(translations.get("en"), now - timedelta(minutes=5), now) == "5 minutes"
    login(web, "admin")
    set_lang(web, "en")
    submit(web)
    assert "waiting to be forwarded for 0 minutes" in web.client.get("/backoffice").text


def test_anonymous_sender_is_hidden_from_the_agency_and_the_admin(web: WebWorld) -> None:
    import anyio

    from aspirasi_core.services import Context, SubmitInput

    from .test_pages_backoffice_support import actor_of

    async def go() -> int:
        message = await web.core.messages.submit(
            Context(actor=actor_of(web, "ani")),  # type: ignore[arg-type]
            SubmitInput(subject="Rahasia", body="Isi", anonymous=True),
        )
        return message.id

    mid = anyio.run(go)
    forward_to(web, mid)
    for staff in ("admin", "op_pupr"):
        login(web, staff)
        page = web.client.get(f"/backoffice/messages/{mid}")
        assert page.status_code == 200
        assert "ani@example.org" not in page.text and "Ani" not in page.text
        assert "Anonim" in page.text


def test_conflict_is_translated_in_english(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid)
    login(web, "op_pupr")
    set_lang(web, "en")
    r = web.client.post(
        f"/backoffice/messages/{mid}/progress",
        data={**csrf_field(web), "note": "Sudah dicek"},
    )
    assert r.status_code == 409
    assert "This is not possible while the message is “Not yet confirmed”." in r.text


def test_message_text_is_escaped(web: WebWorld) -> None:
    mid = submit(web, subject='<script>alert("x")</script>')
    login(web, "admin")
    for path in ("/backoffice", "/backoffice/messages", f"/backoffice/messages/{mid}"):
        page = web.client.get(path)
        assert page.status_code == 200
        assert '<script>alert("x")' not in page.text
        assert "&lt;script&gt;" in page.text


def test_admin_reforwards_to_another_agency(web: WebWorld) -> None:
    mid = submit(web)
    forward_to(web, mid, "pupr")
    login(web, "admin")
    detail = web.client.get(f"/backoffice/messages/{mid}")
    assert f"/backoffice/messages/{mid}/forward" in detail.text
    assert f"/backoffice/messages/{mid}/reject" not in detail.text
    r = web.client.post(
        f"/backoffice/messages/{mid}/forward",
        data={
            **csrf_field(web),
            "category_id": str(web.ids["cat_aduan"]),
            "subcategory_id": str(web.ids["sub_infra"]),
            "agency_id": str(web.ids["agency_dinkes"]),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    login(web, "op_pupr")
    assert web.client.get(f"/backoffice/messages/{mid}").status_code == 404
    login(web, "op_dinkes")
    assert web.client.get(f"/backoffice/messages/{mid}").status_code == 200


def test_a_message_of_a_deactivated_agency_still_names_it(web: WebWorld) -> None:
    """The lists name the agency of an older message after the agency has been
    deactivated (its name came from the active agencies only: "—"), while the
    agency filter offers the active ones."""
    import anyio

    from aspirasi_core.services import Context

    mid = submit(web, subject="Jembatan retak")
    forward_to(web, mid)
    name = web.core.deps.db.run_sync(
        lambda uow: uow.directory.agencies(include_inactive=True), write=False
    )
    pupr = next(a for a in name if a.id == web.ids["agency_pupr"])

    async def deactivate() -> None:
        root = web.core.deps.db.run_sync(lambda uow: uow.accounts.get(web.ids["root"]))
        await web.core.admin.update_entry(
            Context(actor=root.actor()), "agency", pupr.id, is_active=False
        )

    anyio.run(deactivate)
    login(web, "admin")
    page = web.client.get("/backoffice/messages")
    assert page.status_code == 200
    start = page.text.index(f"/backoffice/messages/{mid}")
    row = page.text[start : page.text.index("</tr>", start)]
    assert pupr.name in row
    choices = page.text.split('name="agency"')[1].split("</select>")[0]
    assert f'value="{pupr.id}"' not in choices
