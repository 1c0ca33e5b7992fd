"""Regressions of the review: huge ids, out-of-range dates, control characters,
self-acknowledgement, another agency's subjects, and the trend's index."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import anyio
import pytest
from evaluator_support import World, migrate_evaluator
from sqlalchemy import event, func, insert, select

from aspirasi_evaluator.figures import STATUS_BUCKETS
from aspirasi_evaluator.report import DateRange, build_report
from aspirasi_evaluator.tables import reprimands

HUGE = "9" * 5000


def issue(w: World, username: str = "eval_admin", **body: Any) -> Any:
    payload: dict[str, Any] = {
        "agency_id": w.ids["pupr"],
        "message_ids": [w.ids["p1"], w.ids["p2"]],
        "text": "Segera tindak lanjuti pesan yang terlambat.",
    }
    payload.update(body)
    return w.api("POST", "/api/v1/evaluator/reprimands", username, json=payload)


def reprimand_count(w: World) -> int:
    return w.core.deps.db.run_sync(
        lambda uow: uow.execute(select(func.count()).select_from(reprimands)).scalar(),
        write=False,
    )


def fields(answer: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in answer.json()["errors"]]


# ----------------------------------------------------------------------------- 1. huge ids


@pytest.mark.parametrize(
    "rid", [str(2**63), "99999999999999999999", str(2**62 + 1), str(2**64 + 5)]
)
def test_out_of_range_reprimand_ids_are_not_found_not_a_crash(world, rid):
    api = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "op_pupr", json={"response": "Siap"}
    )
    assert api.status_code == 404, api.text
    assert api.headers["content-type"].startswith("application/problem+json")
    world.login("op_pupr")
    page = world.client.post(
        f"/reprimands/{rid}/acknowledge",
        data={"response": "Siap", "_csrf_token": world.csrf()},
        follow_redirects=False,
    )
    assert page.status_code == 404, page.text


# ----------------------------------------------------------------------------- 2. long digits


def test_very_long_digit_strings_are_field_errors(world):
    for body, field in (
        ({"agency_id": HUGE}, "agency_id"),
        ({"message_ids": [HUGE]}, "message_ids"),
        ({"message_ids": HUGE}, "message_ids"),
        ({"agency_id": str(2**63)}, "agency_id"),
    ):
        answer = issue(world, **body)
        assert answer.status_code == 422, (field, answer.text[:300])
        assert [f for f, _ in fields(answer)] == [field]
    # JSON numbers that long are refused by the JSON decoder (422 as well).
    world.client.cookies.clear()
    raw = world.client.post(
        "/api/v1/evaluator/reprimands",
        content=b'{"agency_id": ' + HUGE.encode() + b', "message_ids": [1], "text": "x"}',
        headers={**world.bearer("eval_admin"), "content-type": "application/json"},
    )
    assert raw.status_code == 422
    world.login("eval_op")
    pupr = str(world.ids["pupr"])
    form_ids = world.client.post(
        "/evaluator/reprimands",
        data={
            "agency_id": pupr,
            "message_ids": [HUGE],
            "text": "Tegur.",
            "_csrf_token": world.csrf(),
        },
        follow_redirects=False,
    )
    assert form_ids.status_code == 422
    assert 'id="e-message_ids"' in form_ids.text and "Pilih nilai yang sah." in form_ids.text
    form_agency = world.client.post(
        "/evaluator/reprimands",
        data={
            "agency_id": HUGE,
            "message_ids": [pupr],
            "text": "Tegur.",
            "_csrf_token": world.csrf(),
        },
        follow_redirects=False,
    )
    assert form_agency.status_code == 422
    assert reprimand_count(world) == 0


# ----------------------------------------------------------------------------- 3. dates

OUT_OF_RANGE = [
    ("from=9999-01-01&to=9999-06-01", ["from", "to"]),
    ("from=0001-01-01&to=0001-02-01", ["from", "to"]),
    ("from=9998-01-01&to=9999-12-31", ["from", "to"]),
    ("from=2026-01-01&to=9999-12-31", ["to"]),
    ("from=1999-12-31", ["from"]),
]


@pytest.mark.parametrize(("query", "bad"), OUT_OF_RANGE)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/evaluator/report",
        "/api/v1/evaluator/messages",
        "/evaluator",
        "/evaluator/messages",
        "/evaluator/report.csv",
        "/evaluator/report.xlsx",
        "/evaluator/messages.csv",
        "/evaluator/messages.xlsx",
    ],
)
def test_out_of_range_dates_are_field_errors(world, path, query, bad):
    answer = world.get(f"{path}?{query}", "eval_op")
    assert answer.status_code == 422, answer.text[:300]
    if path.startswith("/api/"):
        assert fields(answer) == [(f, "date_out_of_range") for f in bad]


def test_the_out_of_range_message_is_translated(world):
    query = "from=9999-01-01&to=9999-06-01"
    id_ = world.get(f"/api/v1/evaluator/report?{query}&lang=id", "eval_op").json()
    en = world.get(f"/api/v1/evaluator/report?{query}&lang=en", "eval_op").json()
    assert en["errors"][0]["message"] == "Choose a date in the years 2000 to 2100."
    assert id_["errors"][0]["message"] == "Pilih tanggal pada tahun 2000 sampai 2100."
    page = world.get(f"/evaluator?{query}", "eval_op")
    assert "Pilih tanggal pada tahun 2000 sampai 2100." in page.text


def test_only_from_spans_a_year_capped_at_tomorrow():
    tz = "Asia/Makassar"
    now = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)  # 11:00 local

    def parse(raw_from: str | None, raw_to: str | None = None) -> DateRange:
        return DateRange.parse(raw_from, raw_to, now=now, tz=tz)

    assert parse("2024-03-05").end_day == date(2025, 3, 5)
    assert parse("2025-12-01").end_day == date(2026, 4, 21)
    assert parse("2026-04-20").end_day == date(2026, 4, 21)
    # A start after tomorrow: a year (no empty range).
    assert parse("2026-06-01").end_day == date(2027, 6, 1)
    # Explicit bounds and the default stay as they were.
    # ``to`` is the last day included.
    assert parse("2026-01-01", "2026-01-31").end_day == date(2026, 2, 1)
    assert parse("2026-01-01", "2026-01-31").last_day == date(2026, 1, 31)
    assert parse(None) == DateRange(date(2026, 1, 1), date(2027, 1, 1), tz)
    assert parse("2100-12-31", None).end_day == date(2101, 12, 31)


# ----------------------------------------------------------------------------- 4. texts


@pytest.mark.parametrize("bad", ["\u0000", "\u202e", "\x1b[31m", "\u200f"])
def test_control_and_format_characters_are_refused_and_nothing_is_stored(world, bad):
    before = len(world.mails())
    answer = issue(world, text=f"Tegur{bad}an")
    assert answer.status_code == 422, answer.text
    assert fields(answer) == [("text", "bad_characters")]
    assert reprimand_count(world) == 0
    assert len(world.mails()) == before
    # The acknowledgement's response likewise.
    rid = issue(world).json()["id"]
    ack = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "op_pupr", json={"response": f"Si{bad}ap"}
    )
    assert ack.status_code == 422, ack.text
    assert fields(ack) == [("response", "bad_characters")]
    [item] = world.get("/api/v1/reprimands", "eval_admin").json()["items"]
    assert item["acknowledged"] is False and item["response"] is None


def test_texts_are_normalised_and_keep_their_lines(world):
    answer = issue(world, text="  Baris satu\r\nbaris\tdua e\u0301  ")
    assert answer.status_code == 201, answer.text
    assert answer.json()["text"] == "Baris satu\nbaris\tdua \u00e9"


# ----------------------------------------------------------------------------- 5. own


def test_an_evaluator_cannot_reprimand_its_own_agency(world):
    # eval_op is an operator of dinkes holding evaluator.evaluate.
    answer = issue(world, "eval_op", agency_id=world.ids["dinkes"], message_ids=[world.ids["d1"]])
    assert answer.status_code == 422
    assert fields(answer) == [("agency_id", "own_agency")]
    assert reprimand_count(world) == 0
    assert issue(world, "eval_op").status_code == 201  # another agency: fine


def test_the_issuer_cannot_acknowledge_its_own_reprimand(world):
    # Issued before the agency check existed (or before moving agencies).
    now = world.core.deps.clock.now()
    rid = world.core.deps.db.run_sync(
        lambda uow: uow.execute(
            insert(reprimands)
            .values(
                agency_id=world.ids["dinkes"],
                issued_by=world.ids["eval_op"],
                text="Tegur diri sendiri.",
                created_at=now,
            )
            .returning(reprimands.c.id)
        ).scalar_one()
    )
    own = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "eval_op", json={"response": "Siap"}
    )
    assert own.status_code == 403
    assert own.json()["code"] == "own_reprimand"
    id_ = world.api(
        "POST",
        f"/api/v1/reprimands/{rid}/acknowledge?lang=id",
        "eval_op",
        json={"response": "Siap"},
    )
    assert "operator lain" in id_.json()["detail"] or "operator lain" in id_.text
    world.login("eval_op")
    assert f'action="/reprimands/{rid}/acknowledge"' not in world.client.get("/reprimands").text
    other = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "op_dinkes", json={"response": "Siap"}
    )
    assert other.status_code == 200, other.text


# ----------------------------------------------------------------------------- 6. leaks


def test_operators_see_only_the_ticket_of_a_message_now_at_another_agency(world):
    rid = issue(world).json()["id"]
    p1, p2 = world.ids["p1"], world.ids["p2"]

    async def reforward() -> None:
        await world.core.messages.act(
            world.ctx("admin"),
            p1,
            "forward",
            category_id=world.ids["aduan"],
            subcategory_id=world.ids["jalan"],
            agency_id=world.ids["dinkes"],
        )

    anyio.run(reforward)
    [item] = world.get("/api/v1/reprimands", "op_pupr").json()["items"]
    assert item["id"] == rid
    by_ticket = {m["ticket"]: m for m in item["messages"]}
    assert len(by_ticket) == 2
    hidden = [m for m in item["messages"] if m["hidden"]]
    assert len(hidden) == 1
    assert hidden[0]["subject"] is None and hidden[0]["status"] is None and hidden[0]["id"] is None
    shown = [m for m in item["messages"] if not m["hidden"]]
    assert shown[0]["id"] == p2 and shown[0]["subject"] == "Subject p2"
    page = world.get("/reprimands", "op_pupr").text
    assert "Subject p1" not in page and "Subject p2" in page
    assert f'href="/backoffice/messages/{p1}"' not in page
    assert hidden[0]["ticket"] in page
    # Evaluators and super admins see everything.
    for username in ("eval_admin", "eval_op", "root"):
        [full] = world.get("/api/v1/reprimands", username).json()["items"]
        assert {m["subject"] for m in full["messages"]} == {"Subject p1", "Subject p2"}
        assert "Subject p1" in world.get("/reprimands", username).text
    # The acknowledgement's answer is filtered the same way.
    ack = world.api(
        "POST", f"/api/v1/reprimands/{rid}/acknowledge", "op_pupr", json={"response": "Siap"}
    )
    assert ack.status_code == 200
    assert "Subject p1" not in ack.text


# ----------------------------------------------------------------------------- report links


def test_the_reprimand_count_links_to_the_reprimands_of_the_range(world):
    assert issue(world).status_code == 201
    year = world.core.deps.clock.now().year
    pupr = world.ids["pupr"]
    html = world.get(f"/evaluator?from={year}-01-01&to={year}-12-31", "eval_op").text
    link = f"/reprimands?agency={pupr}&amp;from={year}-01-01&amp;to={year}-12-31"
    assert f'href="{link}">1</a>' in html
    inside = world.get(link.replace("&amp;", "&"), "eval_op").text
    assert "Segera tindak lanjuti" in inside
    before = world.get(
        f"/reprimands?agency={pupr}&from={year - 1}-01-01&to={year - 1}-12-31", "eval_op"
    )
    assert before.status_code == 200
    assert "Segera tindak lanjuti" not in before.text
    api = world.get(f"/api/v1/reprimands?from={year - 1}-01-01&to={year}-01-01", "eval_op")
    assert api.json()["items"] == []
    assert len(world.get("/api/v1/reprimands", "eval_op").json()["items"]) == 1
    assert world.get("/api/v1/reprimands?from=9999-01-01", "eval_op").status_code == 422


# ----------------------------------------------------------------------------- 7. the index


def test_the_trends_closed_query_uses_the_plugins_index(sqlite_database):
    migrate_evaluator(sqlite_database)
    engine = sqlite_database.engine
    seen: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "message_log.at >=" in statement:
            seen.append((statement, parameters))

    rng = DateRange(date(2026, 1, 1), date(2027, 1, 1), "Asia/Makassar")
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            build_report(conn, rng, datetime(2026, 6, 1, tzinfo=UTC))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    [(statement, parameters)] = seen
    with engine.connect() as conn:
        plan = " | ".join(
            str(row[-1])
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        )
    assert "ix_evaluator_message_log_to_status_at" in plan, plan
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "SCAN message_log" not in plan, plan


def test_reprimand_ids_at_the_limit_still_work(world):
    # 2**62 is the largest id the core accepts: not found, not refused oddly.
    answer = world.api(
        "POST", f"/api/v1/reprimands/{2**62}/acknowledge", "op_pupr", json={"response": "x"}
    )
    assert answer.status_code == 404


# ----------------------------------------------------------------------------- typed API


def test_ids_as_digit_strings_still_work_with_a_deprecation_header(world):
    """The typed body documents numbers; the old spelling (digit strings, one id
    not in a list) is still read, and says it is deprecated."""
    plain = issue(world)
    assert plain.status_code == 201, plain.text
    assert "deprecation" not in plain.headers
    assert plain.json()["agency"]["id"] == world.ids["pupr"]
    old = issue(
        world,
        agency_id=str(world.ids["pupr"]),
        message_ids=str(world.ids["p1"]),
        reason="other",
    )
    assert old.status_code == 201, old.text
    assert old.headers["deprecation"] == "true"
    assert [m["ticket"] for m in old.json()["messages"]]
    # ... and the schema says so
    schema = world.client.get("/schema/openapi.json").json()
    created = schema["paths"]["/api/v1/evaluator/reprimands"]["post"]["responses"]["201"]
    assert "Deprecation" in created["headers"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agency_id": " {pupr}"}, "agency_id"),
        ({"agency_id": "0{pupr}"}, "agency_id"),
        ({"message_ids": ["{p1} "]}, "message_ids"),
        ({"message_ids": "\uff11"}, "message_ids"),
    ],
)
def test_the_deprecated_digit_strings_are_plain_digits(world, body, field):
    """The old spelling of the ids is their digits, as in a path or a query."""
    ids = {"pupr": world.ids["pupr"], "p1": world.ids["p1"]}

    def fill(value: Any) -> Any:
        return [fill(v) for v in value] if isinstance(value, list) else value.format(**ids)

    answer = issue(world, **{k: fill(v) for k, v in body.items()})
    assert answer.status_code == 422, answer.text
    assert fields(answer) == [(field, "bad_number")]
    assert reprimand_count(world) == 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/reprimands?agency=01", "agency"),
        ("/api/v1/reprimands?limit=101", "limit"),
        ("/api/v1/evaluator/messages?overdue=yes", "overdue"),
        ("/api/v1/evaluator/report?from=2026-13-01", "from"),
    ],
)
def test_the_typed_query_parameters_are_refused_by_field(world, path, field):
    answer = world.api("GET", path, "eval_admin")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [f for f, _ in fields(answer)] == [field]


def test_the_evaluator_api_is_documented_with_its_parameters_and_bodies(world):
    schema = world.client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/reprimands", "/api/v1/evaluator/messages", "/api/v1/evaluator/report"):
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"from", "to"} <= names, (path, names)
    assert "requestBody" in paths["/api/v1/evaluator/reprimands"]["post"]
    ok = paths["/api/v1/reprimands"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] != {"type": "object"}


def _component(schema: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_the_schema_documents_every_field_of_the_report(world):
    """The report's answer is typed: every key it sends is documented, down to the
    rows, their counts and medians, and the trend's points."""
    schema = world.client.get("/schema/openapi.json").json()
    ok = schema["paths"]["/api/v1/evaluator/report"]["get"]["responses"]["200"]
    report = _component(schema, ok["content"]["application/json"]["schema"])
    props = report["properties"]
    answer = world.api("GET", "/api/v1/evaluator/report", "eval_admin").json()
    assert (
        set(props)
        == set(answer)
        == {
            "from",
            "to",
            "timezone",
            "generated_at",
            "statuses",
            "total",
            "agencies",
            "categories",
            "subcategories",
            "trend",
        }
    )
    assert set(report["required"]) == set(props)
    agency = _component(schema, props["agencies"]["items"])
    assert set(_component(schema, props["total"])["properties"]) == set(agency["properties"])
    for row in (answer["total"], *answer["agencies"]):
        assert set(row) == set(agency["properties"])
    assert set(agency["properties"]) >= {
        "median_time_to_confirm",
        "median_time_to_close",
        "rating_average",
        "rating_count",
        "reprimands",
        "completed_within_sop",
    }
    counts = _component(schema, agency["properties"]["counts"])
    assert list(counts["properties"]) == list(STATUS_BUCKETS) == answer["statuses"]
    median = _component(schema, agency["properties"]["median_time_to_confirm"])
    assert set(median["properties"]) == {"hours", "seconds", "count"}
    category = _component(schema, props["categories"]["items"])
    for row in answer["categories"]:
        assert set(row) == set(category["properties"])
    sub = _component(schema, props["subcategories"]["items"])
    assert "category_id" in sub["properties"] and "category_id" not in sub["required"]
    assert any("category_id" in row for row in answer["subcategories"])
    for row in answer["subcategories"]:
        assert set(row) <= set(sub["properties"])
    trend = _component(schema, props["trend"])
    point = _component(schema, trend["properties"]["points"]["items"])
    assert set(point["properties"]) == {"from", "to", "submitted", "closed"}
    assert answer["trend"]["points"]
    for p in answer["trend"]["points"]:
        assert set(p) == set(point["properties"])


# ------------------------------------------------- strict spelling of the query (issue 20)


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("agency=%202", "agency", "bad_id"),
        ("agency=02", "agency", "bad_id"),
        ("agency=2%20", "agency", "bad_id"),
        ("subcategory=%EF%BC%92", "subcategory", "bad_id"),
        ("category=%20none", "category", "bad_id"),
        ("status=%20done", "status", "bad_status"),
        ("overdue=yes", "overdue", "flag_invalid"),
        ("overdue=True", "overdue", "flag_invalid"),
        ("overdue=%20true", "overdue", "flag_invalid"),
        ("from=%202026-01-01", "from", "date_format"),
        ("to=2026-12-31%20", "to", "date_format"),
        ("from=%20", "from", "date_format"),
    ],
)
def test_the_drill_down_reads_its_query_as_strictly_as_the_whole_api(world, query, field, code):
    """The documented patterns hold: no spaces, no leading zero, no other digits,
    flags as every flag of the API; the page shares the parser."""
    api = world.get(f"/api/v1/evaluator/messages?{query}", "eval_admin")
    assert api.status_code == 422, api.text
    assert api.headers["content-type"].startswith("application/problem+json")
    assert fields(api) == [(field, code)]
    assert world.get(f"/evaluator/messages?{query}", "eval_admin").status_code == 422


@pytest.mark.parametrize("query", ["overdue=", "agency=", "from=&to=", "overdue=0", "agency=none"])
def test_an_empty_drill_down_parameter_is_no_filter(world, query):
    assert world.get(f"/api/v1/evaluator/messages?{query}", "eval_admin").status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/evaluator/report?from=%202026-01-01", "from"),
        ("/api/v1/evaluator/report?to=2026-12-31%20", "to"),
        ("/api/v1/reprimands?from=%202026-01-01", "from"),
        ("/api/v1/reprimands?to=%20", "to"),
        ("/api/v1/reprimands?agency=%202", "agency"),
    ],
)
def test_days_with_spaces_are_refused_by_the_report_and_the_reprimands(world, path, field):
    answer = world.get(path, "eval_admin")
    assert answer.status_code == 422, answer.text
    assert [f for f, _ in fields(answer)] == [field]


def test_the_report_reads_and_documents_only_its_range(world):
    """The report is not filtered by agency: its operation documents ``from`` and
    ``to`` only, and an ``agency`` in the query changes nothing."""
    schema = world.client.get("/schema/openapi.json").json()
    report = schema["paths"]["/api/v1/evaluator/report"]["get"]
    assert {p["name"] for p in report["parameters"] if p["in"] == "query"} == {"from", "to"}
    plain = world.get("/api/v1/evaluator/report", "eval_admin").json()
    other = world.get(f"/api/v1/evaluator/report?agency={world.ids['pupr']}", "eval_admin").json()
    assert other["agencies"] == plain["agencies"] and other["total"] == plain["total"]
