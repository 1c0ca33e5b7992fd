"""Where it happened through Open311 (issue 23.2): ``lat``/``long`` and an
``address_string`` that names a place become the message's location; read back, a
request carries its district and regency, never coordinates."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from test_open311_api import BASE, _id_of, file


def _forward(world, mid):
    async def go():
        await world.core.messages.act(
            world.ctx("admin"),
            mid,
            "forward",
            category_id=world.ids["aduan"],
            subcategory_id=world.ids["jalan"],
            agency_id=world.ids["pupr"],
        )

    world.run(go)


def _stored(world, mid):
    return world.run(lambda: world.core.queries.message(world.ctx("admin"), mid)).message


def test_a_request_located_by_its_address_reads_back_no_closer_than_the_district(world):
    key = world.issue_key()
    answer = file(
        world,
        key,
        lat="-0.494823",
        long="117.143612",
        address_string="Jl. Juanda 5, Samarinda Ulu, Samarinda",
    )
    assert answer.status_code == 200, answer.text
    ticket = answer.json()[0]["service_request_id"]
    mid = _id_of(world, ticket)
    stored = _stored(world, mid)
    assert (stored.regency_code, stored.district_code) == ("64.72", "64.72.03")
    assert (stored.latitude, stored.longitude) == (-0.494823, 117.143612)
    _forward(world, mid)
    for params in ({}, {"api_key": key}):
        [read] = world.client.get(f"{BASE}/requests/{ticket}.json", params=params).json()
        assert read["address_string"] == "Samarinda Ulu, Kota Samarinda"
        assert "lat" not in read and "long" not in read
        listed = world.client.get(f"{BASE}/requests.json", params=params).text
        assert "0.494823" not in listed and "117.143612" not in listed and "Juanda" not in listed
    root = ET.fromstring(world.client.get(f"{BASE}/requests/{ticket}.xml").content)
    assert root.findtext("request/address_string") == "Samarinda Ulu, Kota Samarinda"
    assert root.find("request/lat") is None


def test_coordinates_alone_are_kept_and_an_unknown_address_sets_no_place(world):
    key = world.issue_key()
    answer = file(world, key, lat="0.1333", long="117.5", address_string="Jl. Merdeka, Jakarta")
    assert answer.status_code == 200, answer.text
    ticket = answer.json()[0]["service_request_id"]
    stored = _stored(world, _id_of(world, ticket))
    assert (stored.regency_code, stored.district_code) == (None, None)
    assert (stored.latitude, stored.longitude) == (0.1333, 117.5)
    [read] = world.client.get(f"{BASE}/requests/{ticket}.json", params={"api_key": key}).json()
    assert read["address_string"] is None
