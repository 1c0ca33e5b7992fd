"""Where it happened (issue 23.2) on the web: the JSON API, the citizen's form,
the staff's pages and filters, and what the public sees (never coordinates)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .api_support import ApiWorld, build_world

PROBLEM = "application/problem+json"
LOCATED = {
    "subject": "Jalan rusak di Jl. Juanda",
    "body": "Berlubang besar.",
    "regency": "64.72",
    "district": "64.72.03",
    "latitude": "-0.494823",
    "longitude": "117.143612",
}


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def forward(api: ApiWorld, mid: int) -> None:
    r = api.client.post(
        f"/api/v1/messages/{mid}/forward",
        json={
            "category_id": api.ids["cat_aduan"],
            "subcategory_id": api.ids["sub_infra"],
            "agency_id": api.ids["agency_pupr"],
        },
        headers=api.bearer("admin"),
    )
    assert r.status_code == 200, r.text


def test_the_api_takes_a_location_and_only_the_staff_read_its_coordinates(api: ApiWorld) -> None:
    c = api.client
    ani = api.bearer("ani")
    r = c.post("/api/v1/messages", data=LOCATED, headers=ani)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    own = c.get(f"/api/v1/messages/{mid}", headers=ani).json()
    assert (own["regency_code"], own["district_code"]) == ("64.72", "64.72.03")
    assert "latitude" not in own and "longitude" not in own
    staff = c.get(f"/api/v1/messages/{mid}", headers=api.bearer("admin")).json()
    assert (staff["latitude"], staff["longitude"]) == (-0.494823, 117.143612)
    forward(api, mid)
    operator = c.get(f"/api/v1/messages/{mid}", headers=api.bearer("op_pupr")).json()
    assert operator["latitude"] == -0.494823
    public = c.get("/api/v1/public/messages").json()["items"]
    assert [(p["regency_code"], p["district_code"]) for p in public] == [("64.72", "64.72.03")]
    for text in (c.get("/api/v1/public/messages").text, c.get("/messages").text):
        assert "0.494823" not in text and "117.143612" not in text and "latitude" not in text
    assert "Samarinda Ulu, Kota Samarinda" in c.get("/messages").text
    # JSON bodies take numbers.
    r = c.post(
        "/api/v1/messages",
        json={"subject": "Banjir", "body": "Air naik.", "latitude": 0.13, "longitude": 117.49},
        headers=ani,
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"regency": "64.72", "district": "64.71.01"}, "district", "district_not_in_regency"),
        ({"regency": "99.01"}, "regency", "regency_unknown"),
        ({"district": "64.72.03"}, "regency", "regency_required"),
        ({"latitude": "-0.5"}, "longitude", "coordinates_incomplete"),
        ({"latitude": "1e3", "longitude": "117"}, "latitude", "coordinate_invalid"),
        ({"latitude": "-91", "longitude": "117"}, "latitude", "coordinate_range"),
    ],
)
def test_a_wrong_location_answers_422_naming_the_field(
    api: ApiWorld, fields: dict[str, str], field: str, code: str
) -> None:
    r = api.client.post(
        "/api/v1/messages",
        json={"subject": "Jalan rusak", "body": "Berlubang.", **fields},
        headers=api.bearer("ani"),
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in r.json()["errors"]
    ]


def test_the_regions_are_public(api: ApiWorld) -> None:
    r = api.client.get("/api/v1/regions")
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 10 and sum(len(i["districts"]) for i in items) == 105
    samarinda = next(i for i in items if i["code"] == "64.72")
    assert {"code": "64.72.06", "name": "Sungai Kunjang"} in samarinda["districts"]


def test_the_staff_lists_filter_by_regency(api: ApiWorld) -> None:
    c = api.client
    ani = api.bearer("ani")
    ids = {}
    for regency in ("64.72", "64.74"):
        r = c.post(
            "/api/v1/messages",
            json={"subject": f"Di {regency}", "body": "Isi.", "regency": regency},
            headers=ani,
        )
        ids[regency] = r.json()["id"]
    admin = api.bearer("admin")
    listed = c.get("/api/v1/backoffice/messages?regency=64.74", headers=admin).json()
    assert [m["id"] for m in listed["items"]] == [ids["64.74"]]
    assert listed["items"][0]["regency_code"] == "64.74"
    bad = c.get("/api/v1/backoffice/messages?regency=nowhere", headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "regency_unknown"
    api.login("admin")
    page = c.get("/backoffice/messages?regency=64.72")
    assert page.status_code == 200
    assert "Di 64.72" in page.text and "Di 64.74" not in page.text
    assert '<option value="64.72" selected>Kota Samarinda</option>' in page.text
    wrong = c.get("/backoffice/messages?regency=nowhere")
    assert wrong.status_code == 422 and 'aria-describedby="e-regency"' in wrong.text


def test_the_form_takes_a_location_and_is_shown_again_with_its_errors(api: ApiWorld) -> None:
    c = api.client
    api.login("ani")
    form = c.get("/my/messages/new")
    assert "geolocation=(self)" in form.headers["permissions-policy"]
    assert '<optgroup label="Kota Samarinda" data-regency-code="64.72">' in form.text
    assert "/static/js/location.js" in form.text
    # Elsewhere no page may ask for the location.
    assert "geolocation=()" in c.get("/my/messages").headers["permissions-policy"]
    bad = c.post(
        "/my/messages/new",
        data={**LOCATED, "district": "64.71.01", "longitude": "", "_csrf_token": api.csrf()},
        follow_redirects=False,
    )
    assert bad.status_code == 422
    assert 'aria-describedby="e-district"' in bad.text
    assert "Kecamatan ini tidak berada di kabupaten/kota yang dipilih." in bad.text
    assert "Isi lintang dan bujur sekaligus, atau kosongkan keduanya." in bad.text
    assert '<option value="64.72" selected>Kota Samarinda</option>' in bad.text
    assert 'value="-0.494823"' in bad.text
    sent = c.post(
        "/my/messages/new", data={**LOCATED, "_csrf_token": api.csrf()}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    page = c.get(sent.headers["location"])
    assert "Samarinda Ulu, Kota Samarinda" in page.text and "117.143612" not in page.text
    mid = int(sent.headers["location"].rsplit("/", 1)[1])
    api.login("admin")
    detail = c.get(f"/backoffice/messages/{mid}")
    assert "Samarinda Ulu, Kota Samarinda" in detail.text
    assert "-0.494823, 117.143612" in detail.text
