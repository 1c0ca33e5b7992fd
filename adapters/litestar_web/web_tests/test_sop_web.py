"""SOP deadlines on the web: the back-office list (deadline column, overdue badge,
filter and order), the detail pages, public tracking, the super admin's days
off and the sub-categories' SOP days, as pages and as JSON."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import anyio
import pytest

from aspirasi_core.services import Context, SubmitInput

from .api_support import ApiWorld, build_world
from .world import NIKS

#: Deadlines (exclusive UTC instants) and their last allowed day in WITA (UTC+8).
PAST = datetime(2020, 1, 7, 16, 0, tzinfo=UTC)  # overdue; last day 7 Jan 2020
SOON = datetime(2030, 1, 8, 16, 0, tzinfo=UTC)  # last day 8 Jan 2030
LATER = datetime(2031, 3, 4, 16, 0, tzinfo=UTC)  # last day 4 Mar 2031


@pytest.fixture
def sw(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    """Without the rate_limit plugin: some tests send many messages."""
    yield from build_world(sqlite_database, tmp_path, disabled_plugins=("rate_limit",))


# ---------------------------------------------------------------------------- helpers
def ctx(w: ApiWorld, username: str) -> Context:
    acc = w.core.deps.db.run_sync(lambda uow: uow.accounts.get(w.ids[username]), write=False)
    return Context(actor=acc.actor())


def send(w: ApiWorld, subject: str, author: str = "ani") -> int:
    async def go() -> int:
        msg = await w.core.messages.submit(ctx(w, author), SubmitInput(subject, "Mohon dicek."))
        return msg.id

    return anyio.run(go)


def forward(w: ApiWorld, message_id: int) -> None:
    async def go() -> None:
        await w.core.messages.act(
            ctx(w, "admin"),
            message_id,
            "forward",
            category_id=w.ids["cat_aduan"],
            subcategory_id=w.ids["sub_infra"],
            agency_id=w.ids["agency_pupr"],
            note="",
        )

    anyio.run(go)


def reject(w: ApiWorld, message_id: int) -> None:
    anyio.run(
        lambda: w.core.messages.act(ctx(w, "admin"), message_id, "reject", reason="Bukan wewenang.")
    )


def due_of(w: ApiWorld, message_id: int) -> datetime | None:
    msg = w.core.deps.db.run_sync(lambda uow: uow.messages.get(message_id), write=False)
    return msg.due_at


def set_due(w: ApiWorld, message_id: int, due: datetime) -> None:
    """Move a message's deadline (as if its stage had started long ago or just now)."""
    old = due_of(w, message_id)
    assert old is not None
    assert w.core.deps.db.run_sync(lambda uow: uow.messages.set_due(message_id, due, old))


def login(w: ApiWorld, username: str) -> None:
    w.client.cookies.clear()
    w.login(username)


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def rows(page: str) -> list[str]:
    """The subjects of the back-office table, in order."""
    return re.findall(r'<a href="/backoffice/messages/\d+">([^<]+)</a>', page)


def row_of(page: str, message_id: int) -> str:
    """The table row of one message."""
    return page.split(f'href="/backoffice/messages/{message_id}"', 1)[1].split("</tr>")[0]


def three_messages(w: ApiWorld) -> dict[str, int]:
    """Sent in this order; deadlines: Sungai soon, Lampu overdue, Taman later."""
    ids = {name: send(w, name) for name in ("Sungai", "Lampu", "Taman")}
    set_due(w, ids["Sungai"], SOON)
    set_due(w, ids["Lampu"], PAST)
    set_due(w, ids["Taman"], LATER)
    return ids


def test_the_deadlines_read_as_the_local_last_day(sw: ApiWorld) -> None:
    sop = sw.core.sop
    assert (sop.due_date(PAST), sop.due_date(SOON), sop.due_date(LATER)) == (
        date(2020, 1, 7),
        date(2030, 1, 8),
        date(2031, 3, 4),
    )


# ---------------------------------------------------------------------------- list
def test_list_shows_deadline_and_overdue_badge_filters_and_orders(sw: ApiWorld) -> None:
    ids = three_messages(sw)
    login(sw, "admin")
    page = sw.client.get("/backoffice/messages")
    assert page.status_code == 200
    assert rows(page.text) == ["Taman", "Lampu", "Sungai"]  # newest first
    text = text_of(page.text)
    assert "Batas waktu" in text
    for day in ("7 Jan 2020", "8 Jan 2030", "4 Mar 2031"):
        assert day in text
    assert page.text.count('class="badge overdue-badge">Terlambat<') == 1
    lampu_row = row_of(page.text, ids["Lampu"])
    assert "Terlambat" in lampu_row and "7 Jan 2020" in lampu_row
    assert "Hanya yang terlambat" in text and "Batas waktu terdekat" in text

    only_late = sw.client.get("/backoffice/messages?overdue=1")
    assert only_late.status_code == 200
    assert rows(only_late.text) == ["Lampu"]
    assert 'name="overdue" value="1" checked' in only_late.text

    by_due = sw.client.get("/backoffice/messages?sort=due")
    assert rows(by_due.text) == ["Lampu", "Sungai", "Taman"]
    assert '<option value="due" selected>' in by_due.text

    # a final message has no deadline and drops out of the deadline order
    reject(sw, ids["Sungai"])
    assert rows(sw.client.get("/backoffice/messages?sort=due").text) == ["Lampu", "Taman"]
    listing = sw.client.get("/backoffice/messages")
    sungai_row = row_of(listing.text, ids["Sungai"])
    assert "Sungai" in sungai_row and "8 Jan 2030" not in sungai_row

    english = sw.client.get("/backoffice/messages?lang=en")
    text = text_of(english.text)
    for phrase in ("Deadline", "Overdue only", "Earliest deadline", "Newest first"):
        assert phrase in text
    assert 'class="badge overdue-badge">Overdue<' in english.text


def test_inbox_shows_the_deadlines(sw: ApiWorld) -> None:
    three_messages(sw)
    login(sw, "admin")
    inbox = sw.client.get("/backoffice")
    assert inbox.status_code == 200
    assert "8 Jan 2030" in inbox.text
    assert inbox.text.count("overdue-badge") == 1


def test_pages_keep_the_filters(sw: ApiWorld) -> None:
    ids = [send(sw, f"Laporan {n:02d}") for n in range(21)]
    for n, mid in enumerate(ids):
        set_due(sw, mid, PAST + timedelta(days=n))
    login(sw, "admin")
    first = sw.client.get("/backoffice/messages?overdue=1&sort=due")
    assert first.status_code == 200
    assert rows(first.text)[:2] == ["Laporan 00", "Laporan 01"]
    assert len(rows(first.text)) == 20
    link = re.search(r'class="pager"><a class="button secondary" href="([^"]+)"', first.text)
    assert link is not None
    url = html.unescape(link.group(1))
    assert "overdue=1" in url and "sort=due" in url and "cursor=" in url
    second = sw.client.get(url)
    assert second.status_code == 200
    assert rows(second.text) == ["Laporan 20"]


@pytest.mark.parametrize(
    ("query", "field", "indonesian", "english"),
    [
        ("sort=xyz", "sort", "Pilih urutan yang tersedia.", "Choose a known order."),
        ("overdue=maybe", "overdue", "Pilih ya atau tidak.", "Choose yes or no."),
        ("cursor=bad", "cursor", "Penanda halaman tidak valid.", "The page cursor is not valid."),
        (
            "sort=due&cursor=djE6MTA",  # a cursor of the newest order ("v1:10")
            "cursor",
            "Penanda halaman tidak valid.",
            "The page cursor is not valid.",
        ),
    ],
)
def test_bad_list_values_are_translated_errors(
    sw: ApiWorld, query: str, field: str, indonesian: str, english: str
) -> None:
    send(sw, "Sungai")
    login(sw, "admin")
    page = sw.client.get(f"/backoffice/messages?{query}")
    assert page.status_code == 422
    assert indonesian in text_of(page.text)
    assert rows(page.text) == []
    assert english in text_of(sw.client.get(f"/backoffice/messages?{query}&lang=en").text)

    headers = sw.bearer("admin")
    api = sw.client.get(f"/api/v1/backoffice/messages?{query}", headers=headers)
    assert api.status_code == 422
    assert api.headers["content-type"].startswith("application/problem+json")
    body = api.json()
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["message"] == indonesian
    en = sw.client.get(
        f"/api/v1/backoffice/messages?{query}", headers={**headers, "Accept-Language": "en"}
    )
    assert en.json()["errors"][0]["message"] == english


#: Bad filters, as (page query, API query, the fields named, their codes): the page
#: and the API read them with one parser (aspirasi_web.filters.MessageFilter).
SHARED_BAD_FILTERS = [
    ("status=withdrawn", "status=withdrawn", ["status"], ["status_unknown"]),
    ("agency=01", "agency_id=01", ["agency"], ["bad_number"]),
    ("category=%EF%BC%91", "category_id=%EF%BC%91", ["category"], ["bad_number"]),
    ("date_from=2026-02-30", "date_from=2026-02-30", ["date_from"], ["date_format"]),
    ("date_to=0001-01-01", "date_to=0001-01-01", ["date_to"], ["date_range"]),
    (
        "status=x&sort=x&overdue=x",
        "status=x&sort=x&overdue=x",
        ["status", "overdue", "sort"],
        ["status_unknown", "flag_invalid", "sort_unknown"],
    ),
]


@pytest.mark.parametrize(("page_query", "api_query", "fields", "codes"), SHARED_BAD_FILTERS)
def test_the_page_and_the_api_refuse_the_same_bad_filters(
    sw: ApiWorld, page_query: str, api_query: str, fields: list[str], codes: list[str]
) -> None:
    """The same bad input: the page re-shows its filter form with every field's
    message (422, no rows), the API answers 422 problem+json naming every field."""
    send(sw, "Sungai")
    headers = {**sw.bearer("admin"), "Accept-Language": "en"}
    api = sw.client.get(f"/api/v1/backoffice/messages?{api_query}", headers=headers)
    assert api.status_code == 422, api.text
    assert api.headers["content-type"].startswith("application/problem+json")
    errors = api.json()["errors"]
    api_fields = [e["field"].removesuffix("_id") for e in errors]
    assert api_fields == [f.removesuffix("_id") for f in fields]
    assert [e["code"] for e in errors] == codes
    login(sw, "admin")
    page = sw.client.get(f"/backoffice/messages?{page_query}&lang=en")
    assert page.status_code == 422
    assert rows(page.text) == []
    shown = text_of(page.text)
    for error in errors:  # the same messages, as the form shows them
        assert error["message"] in shown, error


def test_api_list_has_deadlines_filters_and_orders(sw: ApiWorld) -> None:
    ids = three_messages(sw)
    headers = sw.bearer("admin")
    url = "/api/v1/backoffice/messages"
    items = sw.client.get(url, headers=headers).json()["items"]
    by_id = {i["id"]: i for i in items}
    assert by_id[ids["Lampu"]]["due_at"] == "2020-01-07T16:00:00Z"
    assert by_id[ids["Lampu"]]["overdue"] is True
    assert by_id[ids["Sungai"]]["due_at"] == "2030-01-08T16:00:00Z"
    assert by_id[ids["Sungai"]]["overdue"] is False
    late = sw.client.get(f"{url}?overdue=true", headers=headers).json()["items"]
    assert [i["id"] for i in late] == [ids["Lampu"]]
    assert len(sw.client.get(f"{url}?overdue=false", headers=headers).json()["items"]) == 3
    # earliest deadline first, one per page, following the cursors
    seen = []
    cursor = ""
    while True:
        body = sw.client.get(f"{url}?sort=due&limit=1&cursor={cursor}", headers=headers).json()
        seen.extend(i["subject"] for i in body["items"])
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    assert seen == ["Lampu", "Sungai", "Taman"]
    # the operator sees its agency's messages with their deadline too
    forward(sw, ids["Taman"])
    op = sw.client.get(f"{url}?sort=due", headers=sw.bearer("op_pupr")).json()["items"]
    assert [i["id"] for i in op] == [ids["Taman"]]
    assert op[0]["due_at"] is not None and op[0]["overdue"] is False


# ---------------------------------------------------------------------------- details
def test_detail_pages_show_the_stage_deadline(sw: ApiWorld) -> None:
    mid = send(sw, "Sungai")
    set_due(sw, mid, SOON)
    login(sw, "admin")
    text = text_of(sw.client.get(f"/backoffice/messages/{mid}").text)
    assert "Perlu diteruskan paling lambat 8 Jan 2030" in text
    assert "Terlambat" not in text
    english = text_of(sw.client.get(f"/backoffice/messages/{mid}?lang=en").text)
    assert "To be forwarded by 8 Jan 2030" in english

    forward(sw, mid)
    set_due(sw, mid, PAST)
    page = sw.client.get(f"/backoffice/messages/{mid}")
    assert "Konfirmasi paling lambat 7 Jan 2020" in text_of(page.text)
    assert 'class="badge overdue-badge">Terlambat<' in page.text
    api = sw.client.get(f"/api/v1/messages/{mid}", headers=sw.bearer("admin")).json()
    assert api["due_at"] == "2020-01-07T16:00:00Z" and api["overdue"] is True

    login(sw, "ani")
    mine = sw.client.get(f"/messages/{mid}")
    assert mine.status_code == 200
    assert "Konfirmasi paling lambat 7 Jan 2020" in text_of(mine.text)
    assert "overdue-badge" in mine.text
    assert "To be confirmed by 7 Jan 2020" in text_of(
        sw.client.get(f"/messages/{mid}?lang=en").text
    )

    anyio.run(lambda: sw.core.messages.act(ctx(sw, "op_pupr"), mid, "start", note=""))
    set_due(sw, mid, LATER)
    login(sw, "op_pupr")
    page = sw.client.get(f"/backoffice/messages/{mid}")
    assert "Balasan paling lambat 4 Mar 2031" in text_of(page.text)
    assert "Reply due by 4 Mar 2031" in text_of(
        sw.client.get(f"/backoffice/messages/{mid}?lang=en").text
    )

    anyio.run(
        lambda: sw.core.messages.act(
            ctx(sw, "op_pupr"), mid, "reply", answer="Sudah.", attachment=None
        )
    )
    for who, url in (("op_pupr", f"/backoffice/messages/{mid}"), ("ani", f"/messages/{mid}")):
        login(sw, who)
        done = sw.client.get(url)
        assert "paling lambat" not in done.text and "overdue-badge" not in done.text
    api = sw.client.get(f"/api/v1/messages/{mid}", headers=sw.bearer("ani")).json()
    assert api["due_at"] is None and api["overdue"] is False


# ---------------------------------------------------------------------------- tracking
def tickets_of(sw: ApiWorld, open_id: int, closed_id: int) -> list[tuple[str, str]]:
    """(name, ticket) of the two messages (tracking shows no subject of a message
    that is not on the public list)."""
    out = []
    for name, mid in (("Sungai", open_id), ("Lampu", closed_id)):
        detail = sw.client.get(f"/api/v1/messages/{mid}", headers=sw.bearer("ani")).json()
        out.append((name, detail["ticket"]))
    return out


def test_tracking_shows_the_expected_date(sw: ApiWorld) -> None:
    open_id = send(sw, "Sungai")
    set_due(sw, open_id, SOON)
    closed_id = send(sw, "Lampu")
    reject(sw, closed_id)
    sw.client.cookies.clear()
    page = sw.client.post("/tracking", data={"nik": NIKS["ani"], "_csrf_token": sw.csrf()})
    assert page.status_code == 200
    text = text_of(page.text)
    assert text.count("Perkiraan tindak lanjut paling lambat") == 1
    assert "Perkiraan tindak lanjut paling lambat 8 Jan 2030" in text
    english = sw.client.post(
        "/tracking?lang=en", data={"nik": NIKS["ani"], "_csrf_token": sw.csrf()}
    )
    assert "Next step expected by 8 Jan 2030" in text_of(english.text)

    api = sw.client.post(
        "/api/v1/public/tracking", json={"nik": NIKS["ani"]}, headers={"X-CSRF-Token": sw.csrf()}
    )
    assert api.status_code == 200, api.text
    tickets = {send_ticket: name for name, send_ticket in tickets_of(sw, open_id, closed_id)}
    due = {tickets[i["ticket"]]: i["due_at"] for i in api.json()["items"]}
    assert due == {"Sungai": "2030-01-08T16:00:00Z", "Lampu": None}


# ---------------------------------------------------------------------------- days off
def test_super_admin_manages_days_off_on_the_page(sw: ApiWorld) -> None:
    login(sw, "root")
    assert 'href="/admin/days-off"' in sw.client.get("/admin/users").text
    page = sw.client.get("/admin/days-off?year=2030")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Hari libur 2030" in text and "Hari libur nasional" in text
    assert "1 Jan 2030" in text  # New Year, from the national calendar
    assert "Tidak ada hari libur tambahan pada tahun ini." in text

    added = sw.client.post(
        "/admin/days-off",
        data={"day": "2030-01-02", "name": "Cuti Natal", "_csrf_token": sw.csrf()},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/days-off?year=2030"
    page = sw.client.get(added.headers["location"])
    assert "Cuti Natal" in page.text and "2 Jan 2030" in text_of(page.text)
    day_off_id = int(re.search(r'action="/admin/days-off/(\d+)/delete"', page.text).group(1))

    twice = sw.client.post(
        "/admin/days-off",
        data={"day": "2030-01-02", "name": "Lagi", "_csrf_token": sw.csrf()},
    )
    assert twice.status_code == 409
    assert re.search(r'id="e-day">2030-01-02 sudah menjadi hari libur\.', twice.text), twice.text
    assert 'value="Lagi"' in twice.text

    bad = sw.client.post(
        "/admin/days-off", data={"day": "2030-13-01", "name": "X", "_csrf_token": sw.csrf()}
    )
    assert bad.status_code == 422
    assert 'id="e-day">Masukkan tanggal dengan format TTTT-BB-HH.' in bad.text
    nameless = sw.client.post(
        "/admin/days-off?lang=en", data={"day": "2030-01-03", "name": "", "_csrf_token": sw.csrf()}
    )
    assert nameless.status_code == 422 and 'id="e-name"' in nameless.text

    no_csrf = sw.client.post(f"/admin/days-off/{day_off_id}/delete", follow_redirects=False)
    assert no_csrf.status_code == 403
    gone = sw.client.post(
        f"/admin/days-off/{day_off_id}/delete",
        data={"_csrf_token": sw.csrf()},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert "Cuti Natal" not in sw.client.get("/admin/days-off?year=2030").text
    again = sw.client.post(f"/admin/days-off/{day_off_id}/delete", data={"_csrf_token": sw.csrf()})
    assert again.status_code == 404 and "Hari libur tidak ditemukan." in again.text

    for year in ("abc", "1800", "20301"):
        wrong = sw.client.get(f"/admin/days-off?year={year}")
        assert wrong.status_code == 422, year
        assert "Pilih tahun antara 1901 dan 2199." in wrong.text
    english = sw.client.get("/admin/days-off?year=2030&lang=en")
    assert "Days off 2030" in text_of(english.text)
    assert "National public holidays" in english.text
    # The holidays are named in the page's language (the holidays package's own names).
    assert "New Year's Day" in text_of(english.text)
    indonesian = text_of(sw.client.get("/admin/days-off?year=2030&lang=id").text)
    assert "Tahun Baru Masehi" in indonesian and "New Year" not in indonesian
    assert "1 Jan 2030" in indonesian


def test_only_the_super_admin_may_see_or_change_days_off(sw: ApiWorld) -> None:
    for who in ("admin", "op_pupr"):
        login(sw, who)
        assert sw.client.get("/admin/days-off").status_code == 403
        r = sw.client.post(
            "/admin/days-off",
            data={"day": "2030-01-02", "name": "Cuti", "_csrf_token": sw.csrf()},
            follow_redirects=False,
        )
        assert r.status_code == 403
        headers = sw.bearer(who)
        assert sw.client.get("/api/v1/admin/days-off", headers=headers).status_code == 403
        r = sw.client.post(
            "/api/v1/admin/days-off", json={"day": "2030-01-02", "name": "x"}, headers=headers
        )
        assert r.status_code == 403
    assert anyio.run(lambda: sw.core.sop.days_off(ctx(sw, "root"))) == []


def test_days_off_api_moves_an_open_deadline(sw: ApiWorld) -> None:
    mid = send(sw, "Sungai")
    root = sw.bearer("root")
    ani = sw.bearer("ani")
    before = sw.client.get(f"/api/v1/messages/{mid}", headers=ani).json()["due_at"]
    assert before is not None
    last_day = sw.core.sop.due_date(due_of(sw, mid))
    added = sw.client.post(
        "/api/v1/admin/days-off", json={"day": last_day.isoformat(), "name": "Cuti"}, headers=root
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["day"] == last_day.isoformat() and body["name"] == "Cuti"
    after = sw.client.get(f"/api/v1/messages/{mid}", headers=ani).json()["due_at"]
    assert after > before
    assert sw.core.sop.due_date(due_of(sw, mid)) > last_day

    listing = sw.client.get(f"/api/v1/admin/days-off?year={last_day.year}", headers=root).json()
    assert [d["id"] for d in listing["items"]] == [body["id"]]
    assert listing["year"] == last_day.year
    assert listing["public_holidays"] and all(
        d["day"].startswith(str(last_day.year)) for d in listing["public_holidays"]
    )
    names = {d["name"] for d in listing["public_holidays"]}
    assert "Tahun Baru Masehi" in names and "New Year's Day" not in names  # Indonesian first
    english = sw.client.get(
        f"/api/v1/admin/days-off?year={last_day.year}",
        headers={**root, "Accept-Language": "en"},
    ).json()
    assert "New Year's Day" in {d["name"] for d in english["public_holidays"]}

    twice = sw.client.post(
        "/api/v1/admin/days-off", json={"day": last_day.isoformat(), "name": "x"}, headers=root
    )
    assert twice.status_code == 409 and twice.json()["code"] == "duplicate_day_off"
    bad = sw.client.post("/api/v1/admin/days-off", json={"day": "4 Nov", "name": "x"}, headers=root)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "day"
    year = sw.client.get("/api/v1/admin/days-off?year=x", headers=root)
    assert year.status_code == 422 and year.json()["errors"][0]["field"] == "year"

    removed = sw.client.delete(f"/api/v1/admin/days-off/{body['id']}", headers=root)
    assert removed.status_code == 204
    assert sw.client.get(f"/api/v1/messages/{mid}", headers=ani).json()["due_at"] == before
    missing = sw.client.delete(f"/api/v1/admin/days-off/{body['id']}", headers=root)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


# ---------------------------------------------------------------------------- sub-categories
def sub_of(w: ApiWorld) -> Any:
    return w.core.deps.db.run_sync(
        lambda uow: uow.directory.subcategory(w.ids["sub_infra"]), write=False
    )


def test_subcategory_sop_days_on_the_page(sw: ApiWorld) -> None:
    sub = sw.ids["sub_infra"]
    defaults = sw.core.sop.default_days
    login(sw, "root")
    # the deadlines are edited on the sub-category's own page, not the long list
    assert 'name="sop_confirm_days"' not in sw.client.get("/admin/categories").text
    page = sw.client.get(f"/admin/subcategories/{sub}")
    assert "SOP konfirmasi (hari kerja)" in page.text and "SOP balasan (hari kerja)" in page.text
    assert f"Kosong: bawaan ({defaults.confirm} hari kerja)." in page.text
    assert f"Kosong: bawaan ({defaults.reply} hari kerja)." in page.text
    saved = sw.client.post(
        f"/admin/subcategories/{sub}",
        data={
            "name": "Infrastruktur",
            "sop_confirm_days": "4",
            "sop_reply_days": "",
            "_csrf_token": sw.csrf(),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert (sub_of(sw).sop_confirm_days, sub_of(sw).sop_reply_days) == (4, None)
    page = sw.client.get(f"/admin/subcategories/{sub}")
    assert re.search(r'id="f-sop_confirm_days"[^>]*value="4"', page.text)
    assert "konfirmasi 4" in sw.client.get("/admin/categories").text

    bad = sw.client.post(
        f"/admin/subcategories/{sub}",
        data={
            "name": "Infrastruktur",
            "sop_confirm_days": "0",
            "sop_reply_days": "abc",
            "_csrf_token": sw.csrf(),
        },
    )
    assert bad.status_code == 422
    message = "Masukkan jumlah hari kerja antara 1 dan 365, atau kosongkan."
    assert f'id="e-sop_confirm_days">{message}' in bad.text
    assert f'id="e-sop_reply_days">{message}' in bad.text
    assert re.search(r'id="f-sop_reply_days"[^>]*value="abc"', bad.text)
    assert sub_of(sw).sop_confirm_days == 4
    english = sw.client.post(
        f"/admin/subcategories/{sub}?lang=en",
        data={"name": "Infrastruktur", "sop_confirm_days": "999", "_csrf_token": sw.csrf()},
    )
    assert "Enter a number of working days between 1 and 365, or leave it empty." in english.text
    assert "SOP confirm (working days)" in english.text
    # renaming alone (a form without the SOP fields) keeps the SOP days
    renamed = sw.client.post(
        f"/admin/subcategories/{sub}",
        data={"name": "Jalan", "_csrf_token": sw.csrf()},
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    assert (sub_of(sw).name, sub_of(sw).sop_confirm_days) == ("Jalan", 4)


def test_subcategory_sop_days_in_the_api(sw: ApiWorld) -> None:
    sub = sw.ids["sub_infra"]
    root = sw.bearer("root")
    url = f"/api/v1/admin/subcategories/{sub}"
    r = sw.client.patch(url, json={"sop_reply_days": 15, "sop_confirm_days": "3"}, headers=root)
    assert r.status_code == 200, r.text
    assert (r.json()["sop_confirm_days"], r.json()["sop_reply_days"]) == (3, 15)
    # a forwarded message of that sub-category now has three working days to be confirmed
    mid = send(sw, "Sungai")
    forward(sw, mid)
    msg = sw.core.deps.db.run_sync(lambda uow: uow.messages.get(mid), write=False)
    cal = sw.core.sop.display_calendar()
    start_day = cal.local_date(msg.stage_started_at)
    assert sw.core.sop.due_date(msg.due_at) >= cal.nth_working_day_after(start_day, 3)

    bad = sw.client.patch(url, json={"sop_confirm_days": "abc", "sop_reply_days": 0}, headers=root)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"sop_confirm_days", "sop_reply_days"}
    reset = sw.client.patch(url, json={"sop_reply_days": None}, headers=root)
    assert (reset.json()["sop_confirm_days"], reset.json()["sop_reply_days"]) == (3, None)
    listed = sw.client.get("/api/v1/admin/subcategories", headers=root).json()["items"]
    assert {s["id"]: s["sop_confirm_days"] for s in listed}[sub] == 3
    denied = sw.client.patch(url, json={"sop_reply_days": 5}, headers=sw.bearer("admin"))
    assert denied.status_code == 403
