"""``GET /api/v1/backoffice/directory``: the categories, sub-categories and
agencies an API client of the back office forwards with and filters by (the
super admin's ``/api/v1/admin/*`` lists stay closed to the others)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .api_support import ApiWorld, build_world

DIRECTORY = "/api/v1/backoffice/directory"


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def by_code(items: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(x for x in items if x["code"] == code)


def test_an_admin_forwards_with_the_ids_of_the_directory(api: ApiWorld) -> None:
    c = api.client
    admin = api.bearer("admin")
    # the super admin's lists are not the admin's way to them (SPEC)
    assert c.get("/api/v1/admin/agencies", headers=admin).status_code == 403
    r = c.get(DIRECTORY, headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    found = r.json()
    assert set(found) == {"categories", "agencies"}
    assert [x["code"] for x in found["categories"]] == ["aspirasi", "aduan"]
    aduan = by_code(found["categories"], "aduan")
    assert set(aduan) == {"id", "code", "name", "subcategories"}
    infra = by_code(aduan["subcategories"], "infrastruktur")
    assert infra == {
        "id": api.ids["sub_infra"],
        "code": "infrastruktur",
        "name": "Infrastruktur",
        "is_active": True,
    }
    assert by_code(found["categories"], "aspirasi")["subcategories"] == []
    assert [a["code"] for a in found["agencies"]] == ["dinkes", "pupr"]  # by name
    pupr = by_code(found["agencies"], "pupr")
    assert pupr == {
        "id": api.ids["agency_pupr"],
        "code": "pupr",
        "name": "Dinas pupr",
        "is_active": True,
    }

    # end to end: a new message forwarded with those ids, then found by them
    mid = api.seed_message(forward_to=None)
    r = c.post(
        f"/api/v1/messages/{mid}/forward",
        json={"category_id": aduan["id"], "subcategory_id": infra["id"], "agency_id": pupr["id"]},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["status"] == "forwarded", r.text
    listed = c.get(
        "/api/v1/backoffice/messages",
        params={"agency_id": pupr["id"], "category_id": aduan["id"], "subcategory_id": infra["id"]},
        headers=admin,
    ).json()
    assert [m["id"] for m in listed["items"]] == [mid]
    other = by_code(found["agencies"], "dinkes")["id"]
    listed = c.get("/api/v1/backoffice/messages", params={"agency_id": other}, headers=admin)
    assert listed.json()["items"] == []


def test_operators_and_the_super_admin_read_it_citizens_and_nobody_do_not(api: ApiWorld) -> None:
    c = api.client
    expected = c.get(DIRECTORY, headers=api.bearer("admin")).json()
    for who in ("op_pupr", "op_dinkes", "root"):
        r = c.get(DIRECTORY, headers=api.bearer(who))
        assert r.status_code == 200 and r.json() == expected, (who, r.text)
    for who in ("ani", "budi"):
        r = c.get(DIRECTORY, headers=api.bearer(who))
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert c.get(DIRECTORY).status_code == 401
    r = c.get(DIRECTORY, headers={"Authorization": "Bearer none"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"


def test_deactivated_entries_are_not_offered_unless_asked_for_and_marked(api: ApiWorld) -> None:
    c = api.client
    root = api.bearer("root")
    r = c.delete(f"/api/v1/admin/agencies/{api.ids['agency_dinkes']}", headers=root)
    assert r.status_code == 204, r.text
    r = c.delete(f"/api/v1/admin/subcategories/{api.ids['sub_infra']}", headers=root)
    assert r.status_code == 204, r.text
    op = api.bearer("op_pupr")
    found = c.get(DIRECTORY, headers=op).json()
    assert [a["code"] for a in found["agencies"]] == ["pupr"]
    # categories are never deactivated; the sub-category is no longer under its own
    assert [x["code"] for x in found["categories"]] == ["aspirasi", "aduan"]
    offered = by_code(found["categories"], "aduan")["subcategories"]
    assert offered and api.ids["sub_infra"] not in [s["id"] for s in offered]
    assert all(s["is_active"] for s in offered)

    for flag in ("false", "0"):
        assert c.get(DIRECTORY, params={"include_inactive": flag}, headers=op).json() == found
    every = c.get(DIRECTORY, params={"include_inactive": "true"}, headers=op).json()
    assert {a["code"]: a["is_active"] for a in every["agencies"]} == {
        "dinkes": False,
        "pupr": True,
    }
    subs = by_code(every["categories"], "aduan")["subcategories"]
    assert {s["id"]: s["is_active"] for s in subs} == {
        **{s["id"]: True for s in offered},
        api.ids["sub_infra"]: False,
    }

    # what is not offered, a forward refuses
    mid = api.seed_message(forward_to=None)
    r = c.post(
        f"/api/v1/messages/{mid}/forward",
        json={
            "category_id": api.ids["cat_aduan"],
            "subcategory_id": api.ids["sub_infra"],
            "agency_id": api.ids["agency_dinkes"],
        },
        headers=api.bearer("admin"),
    )
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"subcategory_id", "agency_id"}


def test_a_bad_flag_is_refused(api: ApiWorld) -> None:
    r = api.client.get(DIRECTORY, params={"include_inactive": "yes"}, headers=api.bearer("admin"))
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("include_inactive", "flag_invalid")
    ]


def test_the_schema_describes_the_operation_and_its_answer(api: ApiWorld) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    op = schema["paths"][DIRECTORY]["get"]
    assert op["summary"] and "include_inactive" in op["description"]
    assert [p["name"] for p in op["parameters"] if p["in"] == "query"] == ["include_inactive"]
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]
    shapes = schema["components"]["schemas"]
    out = shapes[answer["$ref"].rsplit("/", 1)[1]]
    assert set(out["required"]) == {"categories", "agencies"}
    category = shapes[out["properties"]["categories"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(category["required"]) == {"id", "code", "name", "subcategories"}
