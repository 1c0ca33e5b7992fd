"""The privacy suite for anonymous messages: every staff-visible surface, walked
with a seeded anonymous message, must carry nothing that identifies its sender
or ties it to the sender's other messages.

It seeds its own data (a citizen who sends a signed and an anonymous message,
with a PDF whose metadata names them, handled to the end by an agency) and then
asks, as each staff role (admin, the agency's operator, a land-dispute monitor,
an evaluator, the super admin): every GET route of the app — JSON and HTML, the
attachment download, the evaluator's CSV and XLSX exports, the notifications —
with the anonymous message's ids filled in, the answers of the staff actions
themselves, and every mail that reached the SMTP server. Routes added later are
walked the same way. A second walk asks every GET route, account pages included,
with the sender's name, username, e-mail, NIK and account id as search and filter
values, against the same asked of a citizen who sent nothing: no answer may pick
the anonymous message out by its sender. Left out, on purpose: the super admin's account
administration (it lists accounts, not messages), the demo mailbox (404 outside
demo mode) and the static files and OpenAPI schema.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import anyio
import pikepdf
import pytest

from aspirasi_core.domain.model import Role
from aspirasi_core.services import Context, StaffInput

from .api_support import ApiWorld, build_world
from .smtp_sink import SmtpSink, smtp  # noqa: F401 - the fixture
from .world import NIKS, PASSWORDS

SENDER = "budi"
NIK = NIKS[SENDER]
#: Texts that name the sender: username, name and e-mail share "budi"; the NIK
#: and its masked form; what the PDF's metadata says about its author.
SECRETS = (SENDER, NIK, f"{NIK[:4]}********{NIK[-4:]}", "santoso", "users\\")
#: Keys under which an account id names the person behind a message.
ID_KEYS = ("actor_id", "author_id", "account_id", "user_id", "sender_id")
STAFF = ("admin", "op_dinkes", "monitor", "evaluator", "root")
SKIPPED = (
    "/admin/users",
    "/api/v1/admin/users",
    "/dev/",
    "/static/",
    "/schema",
)
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


def sender_pdf() -> bytes:
    """A PDF as a word processor saves it, naming its author and their folder."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 400))
    pdf.docinfo["/Author"] = "Budi Santoso"
    pdf.docinfo["/Creator"] = r"C:\Users\budi.santoso\Documents\pungli.docx"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = ["Budi Santoso"]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def add_staff(api: ApiWorld) -> None:
    """A land-dispute monitor and an evaluator, officials of a third office."""
    core = api.core

    async def go() -> None:
        rctx = Context(actor=_actor(api, "root"))
        biro = await core.admin.create_entry(rctx, "agency", code="biro", name="Biro Perekonomian")
        for username, permission in (
            ("monitor", "land_issue.monitor"),
            ("evaluator", "evaluator.evaluate"),
        ):
            account = await core.admin.create_staff(
                rctx,
                StaffInput(
                    email=f"{username}@example.org",
                    username=username,
                    full_name=username.title(),
                    password=f"{username}-long-password",
                    role=Role.OPERATOR,
                    agency_id=biro.id,
                    permissions=(permission,),
                ),
            )
            api.ids[username] = account.id

    anyio.run(go)


def _actor(api: ApiWorld, username: str) -> Any:
    account = api.core.deps.db.run_sync(
        lambda uow: uow.accounts.get(api.ids[username]), write=False
    )
    return account.actor()


def land_subcategory(api: ApiWorld) -> int:
    async def go() -> int:
        subs = await api.core.admin.subcategories(api.ids["cat_aduan"])
        return next(s.id for s in subs if s.code == "permasalahan-lahan")

    return anyio.run(go)


class Seen:
    """Answers collected from staff, checked at the end (every problem listed)."""

    def __init__(self, api: ApiWorld, hidden: dict[str, Any]) -> None:
        self.api = api
        self.hidden = hidden
        self.sender_id = api.ids[SENDER]
        self.problems: list[str] = []

    def text(self, where: str, text: str) -> None:
        lowered = text.lower()
        for secret in SECRETS:
            if secret.lower() in lowered:
                at = lowered.index(secret.lower())
                self.problems.append(f"{where}: {secret!r} in …{text[max(0, at - 60) : at + 40]}…")
        if f"/admin/users/{self.sender_id}" in text:
            self.problems.append(f"{where}: links the sender's account")

    def json(self, where: str, value: Any, inside: bool = False) -> None:
        """Inside the anonymous message's part of an answer, no account id of its
        sender under a key that names a person (nor an ``author`` object)."""
        if isinstance(value, dict):
            mine = inside or value.get("id") == self.hidden["id"]
            mine = mine or value.get("message_id") == self.hidden["id"]
            mine = mine or value.get("ticket") == self.hidden["ticket"]
            for key, item in value.items():
                if mine and key in ID_KEYS and item == self.sender_id:
                    self.problems.append(f"{where}: {key}={item} (the sender)")
                if mine and key in ("author", "sender") and item is not None:
                    self.problems.append(f"{where}: {key}={item}")
                self.json(where, item, mine)
        elif isinstance(value, list):
            for item in value:
                self.json(where, item, inside)

    def response(self, where: str, response: Any) -> None:
        kind = response.headers.get("content-type", "")
        body = response.content
        if kind.startswith("application/json") or kind.startswith("application/problem"):
            self.json(where, response.json())
            self.text(where, response.text)
        elif "spreadsheetml" in kind:
            with zipfile.ZipFile(io.BytesIO(body)) as book:
                xml = " ".join(
                    book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml")
                )
            self.text(where, xml)
        else:
            self.text(where, body.decode("latin-1"))
        disposition = response.headers.get("content-disposition", "")
        self.text(f"{where} (file name)", disposition)


def seed(api: ApiWorld, seen: Seen | None = None) -> dict[str, Any]:
    """budi sends a signed and an anonymous land-dispute complaint (with a PDF);
    the admin forwards both to Dinas dinkes, whose operator answers the anonymous
    one to the end; budi rates it."""
    c = api.client
    budi = api.bearer(SENDER)
    admin = api.bearer("admin")
    operator = api.bearer("op_dinkes")
    forward = {
        "category_id": api.ids["cat_aduan"],
        "subcategory_id": land_subcategory(api),
        "agency_id": api.ids["agency_dinkes"],
        "note": "Mohon ditindaklanjuti.",
    }
    signed = c.post(
        "/api/v1/messages",
        data={"subject": "Patok tanah digeser", "body": "Patok dipindah oleh perusahaan."},
        files={"attachment": ("patok.pdf", sender_pdf(), "application/pdf")},
        headers=budi,
    )
    assert signed.status_code == 201, signed.text
    hidden = c.post(
        "/api/v1/messages",
        data={
            "subject": "Pungutan liar sertifikat tanah",
            "body": "Petugas meminta uang tambahan.",
            "anonymous": "true",
        },
        files={"attachment": ("Laporan_budi_santoso.pdf", sender_pdf(), "application/pdf")},
        headers=budi,
    )
    assert hidden.status_code == 201, hidden.text
    hidden_id = hidden.json()["id"]
    if seen:
        seen.hidden = {"id": hidden_id, "ticket": hidden.json()["ticket"]}
    for message_id in (signed.json()["id"], hidden_id):
        r = c.post(f"/api/v1/messages/{message_id}/forward", json=forward, headers=admin)
        assert r.status_code == 200, r.text
        if seen:
            seen.response(f"POST forward {message_id} (admin)", r)
    steps = [
        ("start", {}),
        ("progress", {"note": "Sedang diperiksa."}),
    ]
    for step, body in steps:
        r = c.post(f"/api/v1/messages/{hidden_id}/{step}", json=body, headers=operator)
        assert r.status_code == 200, r.text
        if seen:
            seen.response(f"POST {step} (op_dinkes)", r)
    r = c.post(
        f"/api/v1/messages/{hidden_id}/reply",
        data={"answer": "Petugas sudah ditegur."},
        headers=operator,
    )
    assert r.status_code == 200, r.text
    if seen:
        seen.response("POST reply (op_dinkes)", r)
    rated = c.post(f"/api/v1/messages/{hidden_id}/rating", json={"stars": 4}, headers=budi)
    assert rated.status_code == 201, rated.text
    detail = c.get(f"/api/v1/messages/{hidden_id}", headers=budi).json()
    return {
        "id": hidden_id,
        "ticket": detail["ticket"],
        "attachment_id": detail["attachments"][0]["id"],
        "signed_id": signed.json()["id"],
    }


def fill(api: ApiWorld, template: str, actor: str, hidden: dict[str, Any]) -> str:
    values = {
        "message_id": hidden["id"],
        "attachment_id": hidden["attachment_id"],
        "account_id": api.ids[actor],
        "agency_id": api.ids["agency_dinkes"],
        "category_id": api.ids["cat_aduan"],
        "subcategory_id": api.ids["sub_infra"],
        "code": "en",
    }
    return _PARAM.sub(lambda m: str(values.get(m.group(1), 1)), template)


def get_routes(api: ApiWorld) -> list[str]:
    found = []
    for route in api.app.routes:
        if "GET" in getattr(route, "methods", ()) and not route.path.startswith(SKIPPED):
            found.append(route.path)
    return sorted(set(found))


def test_no_staff_surface_identifies_the_anonymous_sender(api: ApiWorld, smtp: SmtpSink) -> None:  # noqa: F811
    add_staff(api)
    seen = Seen(api, {"id": -1, "ticket": "-"})
    hidden = seed(api, seen)
    routes = get_routes(api)
    assert "/api/v1/messages/{message_id:int}" in routes and "/land-issues" in routes
    walked = 0
    for actor in STAFF:
        headers = api.bearer(actor)
        for template in routes:
            path = fill(api, template, actor, hidden)
            response = api.client.get(path, headers=headers, follow_redirects=False)
            if response.status_code == 200:
                walked += 1
                seen.response(f"GET {path} as {actor}", response)
        # what the staff member is notified of
        notes = api.client.get("/api/v1/notifications", headers=headers)
        assert notes.status_code == 200
        seen.response(f"notifications of {actor}", notes)
    assert walked > 100  # the walk did reach the pages
    while api.core.outbox.run_once_sync().handled:
        pass
    staff_mail = [m for m in smtp.inbox if f"{SENDER}@" not in str(m["To"])]
    assert staff_mail, "the admins and the agency got mail"
    for mail in staff_mail:
        parts = [str(mail["Subject"]), str(mail["To"])]
        parts += [p.get_content() for p in mail.walk() if p.get_content_maintype() == "text"]
        seen.text(f"mail to {mail['To']}: {mail['Subject']}", "\n".join(parts))
    assert seen.problems == [], "\n".join(seen.problems)


def test_the_sender_still_sees_everything_as_theirs(api: ApiWorld) -> None:
    add_staff(api)
    hidden = seed(api)
    budi = api.bearer(SENDER)
    own = api.client.get(f"/api/v1/messages/{hidden['id']}", headers=budi).json()
    assert own["anonymous"] is True and own["author"]["username"] == SENDER
    pdf = api.client.get(
        f"/api/v1/messages/{hidden['id']}/attachments/{hidden['attachment_id']}", headers=budi
    )
    assert pdf.status_code == 200 and b"Budi" not in pdf.content  # stripped for all
    page = api.client.get(f"/messages/{hidden['id']}", headers=budi)
    assert page.status_code == 200 and "Budi" in page.text


@pytest.mark.parametrize(
    ("lang", "word", "hint"),
    [("en", "Anonymous", "hidden from all staff"), ("id", "Anonim", "disembunyikan dari semua")],
)
def test_staff_see_clearly_that_a_message_is_anonymous(
    api: ApiWorld, lang: str, word: str, hint: str
) -> None:
    add_staff(api)
    hidden = seed(api)
    for actor, pages in (
        ("admin", ["/backoffice/messages", f"/backoffice/messages/{hidden['id']}"]),
        ("op_dinkes", ["/backoffice/messages", f"/backoffice/messages/{hidden['id']}"]),
        ("monitor", ["/land-issues", f"/backoffice/messages/{hidden['id']}"]),
    ):
        headers = api.bearer(actor)
        for page in pages:
            r = api.client.get(f"{page}?lang={lang}", headers=headers)
            assert r.status_code == 200, (actor, page, r.status_code)
            assert word in r.text, (actor, page)
            if "/backoffice/messages/" in page:
                assert hint in r.text, (actor, page)
        detail = api.client.get(f"/api/v1/messages/{hidden['id']}", headers=headers).json()
        assert detail["anonymous"] is True and "author" not in detail
    listed = api.client.get("/api/v1/backoffice/messages", headers=api.bearer("admin")).json()
    flags = {m["id"]: m["anonymous"] for m in listed["items"]}
    assert flags[hidden["id"]] is True and flags[hidden["signed_id"]] is False


#: What a staff member knows of a citizen and might search or filter by.
def _identity(username: str) -> list[dict[str, Any]]:
    values = (username, username.title(), f"{username}@example.org", NIKS[username])
    params: list[dict[str, Any]] = [{"q": v} for v in values]
    params += [{"login": username}, {"email": f"{username}@example.org"}, {"nik": NIKS[username]}]
    return params


def test_no_search_filter_or_account_page_ties_the_sender_to_the_anonymous_message(
    api: ApiWorld,
) -> None:
    """What the walk above cannot see: a list that picks the anonymous message out
    when searched or filtered by its sender (name, username, e-mail, NIK, account
    id), or an account's page that lists it. Each GET route, account pages
    included, is asked as each staff role about the sender and about another
    citizen (ani, who sent nothing): where the anonymous message shows for the
    sender only, the answer ties the two together."""
    add_staff(api)
    hidden = seed(api)
    marks = (hidden["ticket"], "Pungutan liar sertifikat tanah")
    routes = sorted(
        {
            route.path
            for route in api.app.routes
            if "GET" in getattr(route, "methods", ())
            and not route.path.startswith(("/dev/", "/static/", "/schema"))
        }
    )
    assert "/admin/users/{account_id:int}" in routes

    def shows(actor_headers: dict[str, str], path: str, params: dict[str, Any]) -> bool:
        r = api.client.get(path, params=params, headers=actor_headers, follow_redirects=False)
        assert r.status_code < 500, (path, params, r.status_code)
        body = r.content.decode("utf-8", "replace")
        return r.status_code == 200 and any(mark in body for mark in marks)

    problems: list[str] = []
    asked = reached = 0
    for actor in STAFF:
        headers = api.bearer(actor)
        for template in routes:
            for sender_params, other_params in zip(
                _identity(SENDER) + [{f"{k}": api.ids[SENDER]} for k in ID_KEYS],
                _identity("ani") + [{f"{k}": api.ids["ani"]} for k in ID_KEYS],
                strict=True,
            ):
                path = fill(api, template, actor, hidden)
                other_path = path
                if "{account_id" in template:
                    path = _PARAM.sub(str(api.ids[SENDER]), template)
                    other_path = _PARAM.sub(str(api.ids["ani"]), template)
                asked += 1
                if shows(headers, path, sender_params):
                    reached += 1  # a list that ignores the filter shows it for both
                    if not shows(headers, other_path, other_params):
                        problems.append(f"GET {path} {sender_params} as {actor}")
                if "{account_id" in template:
                    break  # the path names the account: one pair is enough
    assert asked > 1000 and reached > 50  # the lists were reached
    assert problems == [], "\n".join(problems)


def test_deleting_the_account_leaves_nothing_that_ties_the_anonymous_message_to_it(
    api: ApiWorld,
) -> None:
    """After the sender deletes their account, the signed message's files are
    marked removed with the deletion (reason and time); the anonymous message's
    files must carry neither, or staff could match it to the deleted account."""
    add_staff(api)
    hidden = seed(api)
    gone = api.client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORDS[SENDER]}, headers=api.bearer(SENDER)
    )
    assert gone.status_code == 204, gone.text
    admin = api.bearer("admin")
    signed = api.client.get(f"/api/v1/messages/{hidden['signed_id']}", headers=admin).json()
    (signed_file,) = signed["attachments"]
    assert signed_file["removed_reason"] == "account_deleted"
    deleted_at = signed_file["removed_at"]
    assert deleted_at
    tells = ("account_deleted", deleted_at, "deleted their account")
    problems: list[str] = []
    walked = 0
    for actor in STAFF:
        headers = api.bearer(actor)
        for template in get_routes(api):
            if "{message_id" not in template and "{attachment_id" not in template:
                continue
            path = fill(api, template, actor, hidden)
            response = api.client.get(path, headers=headers, follow_redirects=False)
            if response.status_code != 200:
                continue
            walked += 1
            text = response.content.decode("latin-1")
            problems += [f"GET {path} as {actor}: {t!r}" for t in tells if t in text]
    assert walked > 10
    assert problems == [], "\n".join(problems)
    detail = api.client.get(f"/api/v1/messages/{hidden['id']}", headers=admin).json()
    (photo,) = detail["attachments"]
    assert photo["url"] is None and photo["removed_reason"] == "removed"
    assert photo["filename"] == ""


def test_the_logs_do_not_tie_the_sender_to_the_anonymous_message(api: ApiWorld) -> None:
    """A log line of the sender's requests (they carry the account id, a proxy's
    log the address) names neither the anonymous message's id nor its ticket."""
    from structlog.testing import capture_logs

    budi = api.bearer(SENDER)
    with capture_logs() as sent:
        r = api.client.post(
            "/api/v1/messages",
            data={"subject": "Pungli", "body": "Petugas meminta uang.", "anonymous": "true"},
            headers=budi,
        )
    assert r.status_code == 201, r.text
    hidden_id, ticket = r.json()["id"], r.json()["ticket"]
    with capture_logs() as viewed:
        for path in (f"/api/v1/messages/{hidden_id}", f"/messages/{hidden_id}"):
            assert api.client.get(path, headers=budi).status_code == 200
        withdrawn = api.client.delete(f"/api/v1/messages/{hidden_id}", headers=budi)
        assert withdrawn.status_code == 204, withdrawn.text
    lines = [*sent, *viewed]
    assert any(e.get("account_id") == api.ids[SENDER] for e in lines)  # the request lines
    assert {e["event"] for e in sent} >= {"message_submitted", "request"}
    for entry in lines:
        values = " ".join(str(v) for k, v in entry.items() if k != "log_level")
        assert ticket not in values, entry
        assert hidden_id not in (entry.get("message_id"), entry.get("id")), entry
        assert not re.search(rf"/{hidden_id}(?![0-9])", values), entry
