"""Issue 18 through HTTP: internal notes never reach the sender's pages or API,
tracking by NIK answers the minimum, personal data typed into a message is masked
on every public surface, and notifications follow the current access rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from .api_support import ApiWorld, build_world, pdf_bytes
from .world import NIKS

NOTE = "Untuk instansi: pelapor sering mengadu, cek dulu."
PII_BODY = (
    "Saya Ani, NIK 6472045504910001, WA 0812-3456-7890, e-mail ani.warga@gmail.com."
    " Kejadian 08.12.2024 pukul 10.30."
)
RAW = ("6472045504910001", "0812-3456-7890", "ani.warga@gmail.com")


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def submit(api: ApiWorld, subject: str = "Jalan rusak", body: str = "Berlubang.", **kw) -> int:
    r = api.client.post(
        "/api/v1/messages",
        json={"subject": subject, "body": body, **kw},
        headers=api.bearer("ani"),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def forward(api: ApiWorld, mid: int, agency: str = "pupr", **extra: Any) -> Any:
    return api.client.post(
        f"/api/v1/messages/{mid}/forward",
        json={
            "category_id": api.ids["cat_aduan"],
            "subcategory_id": api.ids["sub_infra"],
            "agency_id": api.ids[f"agency_{agency}"],
            **extra,
        },
        headers=api.bearer("admin"),
    )


def act(api: ApiWorld, mid: int, action: str, who: str = "op_pupr", **body: Any) -> Any:
    r = api.client.post(f"/api/v1/messages/{mid}/{action}", json=body, headers=api.bearer(who))
    assert r.status_code == 200, r.text
    return r


def owner_views(api: ApiWorld, mid: int) -> str:
    """Everything the sender can read of the message: API detail, log, the page."""
    headers = api.bearer("ani")
    detail = api.client.get(f"/api/v1/messages/{mid}", headers=headers)
    log = api.client.get(f"/api/v1/messages/{mid}/log", headers=headers)
    assert detail.status_code == log.status_code == 200
    api.login("ani")
    page = api.client.get(f"/messages/{mid}")
    assert page.status_code == 200
    api.client.cookies.clear()
    return detail.text + log.text + page.text


# --------------------------------------------------------------------------- texts for the sender


def test_the_forwarding_note_stays_with_the_staff(api: ApiWorld) -> None:
    mid = submit(api)
    assert forward(api, mid, note=NOTE).status_code == 200
    assert NOTE not in owner_views(api, mid)
    staff = api.client.get(f"/api/v1/messages/{mid}", headers=api.bearer("op_pupr")).json()
    [entry] = [e for e in staff["log"] if e["note"]]
    assert entry["note"] == NOTE and entry["visibility"] == "internal"
    # the staff page says the sender cannot see it
    api.login("op_pupr")
    page = api.client.get(f"/backoffice/messages/{mid}").text
    assert NOTE in page
    log = page[page.index('<section aria-labelledby="h-log">') :]
    assert log.count('class="badge vis-internal"') == 1
    assert 'class="badge vis-sender"' not in log


def test_texts_chosen_for_the_sender_reach_the_sender(api: ApiWorld) -> None:
    mid = submit(api)
    assert forward(api, mid, note="Diteruskan ke PUPR.", visibility="sender").status_code == 200
    act(api, mid, "start")
    act(api, mid, "progress", note="Survei selesai.")
    act(api, mid, "progress", note="Kontraktor lambat.", visibility="internal")
    act(api, mid, "reply", answer="Sudah diperbaiki.")
    seen = owner_views(api, mid)
    assert "Diteruskan ke PUPR." in seen and "Survei selesai." in seen
    assert "Sudah diperbaiki." in seen
    assert "Kontraktor lambat." not in seen
    staff = api.client.get(f"/api/v1/messages/{mid}", headers=api.bearer("admin")).json()
    assert staff["reply"]["visibility"] == "sender"
    marks = {e["note"]: e["visibility"] for e in staff["log"] if e["note"]}
    assert marks == {
        "Diteruskan ke PUPR.": "sender",
        "Survei selesai.": "sender",
        "Kontraktor lambat.": "internal",
        "Sudah diperbaiki.": "sender",
    }
    # the sender's own API answer carries no marker of hidden entries
    own = api.client.get(f"/api/v1/messages/{mid}/log", headers=api.bearer("ani")).json()
    assert all("visibility" not in e for e in own["items"])


def test_an_internal_reply_and_its_file_stay_with_the_staff(api: ApiWorld) -> None:
    mid = submit(api)
    forward(api, mid)
    act(api, mid, "start")
    r = api.client.post(
        f"/api/v1/messages/{mid}/reply",
        data={"answer": "Catatan penutupan internal.", "visibility": "internal"},
        files={"attachment": ("tutup.pdf", pdf_bytes(), "application/pdf")},
        headers=api.bearer("op_pupr"),
    )
    assert r.status_code == 200, r.text
    staff = api.client.get(f"/api/v1/messages/{mid}", headers=api.bearer("op_pupr")).json()
    url = staff["reply"]["attachment"]["url"]
    own = api.client.get(f"/api/v1/messages/{mid}", headers=api.bearer("ani")).json()
    assert own["status"] == "done" and own["reply"] is None
    assert "Catatan penutupan internal." not in owner_views(api, mid)
    assert api.client.get(url, headers=api.bearer("ani")).status_code == 404
    assert api.client.get(url, headers=api.bearer("op_pupr")).status_code == 200


@pytest.mark.parametrize("bad", ["public", "", 1, None, ["sender"]])
def test_a_bad_visibility_is_a_clear_422(api: ApiWorld, bad: Any) -> None:
    mid = submit(api)
    r = forward(api, mid, note="x", visibility=bad)
    if bad is None:  # null: the default, as if the field were left out
        assert r.status_code == 200
        return
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "visibility_unknown"
    assert [e["field"] for e in problem["errors"]] == ["visibility"]
    assert problem["errors"][0]["code"] == "visibility_unknown"


def test_the_openapi_document_describes_the_choice_and_its_defaults(api: ApiWorld) -> None:
    spec = api.client.get("/schema/openapi.json").json()
    forward_doc = spec["paths"]["/api/v1/messages/{message_id}/forward"]["post"]["description"]
    assert "visibility" in forward_doc and "internal" in forward_doc
    for action in ("reject", "start", "progress", "reply"):
        doc = spec["paths"][f"/api/v1/messages/{{message_id}}/{action}"]["post"]["description"]
        assert '"sender"' in doc and '"internal"' in doc, action


def test_every_back_office_form_asks_who_may_read_the_text(api: ApiWorld) -> None:
    mid = submit(api)
    api.login("admin")
    page = api.client.get(f"/backoffice/messages/{mid}").text
    for form in ("forward", "reject"):
        html = page[page.index(f'id="{form}"') :]
        html = html[: html.index("</form>")]
        assert 'type="radio" name="visibility" value="internal"' in html
        assert 'type="radio" name="visibility" value="sender"' in html
    forward_form = page[page.index('id="forward"') :]
    internal = re.search(r'<input[^>]*value="internal"[^>]*>', forward_form)
    assert internal and "checked" in internal.group(0)  # internal by default
    reject_form = page[page.index('id="reject"') :]
    sender = re.search(r'<input[^>]*value="sender"[^>]*>', reject_form)
    assert sender and "checked" in sender.group(0)
    # posting the form stores the choice
    r = api.client.post(
        f"/backoffice/messages/{mid}/forward",
        data={
            "category_id": api.ids["cat_aduan"],
            "subcategory_id": api.ids["sub_infra"],
            "agency_id": api.ids["agency_pupr"],
            "note": "Untuk pelapor: sudah kami teruskan.",
            "visibility": "sender",
            "_csrf_token": api.csrf(),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    api.client.cookies.clear()
    assert "Untuk pelapor: sudah kami teruskan." in owner_views(api, mid)
    api.login("op_pupr")
    started = api.client.post(
        f"/backoffice/messages/{mid}/start",
        data={"confirm": "1", "_csrf_token": api.csrf()},
        follow_redirects=False,
    )
    assert started.status_code == 303
    page = api.client.get(f"/backoffice/messages/{mid}").text
    for form in ("progress", "reply"):
        html = page[page.index(f'id="{form}"') :]
        html = html[: html.index("</form>")]
        assert 'type="radio" name="visibility" value="internal"' in html, form
        sender = re.search(r'<input[^>]*value="sender"[^>]*>', html)
        assert sender and "checked" in sender.group(0), form
    r = api.client.post(
        f"/backoffice/messages/{mid}/progress",
        data={"note": "Rapat internal besok.", "visibility": "internal", "_csrf_token": api.csrf()},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = api.client.post(
        f"/backoffice/messages/{mid}/progress",
        data={"note": "x", "visibility": "semua", "_csrf_token": api.csrf()},
    )
    assert r.status_code == 422 and 'name="visibility"' in r.text
    api.client.cookies.clear()
    assert "Rapat internal besok." not in owner_views(api, mid)


# --------------------------------------------------------------------------- tracking


def test_tracking_answers_the_minimum(api: ApiWorld) -> None:
    waiting = submit(api, "Belum diteruskan")
    public = submit(api, "Jalan rusak, WA 0812-3456-7890")
    forward(api, public, note=NOTE, visibility="sender")
    act(api, public, "start", note="Kami tangani.")
    act(api, public, "progress", note="Survei selesai.")
    act(api, public, "reply", answer="Jawaban lengkap untuk pelapor.")
    secret = submit(api, "Sangat rahasia", confidential=True)
    forward(api, secret)
    anonymous = submit(api, "Tanpa nama", anonymous=True)
    forward(api, anonymous)
    tickets = {
        mid: api.client.get(f"/api/v1/messages/{mid}", headers=api.bearer("ani")).json()["ticket"]
        for mid in (waiting, public, secret, anonymous)
    }
    r = api.client.post(
        "/api/v1/public/tracking", json={"nik": NIKS["ani"]}, headers={"X-CSRF-Token": api.csrf()}
    )
    assert r.status_code == 200
    items = {i["ticket"]: i for i in r.json()["items"]}
    assert set(items) == {tickets[waiting], tickets[public]}
    shown = items[tickets[public]]
    assert shown["subject"] == "Jalan rusak, WA 0812*****890"
    assert items[tickets[waiting]]["subject"] is None
    assert set(shown) == {"id", "ticket", "subject", "status", "created_at", "due_at", "log"}
    assert all(set(e) == {"at", "from_status", "to_status"} for e in shown["log"])
    assert [e["to_status"] for e in shown["log"]] == [
        "submitted",
        "forwarded",
        "in_progress",
        "in_progress",
        "done",
    ]
    for text in (NOTE, "Kami tangani.", "Survei selesai.", "Jawaban lengkap", *RAW):
        assert text not in r.text
    page = api.client.post("/tracking", data={"nik": NIKS["ani"], "_csrf_token": api.csrf()})
    assert page.status_code == 200
    assert tickets[public] in page.text and tickets[waiting] in page.text
    for hidden in (tickets[secret], tickets[anonymous], "Sangat rahasia", "Tanpa nama", NOTE):
        assert hidden not in page.text
    for text in ("Kami tangani.", "Survei selesai.", "Jawaban lengkap", "0812-3456-7890"):
        assert text not in page.text


# --------------------------------------------------------------------------- masking in public


def test_personal_data_is_masked_on_every_public_surface(api: ApiWorld) -> None:
    mid = submit(api, "Pungli, hubungi 0812-3456-7890", PII_BODY)
    forward(api, mid)
    surfaces = {
        "home": api.client.get("/").text,
        "list": api.client.get("/messages").text,
        "search": api.client.get("/messages", params={"q": "Pungli"}).text,
        "api": api.client.get("/api/v1/public/messages").text,
        "api search": api.client.get("/api/v1/public/messages", params={"q": "pungli"}).text,
    }
    for name, text in surfaces.items():
        for raw in RAW:
            assert raw not in text, (name, raw)
        assert "0812*****890" in text, name
    assert "6472********0001" in surfaces["list"] and "a***@***.com" in surfaces["api"]
    for probe in ("6472045504910001", "0455049", "3456-7890", "ani.warga"):
        found = api.client.get("/api/v1/public/messages", params={"q": probe}).json()
        assert found["items"] == [], probe
        page = api.client.get("/messages", params={"q": probe}).text
        assert "Pungli" not in page, probe
    # the owner and the staff with access read the original
    for who in ("ani", "admin", "op_pupr"):
        detail = api.client.get(f"/api/v1/messages/{mid}", headers=api.bearer(who)).json()
        assert detail["body"] == PII_BODY, who


# --------------------------------------------------------------------------- notifications


def test_notifications_hide_what_the_reader_can_no_longer_see(api: ApiWorld) -> None:
    mid = submit(api, "Pungli di puskesmas")
    forward(api, mid)
    before = api.client.get("/api/v1/notifications", headers=api.bearer("op_pupr")).json()
    [item] = before["items"]
    assert "Pungli di puskesmas" in item["text"] and item["message_id"] == mid
    assert forward(api, mid, "dinkes").status_code == 200
    after = api.client.get("/api/v1/notifications", headers=api.bearer("op_pupr")).json()
    [item] = after["items"]
    assert "Pungli di puskesmas" not in item["text"]
    assert item["message_id"] is None
    api.login("op_pupr")
    page = api.client.get("/backoffice/notifications").text
    assert "Pungli di puskesmas" not in page
    assert f"/backoffice/messages/{mid}" not in page
    api.client.cookies.clear()
    dinkes = api.client.get("/api/v1/notifications", headers=api.bearer("op_dinkes")).json()
    assert [i["message_id"] for i in dinkes["items"]] == [mid]
    assert "Pungli di puskesmas" in dinkes["items"][0]["text"]
