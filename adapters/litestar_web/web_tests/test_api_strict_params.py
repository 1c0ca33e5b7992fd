"""Issue 20: numbers, flags and days in the JSON API's queries and bodies are
spelled one way only. Flags: ``true``/``1``/``false``/``0`` exactly, empty the
same as absent, for every flag (the list page, which shares the back-office
filter, submits its form's empty fields). Days: exactly ``YYYY-MM-DD`` — the
pages' date inputs send nothing else, so they refuse a padded day too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from aspirasi_web.api.common import FLAG_RULE

from .api_support import ApiWorld, build_world


@pytest.fixture
def sw(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path, disabled_plugins=("rate_limit",))


def problems(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return [(e["field"], e["code"]) for e in answer.json()["errors"]]


#: Every yes/no query parameter of the API, with a user allowed to read its list.
FLAGS = [
    ("/api/v1/backoffice/messages", "overdue", "admin"),
    ("/api/v1/notifications", "unread", "admin"),
    ("/api/v1/reviews", "closed", "admin"),
]
BAD_FLAGS = ["yes", "no", "on", "True", "TRUE", "%20true", "1%20", "t", "2", "%EF%BC%91"]


@pytest.mark.parametrize(("path", "name", "user"), FLAGS)
def test_every_flag_refuses_any_other_spelling(
    sw: ApiWorld, path: str, name: str, user: str
) -> None:
    headers = sw.bearer(user)
    for value in BAD_FLAGS:
        answer = sw.client.get(f"{path}?{name}={value}", headers=headers)
        assert problems(answer) == [(name, "flag_invalid")], value
    for value in ("true", "1", "false", "0", ""):  # empty: as if absent
        answer = sw.client.get(f"{path}?{name}={value}", headers=headers)
        assert answer.status_code == 200, (value, answer.text)


def test_an_empty_flag_means_no_like_an_absent_one(sw: ApiWorld) -> None:
    sw.seed_message()
    headers = sw.bearer("admin")
    url = "/api/v1/backoffice/messages"
    everything = sw.client.get(url, headers=headers).json()["items"]
    assert everything
    assert sw.client.get(f"{url}?overdue=", headers=headers).json()["items"] == everything
    assert sw.client.get(f"{url}?overdue=true", headers=headers).json()["items"] == []


def test_every_flag_documents_the_same_rule(sw: ApiWorld) -> None:
    schema = sw.client.get("/schema/openapi.json").json()
    flags = [
        (path, p["name"], p.get("description"))
        for path, item in schema["paths"].items()
        for op in item.values()
        if isinstance(op, dict)
        for p in op.get("parameters", [])
        if p.get("in") == "query" and p.get("schema", {}).get("type") == "boolean"
    ]
    assert {(path, name) for path, name, _ in flags} >= {(p, n) for p, n, _ in FLAGS}
    assert {d for _, _, d in flags} == {FLAG_RULE}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=%202026-12-01", "date_from"),
        ("date_to=2026-12-01%20", "date_to"),
        ("date_from=%092026-12-01", "date_from"),
        ("date_from=20261201", "date_from"),
        ("date_to=%EF%BC%92026-12-01", "date_to"),
    ],
)
def test_a_day_is_exactly_yyyy_mm_dd_on_the_list_and_its_page(
    sw: ApiWorld, query: str, field: str
) -> None:
    api = sw.client.get(f"/api/v1/backoffice/messages?{query}", headers=sw.bearer("admin"))
    assert problems(api) == [(field, "date_format")]
    sw.login("admin")
    assert sw.client.get(f"/backoffice/messages?{query}").status_code == 422


def test_the_list_page_reads_its_empty_form_fields_as_no_filter(sw: ApiWorld) -> None:
    sw.seed_message()
    sw.login("admin")
    empty = "status=&agency=&category=&subcategory=&date_from=&date_to=&q=&overdue=&sort="
    page = sw.client.get(f"/backoffice/messages?{empty}")
    assert page.status_code == 200
    assert "Jalan rusak" in page.text
    assert sw.client.get("/backoffice/messages?overdue=1&date_from=2020-01-01").status_code == 200


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("date_from=%202026-12-01", "date_from", "date_format"),
        ("date_to=2026-12-01%20", "date_to", "date_format"),
        ("subject_account_id=05", "subject_account_id", "bad_number"),
        ("subject_account_id=%205", "subject_account_id", "bad_number"),
        ("message_id=1%20", "message_id", "bad_number"),
    ],
)
def test_the_audit_log_reads_its_ids_and_days_strictly(
    sw: ApiWorld, query: str, field: str, code: str
) -> None:
    answer = sw.client.get(f"/api/v1/admin/audit?{query}", headers=sw.bearer("root"))
    assert problems(answer) == [(field, code)]


def test_the_audit_log_documents_its_ids_and_days(sw: ApiWorld) -> None:
    schema = sw.client.get("/schema/openapi.json").json()
    params = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/admin/audit"]["get"]["parameters"]
    }
    assert params["subject_account_id"]["type"] == params["message_id"]["type"] == "integer"
    assert params["date_from"]["format"] == params["date_to"]["format"] == "date"


@pytest.mark.parametrize(
    "day", [" 2027-01-02", "2027-01-02 ", "20270102", "2027-W01-6", "2027-1-2", "０２027-01-02"]
)
def test_a_day_off_is_exactly_yyyy_mm_dd(sw: ApiWorld, day: str) -> None:
    answer = sw.client.post(
        "/api/v1/admin/days-off", json={"day": day, "name": "Cuti"}, headers=sw.bearer("root")
    )
    assert problems(answer) == [("day", "bad_date")]
    sw.login("root")
    page = sw.client.post(
        "/admin/days-off", data={"day": day, "name": "Cuti", "_csrf_token": sw.csrf()}
    )
    assert page.status_code == 422
    listed = sw.client.get("/api/v1/admin/days-off?year=2027", headers=sw.bearer("root")).json()
    assert listed["items"] == []


def test_a_day_off_outside_the_calendar_years_is_refused(sw: ApiWorld) -> None:
    answer = sw.client.post(
        "/api/v1/admin/days-off",
        json={"day": "0001-01-01", "name": "Cuti"},
        headers=sw.bearer("root"),
    )
    assert problems(answer) == [("day", "date_range")]


@pytest.mark.parametrize("year", ["%202027", "2027%20", "+2027", "02027", "%EF%BC%92027"])
def test_the_year_of_the_days_off_is_plain_digits(sw: ApiWorld, year: str) -> None:
    answer = sw.client.get(f"/api/v1/admin/days-off?year={year}", headers=sw.bearer("root"))
    assert problems(answer) == [("year", "bad_year")]
    sw.login("root")
    assert sw.client.get(f"/admin/days-off?year={year}").status_code == 422


def test_the_year_of_the_days_off_is_documented_as_an_integer(sw: ApiWorld) -> None:
    schema = sw.client.get("/schema/openapi.json").json()
    parameters = schema["paths"]["/api/v1/admin/days-off"]["get"]["parameters"]
    (year,) = [p for p in parameters if p["in"] == "query"]
    assert year["name"] == "year"
    assert year["schema"]["type"] == "integer"
    assert (year["schema"]["minimum"], year["schema"]["maximum"]) == (1901, 2199)


def test_every_id_in_a_query_is_documented_as_an_integer(sw: ApiWorld) -> None:
    """What query_int reads is documented as what it takes (schemathesis and client
    generators send integers, not the free strings a loose reader would take)."""
    schema = sw.client.get("/schema/openapi.json").json()
    ids = {
        (path, p["name"]): p["schema"].get("type")
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/")
        for op in item.values()
        if isinstance(op, dict)
        for p in op.get("parameters", [])
        if p.get("in") == "query" and p["name"].endswith("_id")
    }
    assert ("/api/v1/admin/users", "agency_id") in ids
    assert ("/api/v1/admin/subcategories", "category_id") in ids
    assert {k for k, kind in ids.items() if kind != "integer"} == set()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/admin/users?agency_id=%201", "agency_id"),
        ("/api/v1/admin/subcategories?category_id=01", "category_id"),
    ],
)
def test_the_admin_lists_read_their_ids_strictly(sw: ApiWorld, path: str, field: str) -> None:
    answer = sw.client.get(path, headers=sw.bearer("root"))
    assert problems(answer) == [(field, "bad_number")]


@pytest.mark.parametrize("days", [" 3", "3 ", "03", "+3", "1_0", "\u0663", "\uff13", " "])
def test_sop_days_sent_as_text_are_plain_digits(sw: ApiWorld, days: str) -> None:
    """The deprecated text spelling of the SOP days is the number's digits, nothing
    else; the sub-category's page still forgives spaces around a typed number."""
    url = f"/api/v1/admin/subcategories/{sw.ids['sub_infra']}"
    answer = sw.client.patch(url, json={"sop_confirm_days": days}, headers=sw.bearer("root"))
    assert problems(answer) == [("sop_confirm_days", "bad_sop_days")]
    sw.login("root")
    page = sw.client.post(
        f"/admin/subcategories/{sw.ids['sub_infra']}",
        data={"name": "Infrastruktur", "sop_confirm_days": " 4 ", "_csrf_token": sw.csrf()},
        follow_redirects=False,
    )
    assert page.status_code == 303
    listed = sw.client.get("/api/v1/admin/subcategories", headers=sw.bearer("root")).json()
    assert {s["id"]: s["sop_confirm_days"] for s in listed["items"]}[sw.ids["sub_infra"]] == 4


@pytest.mark.parametrize("flag", [1, 0, "yes", " true", "2"])
def test_a_json_flag_is_a_json_boolean(sw: ApiWorld, flag: Any) -> None:
    """msgspec's lax conversion took 1 for a bool: a JSON body's flags are true or
    false (the field is named, translated, nothing changes)."""
    url = f"/api/v1/admin/agencies/{sw.ids['agency_pupr']}"
    answer = sw.client.patch(url, json={"is_active": flag}, headers=sw.bearer("root"))
    assert problems(answer) == [("is_active", "flag_invalid")]
    sent = sw.client.post(
        "/api/v1/messages",
        json={"subject": "Jalan", "body": "Rusak.", "confidential": flag},
        headers=sw.bearer("ani"),
    )
    assert problems(sent) == [("confidential", "flag_invalid")]
    ok = sw.client.patch(url, json={"is_active": True}, headers=sw.bearer("root"))
    assert ok.status_code == 200, ok.text
    assert "deprecation" not in ok.headers


@pytest.mark.parametrize("flag", ["true", "TRUE", "1", "false", "0"])
def test_the_old_flag_words_are_still_read_and_deprecated(sw: ApiWorld, flag: str) -> None:
    """Before the bodies were typed the API took flag words in JSON: for one release
    they are still read, and the answer says ``Deprecation: true``."""
    url = f"/api/v1/admin/agencies/{sw.ids['agency_pupr']}"
    answer = sw.client.patch(url, json={"is_active": flag}, headers=sw.bearer("root"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["is_active"] is (flag.lower() in ("true", "1"))
    assert answer.headers["deprecation"] == "true"
    sent = sw.client.post(
        "/api/v1/messages",
        json={"subject": "Jalan", "body": "Rusak.", "confidential": flag},
        headers=sw.bearer("ani"),
    )
    assert sent.status_code == 201 and sent.headers["deprecation"] == "true", sent.text


@pytest.mark.parametrize("number", ["5.0", 5.0, " 5", "05", "+5"])
def test_a_json_id_is_a_json_integer(sw: ApiWorld, number: Any) -> None:
    message_id = sw.seed_message(forward_to=None)
    answer = sw.client.post(
        f"/api/v1/messages/{message_id}/forward",
        json={
            "category_id": sw.ids["cat_aduan"],
            "subcategory_id": sw.ids["sub_infra"],
            "agency_id": number,
        },
        headers=sw.bearer("admin"),
    )
    assert problems(answer) == [("agency_id", "bad_number")]


def test_old_digit_strings_are_still_read_and_deprecated(sw: ApiWorld) -> None:
    """Ids and stars sent as digit strings (what the API read before its bodies were
    typed) work for one release, with ``Deprecation: true``; the schema says so."""
    message_id = sw.seed_message(forward_to=None)
    answer = sw.client.post(
        f"/api/v1/messages/{message_id}/forward",
        json={
            "category_id": str(sw.ids["cat_aduan"]),
            "subcategory_id": str(sw.ids["sub_infra"]),
            "agency_id": str(sw.ids["agency_pupr"]),
        },
        headers=sw.bearer("admin"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "forwarded"
    assert answer.headers["deprecation"] == "true"
    schema = sw.client.get("/schema/openapi.json").json()
    done = schema["paths"]["/api/v1/messages/{message_id}/forward"]["post"]["responses"]["200"]
    assert "Deprecation" in done["headers"]


def test_the_form_operations_read_json_by_the_same_media_types_as_the_others(sw: ApiWorld) -> None:
    """``application/…+json`` is JSON to every operation: the JSON spelling of a
    form operation too, not a multipart body that cannot be read."""
    body = json.dumps({"subject": "Jalan", "body": "Rusak."})
    for media in ("application/json; charset=utf-8", "application/problem+json"):
        sent = sw.client.post(
            "/api/v1/messages",
            content=body,
            headers={**sw.bearer("ani"), "Content-Type": media},
        )
        assert sent.status_code == 201, (media, sent.text)
