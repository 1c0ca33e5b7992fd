"""The privacy suite for public surfaces (issue 18): personal data a citizen typed
into a public message never shows raw to anyone who may not read the original.

It seeds its own data: a signed, non-confidential message whose subject and body
carry a NIK (one that passes the NIK rules, not the sender's own), an Indonesian
mobile number and an e-mail address, forwarded to an agency (so it is on the
public list), answered and rated with the same data in the texts. Then it asks,
as a visitor who is not logged in, as another citizen and as an operator of
another agency: every GET route of the app — with the message's ids filled in
where a route has path parameters, once plain and once with a search ``q`` for
the message's subject — plus tracking by the sender's NIK (page and API), the
notifications of those readers, and every mail in a real SMTP sink that went to
anyone but the sender and the staff with access. Any answer 200 that shows a raw
value (as typed, or its digits without separators) fails the test, and it names
each place. Routes added later are walked the same way.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from aspirasi_core.domain.nik import is_valid_nik

from .api_support import ApiWorld, build_world
from .smtp_sink import SmtpSink, smtp  # noqa: F401 - the fixture
from .world import NIKS

SENDER = "ani"
#: A NIK that passes the rules (a neighbour's, typed into the complaint).
TYPED_NIK = "3171012303870005"
PHONE = "0812-3456-7890"
PHONE_INTL = "+62 813 5555 1234"
EMAIL = "ani.warga@gmail.com"
SUBJECT = f"Pungli parkir, hubungi {PHONE} atau {EMAIL}"
BODY = (
    f"Tetangga saya (NIK {TYPED_NIK}, WA {PHONE_INTL}) dimintai uang parkir liar."
    f" Hubungi saya di {PHONE} atau {EMAIL}. Kejadian 08.12.2024 pukul 10.30."
)
RAW = (TYPED_NIK, PHONE, PHONE_INTL, EMAIL)
#: The same values without separators: a surface that strips them still leaks.
DIGITS = tuple(re.sub(r"[^0-9]", "", v) for v in (TYPED_NIK, PHONE, PHONE_INTL))
#: Who may read the original: the sender and the staff with access.
ALLOWED = (f"{SENDER}@", "admin@", "root@", "op-pupr@")
SKIPPED = ("/static/", "/schema", "/dev/")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any, smtp: SmtpSink) -> Iterator[ApiWorld]:  # noqa: F811
    yield from build_world(
        sqlite_database,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        disabled_plugins=("rate_limit",),
    )


class Leaks:
    """Where a raw value showed (every place listed at the end)."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.checked = 0

    def text(self, where: str, text: str) -> None:
        self.checked += 1
        for raw in (*RAW, *DIGITS):
            if raw.lower() in text.lower():
                at = text.lower().index(raw.lower())
                self.found.append(f"{where}: {raw!r} in …{text[max(0, at - 60) : at + 40]}…")

    def response(self, where: str, response: Any) -> None:
        kind = response.headers.get("content-type", "")
        if "spreadsheetml" in kind:
            with zipfile.ZipFile(io.BytesIO(response.content)) as book:
                body = " ".join(
                    book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml")
                )
        else:
            body = response.content.decode("utf-8", "replace")
        self.text(where, body)
        self.text(f"{where} (headers)", str(dict(response.headers)))


def seed(api: ApiWorld) -> dict[str, Any]:
    """ani's message with personal data, forwarded to PUPR (public from then on),
    answered with the same data in a note for the sender and in the reply, rated."""
    c = api.client
    ani, admin, operator = api.bearer(SENDER), api.bearer("admin"), api.bearer("op_pupr")
    r = c.post("/api/v1/messages", json={"subject": SUBJECT, "body": BODY}, headers=ani)
    assert r.status_code == 201, r.text
    mid, ticket = r.json()["id"], r.json()["ticket"]
    r = c.post(
        f"/api/v1/messages/{mid}/forward",
        json={
            "category_id": api.ids["cat_aduan"],
            "subcategory_id": api.ids["sub_infra"],
            "agency_id": api.ids["agency_pupr"],
            "note": f"Pelapor bisa dihubungi di {PHONE}.",
            "visibility": "sender",
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    for step, body in (
        ("start", {}),
        ("progress", {"note": f"Kami hubungi {EMAIL}.", "visibility": "sender"}),
        ("reply", {"answer": f"Petugas {TYPED_NIK} sudah ditegur; info {PHONE}."}),
    ):
        r = c.post(f"/api/v1/messages/{mid}/{step}", json=body, headers=operator)
        assert r.status_code == 200, (step, r.text)
    r = c.post(
        f"/api/v1/messages/{mid}/rating",
        json={"stars": 5, "comment": f"Terima kasih, {PHONE}."},
        headers=ani,
    )
    assert r.status_code == 201, r.text
    # the sender and the staff with access read the original
    for who in (SENDER, "admin", "op_pupr"):
        detail = c.get(f"/api/v1/messages/{mid}", headers=api.bearer(who)).json()
        assert detail["subject"] == SUBJECT and detail["body"] == BODY, who
    return {"id": mid, "ticket": ticket}


def fill(api: ApiWorld, template: str, message: dict[str, Any]) -> str:
    values = {
        "message_id": message["id"],
        "account_id": api.ids[SENDER],
        "agency_id": api.ids["agency_pupr"],
        "category_id": api.ids["cat_aduan"],
        "subcategory_id": api.ids["sub_infra"],
        "code": "en",
    }
    return _PARAM.sub(lambda m: str(values.get(m.group(1), 1)), template)


def get_routes(api: ApiWorld) -> list[str]:
    found = {
        route.path
        for route in api.app.routes
        if "GET" in getattr(route, "methods", ()) and not route.path.startswith(SKIPPED)
    }
    return sorted(found)


def test_no_public_surface_shows_personal_data_typed_into_a_message(
    api: ApiWorld,
    smtp: SmtpSink,  # noqa: F811
) -> None:
    assert is_valid_nik(TYPED_NIK) and TYPED_NIK not in NIKS.values()
    message = seed(api)
    leaks = Leaks()
    routes = get_routes(api)
    assert {"/", "/messages", "/api/v1/public/messages"} <= set(routes)
    readers: dict[str, dict[str, str]] = {
        "a visitor": {},
        "another citizen": api.bearer("budi"),
        "another agency's operator": api.bearer("op_dinkes"),
    }
    shown: dict[str, set[str]] = {}  # path -> readers that were shown the ticket
    query = {"q": "Pungli"}
    for reader, headers in readers.items():
        for template in routes:
            path = fill(api, template, message)
            for params in ({}, query):
                r = api.client.get(path, params=params, headers=headers, follow_redirects=False)
                assert r.status_code < 500, (reader, path, params, r.status_code)
                if r.status_code == 200:
                    where = f"GET {path}{'?q=Pungli' if params else ''} as {reader}"
                    leaks.response(where, r)
                    if message["ticket"] in r.text:
                        shown.setdefault(path + ("?q" if params else ""), set()).add(reader)
        notes = api.client.get("/api/v1/notifications", headers=headers)
        if reader == "another agency's operator":  # in-app notifications are for staff
            assert notes.status_code == 200, notes.text
        if notes.status_code == 200:
            leaks.response(f"notifications of {reader}", notes)
    # The walk did reach the public surfaces, and they show the masked values.
    for path in ("/", "/messages", "/messages?q", "/api/v1/public/messages",
                 "/api/v1/public/messages?q"):  # fmt: skip
        assert "a visitor" in shown.get(path, set()), (path, shown)
    public = api.client.get("/api/v1/public/messages", params=query).json()["items"]
    [listed] = [m for m in public if m["ticket"] == message["ticket"]]
    assert "0812*****890" in listed["subject"] and "a***@***.com" in listed["subject"]
    assert "3171********0005" in listed["body"] and "+6281******234" in listed["body"]

    # Tracking by the sender's NIK, page and API: the subject (masked) at most.
    sender_nik = NIKS[SENDER]
    api.client.cookies.clear()
    tracked = api.client.post(
        "/api/v1/public/tracking", json={"nik": sender_nik}, headers={"X-CSRF-Token": api.csrf()}
    )
    assert tracked.status_code == 200, tracked.text
    assert [m["ticket"] for m in tracked.json()["items"]] == [message["ticket"]]
    leaks.response("POST /api/v1/public/tracking", tracked)
    page = api.client.post("/tracking", data={"nik": sender_nik, "_csrf_token": api.csrf()})
    assert page.status_code == 200 and message["ticket"] in page.text
    leaks.response("POST /tracking", page)

    # Every mail to anyone but the sender and the staff with access.
    while api.core.outbox.run_once_sync().handled:
        pass
    assert smtp.inbox, "the message's mails reached the SMTP server"
    for mail in smtp.inbox:
        to = str(mail["To"])
        if any(allowed in to for allowed in ALLOWED):
            continue
        parts = [str(mail["Subject"]), to]
        parts += [p.get_content() for p in mail.walk() if p.get_content_maintype() == "text"]
        leaks.text(f"mail to {to}: {mail['Subject']}", "\n".join(parts))

    assert leaks.checked > 100  # the walk did reach the pages
    assert leaks.found == [], "\n".join(leaks.found)
