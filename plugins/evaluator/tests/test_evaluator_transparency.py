"""Issue 23 (3): the public transparency page and its open data — the same figures
as the evaluator's report, equal to plain counts, without personal data, under the
licence of the settings."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import anyio
import pytest
from evaluator_support import World, build, migrate_evaluator, populate
from litestar.testing import TestClient
from sqlalchemy import func, select

from aspirasi_core.services import SubmitInput
from aspirasi_core.services.ports.log_chain import LogRoot
from aspirasi_core.storage.tables import messages, ratings
from aspirasi_evaluator.tables import reprimands

m = messages


def _due(world: World, message_id: int) -> Any:
    return world.core.deps.db.run_sync(
        lambda uow: uow.execute(select(m.c.due_at).where(m.c.id == message_id)).scalar_one(),
        write=False,
    )


def _story(world: World) -> dict[int, int]:
    """Two of pupr's messages answered (one rated), dinkes' answered, an anonymous
    and a confidential message forwarded to pupr, and a reprimand to pupr.

    Returns the answered messages whose agency started and replied before the
    deadline each stage had (populate left p1 and d1 overdue), by agency."""
    core = world.core
    kept: dict[int, int] = {}
    for name, op in (("p3", "op_pupr"), ("p1", "op_pupr"), ("d1", "op_dinkes")):
        message_id = world.ids[name]
        on_time = core.deps.clock.now() < _due(world, message_id)
        anyio.run(lambda: core.messages.act(world.ctx(op), message_id, "start", note="ok"))
        on_time = on_time and core.deps.clock.now() < _due(world, message_id)
        done = anyio.run(
            lambda: core.messages.act(world.ctx(op), message_id, "reply", answer="selesai")
        )
        if on_time:
            kept[done.agency_id] = kept.get(done.agency_id, 0) + 1
    anyio.run(lambda: core.messages.rate(world.ctx("ani"), world.ids["p3"], 4, "Baik"))
    for flag in ("anonymous", "confidential"):
        sent = anyio.run(
            lambda: core.messages.submit(
                world.ctx("ani"),
                SubmitInput(subject=f"Rahasia {flag}", body="Isi pribadi.", **{flag: True}),
            )
        )
        anyio.run(
            lambda: core.messages.act(
                world.ctx("admin"),
                sent.id,
                "forward",
                category_id=world.ids["aduan"],
                subcategory_id=world.ids["jalan"],
                agency_id=world.ids["pupr"],
            )
        )
    payload = {"agency_id": world.ids["pupr"], "message_ids": [world.ids["p2"]], "text": "Tegur"}
    answer = world.api("POST", "/api/v1/evaluator/reprimands", "eval_admin", json=payload)
    assert answer.status_code == 201, answer.text
    return kept


def _plain(world: World, agency: int) -> dict[str, int]:
    """The figures the plainest way: SQL counts over the core's and the plugin's rows."""

    def count(uow: Any) -> dict[str, int]:
        mine = (m.c.agency_id == agency, m.c.status != "withdrawn")
        return {
            "received": uow.execute(select(func.count()).where(*mine)).scalar(),
            "completed": uow.execute(
                select(func.count()).where(*mine, m.c.status == "done")
            ).scalar(),
            "ratings": uow.execute(
                select(func.count())
                .select_from(ratings.join(m, m.c.id == ratings.c.message_id))
                .where(*mine)
            ).scalar(),
            "reprimands": uow.execute(
                select(func.count()).where(reprimands.c.agency_id == agency)
            ).scalar(),
        }

    return world.core.deps.db.run_sync(count, write=False)


def test_the_open_data_equal_plain_counts_and_name_nobody(world):
    kept = _story(world)
    answer = world.get("/transparansi.json")  # nobody signed in
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    data = answer.json()
    assert data["licence"] == "CC BY 4.0"
    by_code = {a["agency_code"]: a for a in data["agencies"]}
    for code in ("pupr", "dinkes"):
        want = _plain(world, world.ids[code])
        want["completed_within_sop"] = kept.get(world.ids[code], 0)
        got = by_code[code]
        assert {k: got[k] for k in want} == want, code
    pupr = by_code["pupr"]
    # The anonymous and the confidential message are counted (3 + 2) ...
    assert pupr["received"] == 5 and pupr["completed"] == 2 and pupr["reprimands"] == 1
    # p3 was answered within the SOP; p1 was confirmed after its deadline.
    assert pupr["completed_within_sop"] == 1 and pupr["share_completed_within_sop"] == 0.5
    assert by_code["dinkes"]["share_completed_within_sop"] == 0.0
    assert pupr["rating_average"] == 4.0
    # ... and nobody is named: no subject, text, ticket, person or address.
    text = answer.text
    for secret in ("Rahasia", "Subject p", "Isi pribadi", "Ani", "ani@", "selesai", "Tegur"):
        assert secret not in text, secret
    tickets = world.core.deps.db.run_sync(
        lambda uow: list(uow.execute(select(m.c.ticket)).scalars()), write=False
    )
    assert not any(ticket in text for ticket in tickets)
    assert sum(p["submitted"] for p in data["trend"]) == data["total"]["received"] == 7

    # The CSV holds the same figures, one row per agency, with the licence.
    sheet = world.get("/transparansi.csv")
    assert sheet.status_code == 200
    assert sheet.headers["content-disposition"].startswith('attachment; filename="transparansi-')
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert [r["agency_code"] for r in rows] == [a["agency_code"] for a in data["agencies"]]
    for row in rows:
        want = by_code[row["agency_code"]]
        for key in ("received", "completed", "completed_within_sop", "ratings", "reprimands"):
            assert int(row[key]) == want[key], (row["agency_code"], key)
        assert row["licence"] == "CC BY 4.0"


def test_the_page_ranks_the_agencies_for_everyone(world):
    _story(world)
    html = world.get("/transparansi").text
    assert "<h1>Transparansi</h1>" in html
    assert 'href="/transparansi"' in html  # in the public menu
    ranking = html.split('<ol class="ranking">', 1)[1].split("</ol>", 1)[0]
    # pupr completed half within the SOP, dinkes none (d1 was confirmed late).
    assert ranking.index("Dinas pupr") < ranking.index("Dinas dinkes")
    assert "Teguran diterima" in ranking
    assert "CC BY 4.0" in html
    assert 'href="/transparansi.csv?year=' in html and 'href="/transparansi.json?year=' in html
    assert '<desc id="chart-desc">' in html and '<details class="chart-data">' in html
    assert "Rahasia" not in html and "Subject p" not in html
    english = world.get("/transparansi?lang=en").text
    assert "Ranking of the agencies" in english


@pytest.mark.parametrize("year", ["1999", "3000", "20x6", "99999", "%202025", "2025%20", "%20"])
def test_a_bad_year_is_a_translated_error(world, year):
    page = world.get(f"/transparansi?year={year}")
    assert page.status_code == 422
    assert "Pilih tahun dari 2000 sampai" in page.text
    for download in ("json", "csv"):
        api = world.get(f"/transparansi.{download}?year={year}")
        assert api.status_code == 422
        assert api.headers["content-type"].startswith("application/problem+json")
        assert api.json()["errors"][0]["field"] == "year"


@pytest.fixture
def licensed(sqlite_database: Any, tmp_path: Any) -> Any:
    migrate_evaluator(sqlite_database)
    app, core = build(sqlite_database, tmp_path, open_data_licence="CC0 1.0")
    w = World(core=core)
    populate(w)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        yield w


def test_the_licence_is_the_settings(licensed):
    assert licensed.get("/transparansi.json").json()["licence"] == "CC0 1.0"
    assert "CC0 1.0" in licensed.get("/transparansi").text
    rows = list(
        csv.DictReader(io.StringIO(licensed.get("/transparansi.csv").text.lstrip("\ufeff")))
    )
    assert {r["licence"] for r in rows} == {"CC0 1.0"}
    assert json.loads(licensed.get("/transparansi.json").content)["columns"][0] == "agency_code"


def test_the_page_publishes_the_newest_daily_roots(world):
    """Issue 23 (4): the daily roots of the tamper-evident record are published on
    the transparency page, the newest seven as the core keeps them, with links to
    check them."""
    _story(world)
    before = world.get("/transparansi").text
    assert "Belum ada hari yang disegel." in before
    now = world.core.deps.clock.now()
    days = [now.date() - timedelta(days=n) for n in range(9, 0, -1)]

    def seal(uow: Any) -> None:  # the sweep's rows, for days the tests cannot wait for
        prev = "0" * 64
        for n, day in enumerate(days):
            root = f"{n:02d}" + "ab" * 31
            uow.log_chain.add_root(LogRoot(day, root, prev, n + 1, now))
            prev = root

    world.core.deps.db.run_sync(seal, write=True)
    html = world.get("/transparansi").text
    section = html.split('id="h-roots"', 1)[1].split("</section>", 1)[0]
    shown = [part.split("</code>", 1)[0] for part in section.split('<code class="hash">')[1:]]
    assert shown == [f"{n:02d}" + "ab" * 31 for n in range(8, 1, -1)]  # newest 7
    assert "9 pesan berubah" in section
    assert 'href="/verifikasi#roots"' in section
    assert 'href="/api/v1/public/record/roots"' in section
    assert "Catatan tahan-ubah" in html
    assert "Tamper-evident record" in world.get("/transparansi?lang=en").text
