"""The GeoReport v2 endpoints against the specification's examples
(https://wiki.open311.org/GeoReport_v2): the documents' shapes in JSON and XML,
the filters, filing, tokens and the error format."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

BASE = "/open311/v2"


def xml(answer):
    assert answer.headers["content-type"].startswith("text/xml"), answer.headers
    return ET.fromstring(answer.content)


def file(world, key, **fields):
    data = {
        "api_key": key,
        "service_code": str(world.ids["jalan"]),
        "description": "Lampu jalan mati.",
    }
    data.update(fields)
    return world.client.post(f"{BASE}/requests.json", data=data)


# ----------------------------------------------------------------------------- discovery, services


def test_discovery_names_the_specification_and_both_formats(world):
    doc = world.client.get(f"{BASE}/discovery.json").json()
    assert set(doc) >= {"changeset", "contact", "key_service", "endpoints"}
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "https://aspirasi.example.org/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(world.client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats")]
    assert formats == ["text/xml", "application/json"]


def test_services_are_the_active_subcategories(world):
    answer = world.client.get(f"{BASE}/services.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    services = {s["service_code"]: s for s in answer.json()}
    jalan = services[str(world.ids["jalan"])]
    assert jalan == {
        "service_code": str(world.ids["jalan"]),
        "service_name": "Jalan rusak",
        "description": "Aduan: Jalan rusak",
        "metadata": False,
        "type": "realtime",
        "keywords": "aduan, jalan",
        "group": "Aduan",
    }
    # The specification's XML: <services><service><service_code>…
    root = xml(world.client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    one = next(
        s for s in root.findall("service") if s.findtext("service_code") == jalan["service_code"]
    )
    assert [child.tag for child in one] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert one.findtext("metadata") == "false"
    assert one.findtext("group") == "Aduan"


def test_a_service_definition_has_no_attributes(world):
    code = str(world.ids["jalan"])
    assert world.client.get(f"{BASE}/services/{code}.json").json() == {
        "service_code": code,
        "attributes": [],
    }
    root = xml(world.client.get(f"{BASE}/services/{code}.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == code
    assert len(root.find("attributes")) == 0


@pytest.mark.parametrize("code", ["999999", "abc", "1" * 40, "-1", "%C2%B2", "%EF%BC%91"])
def test_an_unknown_service_is_404_in_the_error_format(world, code):
    answer = world.client.get(f"{BASE}/services/{code}.json")
    assert answer.status_code == 404
    [error] = answer.json()
    assert error["code"] == 404 and error["description"]
    root = xml(world.client.get(f"{BASE}/services/{code}.xml"))
    assert root.tag == "errors" and root.findtext("error/code") == "404"


# ----------------------------------------------------------------------------- reading requests


def test_requests_show_the_public_messages_with_the_specification_fields(world):
    answer = world.client.get(f"{BASE}/requests.json")
    assert answer.status_code == 200
    by_id = {r["service_request_id"]: r for r in answer.json()}
    assert set(by_id) == {world.tickets[n] for n in ("public", "started", "done")}
    public = by_id[world.tickets["public"]]
    assert public["status"] == "open"
    assert public["status_notes"] == "Belum dikonfirmasi"
    assert public["agency_responsible"] == "Dinas PUPR"
    assert public["service_code"] == str(world.ids["jalan"])
    assert public["service_name"] == "Jalan rusak"
    assert public["title"] == "Laporan public"
    # Times with the province's offset (Asia/Makassar: +08:00).
    requested = datetime.fromisoformat(public["requested_datetime"])
    assert public["requested_datetime"].endswith("+08:00")
    assert requested.utcoffset() == timedelta(hours=8)
    assert public["updated_datetime"].endswith("+08:00")
    assert public["expected_datetime"].endswith("+08:00")
    done = by_id[world.tickets["done"]]
    assert done["status"] == "closed"
    assert done["status_notes"] == "Selesai"
    assert done["expected_datetime"] is None
    assert by_id[world.tickets["started"]]["status"] == "open"


def test_status_notes_follow_the_language(world):
    answer = world.client.get(f"{BASE}/requests/{world.tickets['done']}.json?lang=en")
    assert answer.json()[0]["status_notes"] == "Done"


def test_requests_in_xml_are_service_requests_of_request_elements(world):
    root = xml(world.client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    ids = {r.findtext("service_request_id") for r in root.findall("request")}
    assert world.tickets["public"] in ids
    one = next(
        r
        for r in root.findall("request")
        if r.findtext("service_request_id") == world.tickets["public"]
    )
    assert one.findtext("status") == "open"
    assert one.findtext("agency_responsible") == "Dinas PUPR"


def test_filters_status_service_code_and_ids(world):
    def get(query):
        return {
            r["service_request_id"]
            for r in world.client.get(f"{BASE}/requests.json?{query}").json()
        }

    assert get("status=closed") == {world.tickets["done"]}
    assert get("status=open") == {world.tickets["public"], world.tickets["started"]}
    assert get("status=open,closed") == get("")
    assert get(f"service_code={world.ids['jalan']}") == get("")
    assert get("service_code=999999") == set()
    # Codes are strings to the clients: only the spelling this server writes matches
    # ("²" crashed int(), "１" and "01" were read as 1).
    for loose in ("%C2%B2", "%EF%BC%91", f"0{world.ids['jalan']}"):
        assert get(f"service_code={loose}") == set(), loose
    # A list of ids overrides every other filter; hidden ones stay hidden.
    wanted = ",".join(world.tickets[n] for n in ("public", "done", "confidential", "anonymous"))
    assert get(f"service_request_id={wanted}&status=open") == {
        world.tickets["public"],
        world.tickets["done"],
    }


def test_date_filters_and_the_90_day_span(world):
    now = world.core.deps.clock.now()
    start = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = world.client.get(
        f"{BASE}/requests.json", params={"start_date": start, "end_date": end}
    )
    assert len(answer.json()) == 3
    later = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        world.client.get(
            f"{BASE}/requests.json", params={"start_date": end, "end_date": later}
        ).json()
        == []
    )
    too_long = world.client.get(
        f"{BASE}/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert too_long.status_code == 400
    assert too_long.json()[0]["description"].startswith("end_date: ")


@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "start_date=9999-12-31",
        "end_date=0001-01-01T00:00:00",
        "start_date=2026-01-01T00:00:00%2B99:00",
        "end_date=2026-13-01",
        "status=pending",
        "start_date=2026-02-01&end_date=2026-01-01",
        "start_date=" + "9" * 100,
        "service_request_id=" + ",".join(["X"] * 101),
        "api_key=not-a-key",
    ],
)
def test_bad_queries_are_errors_in_the_format_never_500(world, query):
    answer = world.client.get(f"{BASE}/requests.json?{query}")
    assert answer.status_code in (400, 403), answer.text
    [error] = answer.json()
    assert error["code"] == answer.status_code
    root = xml(world.client.get(f"{BASE}/requests.xml?{query}"))
    assert root.tag == "errors"
    assert root.findtext("error/code") == str(answer.status_code)


def test_one_request_and_the_hidden_ones_are_not_found(world):
    answer = world.client.get(f"{BASE}/requests/{world.tickets['public']}.json")
    assert answer.status_code == 200
    assert [r["service_request_id"] for r in answer.json()] == [world.tickets["public"]]
    root = xml(world.client.get(f"{BASE}/requests/{world.tickets['public']}.xml"))
    assert root.findtext("request/service_request_id") == world.tickets["public"]
    for name in ("confidential", "anonymous", "fresh", "withdrawn", "rejected"):
        hidden = world.client.get(f"{BASE}/requests/{world.tickets[name]}.json")
        assert hidden.status_code == 404, name
        assert hidden.json()[0]["code"] == 404


def test_a_path_without_a_format_is_not_found(world):
    assert world.client.get(f"{BASE}/requests/{world.tickets['public']}").status_code == 404
    assert world.client.get(f"{BASE}/services/{world.ids['jalan']}.html").status_code == 404


# ----------------------------------------------------------------------------- filing


def test_post_requests_files_a_message_as_the_keys_account(world):
    key = world.issue_key()
    answer = file(
        world,
        key,
        lat="-0.5022",
        long="117.1536",
        address_string="Jl. Gajah Mada 1",
        email="warga@example.org",
        first_name="Budi",
        last_name="Santoso",
        phone="08111111111",
    )
    assert answer.status_code == 200, answer.text
    [created] = answer.json()
    ticket, token = created["service_request_id"], created["token"]
    assert created["service_notice"]
    assert "account_id" in created
    message = world.run(
        lambda: world.core.queries.message(world.ctx("kota"), _id_of(world, ticket))
    )
    assert message.message.author_id == world.ids["kota"]
    assert not message.message.anonymous and not message.message.confidential
    assert message.message.subject == "Jalan rusak: Lampu jalan mati."
    assert message.message.body == "Lampu jalan mati."
    # The token names the request; the client reads its own request before it is public.
    by_token = world.client.get(f"{BASE}/tokens/{token}.json").json()
    assert by_token == [{"service_request_id": ticket, "token": token}]
    root = xml(world.client.get(f"{BASE}/tokens/{token}.xml"))
    assert root.findtext("request/service_request_id") == ticket
    assert root.findtext("request/token") == token
    assert world.client.get(f"{BASE}/requests/{ticket}.json").status_code == 404
    own = world.client.get(f"{BASE}/requests/{ticket}.json", params={"api_key": key}).json()
    assert own[0]["status"] == "open" and own[0]["status_notes"] == "Terkirim"
    assert own[0]["service_code"] == str(world.ids["jalan"])
    # Nothing of the reporter was kept, nothing of the location is shown.
    text = world.client.get(f"{BASE}/requests.json", params={"api_key": key}).text
    for value in ("warga@example.org", "Budi", "Santoso", "08111111111", "117.1536", "Gajah Mada"):
        assert value not in text


def _id_of(world, ticket):
    from sqlalchemy import select

    from aspirasi_core.storage.tables import messages

    return world.core.deps.db.run_sync(
        lambda uow: uow.execute(
            select(messages.c.id).where(messages.c.ticket == ticket)
        ).scalar_one(),
        write=False,
    )


def test_post_requests_in_xml(world):
    key = world.issue_key()
    answer = world.client.post(
        f"{BASE}/requests.xml",
        data={"api_key": key, "service_code": str(world.ids["jalan"]), "description": "Got rusak."},
    )
    assert answer.status_code == 200
    root = xml(answer)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id")
    assert root.findtext("request/token")


def test_a_media_upload_becomes_the_messages_attachment(world):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 80, 40)).save(buffer, "JPEG")
    key = world.issue_key()
    answer = world.client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": key,
            "service_code": str(world.ids["jalan"]),
            "description": "Foto terlampir.",
        },
        files={"media": ("foto.jpg", buffer.getvalue(), "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    ticket = answer.json()[0]["service_request_id"]
    detail = world.run(lambda: world.core.queries.message(world.ctx("kota"), _id_of(world, ticket)))
    assert [a.content_type for a in detail.message.attachments] == ["image/jpeg"]
    # A file the core refuses is an error in the format, and files nothing.
    refused = world.client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": key,
            "service_code": str(world.ids["jalan"]),
            "description": "Bukan foto.",
        },
        files={"media": ("x.exe", b"MZ not an image", "application/octet-stream")},
    )
    assert refused.status_code == 400
    assert refused.json()[0]["description"].startswith("attachment: ")


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"api_key": ""}, 400, "api_key"),
        ({"api_key": "o311_wrong"}, 403, None),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "999999"}, 400, "service_code"),
        ({"service_code": "x" * 50}, 400, "service_code"),
        ({"service_code": "\u00b2"}, 400, "service_code"),  # a digit to isdigit, not to int
        ({"service_code": "\uff11"}, 400, "service_code"),
        ({"description": ""}, 400, "description"),
        ({"description": "x" * 6000}, 400, "description"),
        ({"lat": "91", "long": "0"}, 400, "lat"),
        ({"lat": "nan", "long": "1"}, 400, "lat"),
        ({"lat": "1"}, 400, "lat"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"address_string": "a\x00b"}, 400, "address_string"),
    ],
)
def test_bad_posts_are_errors_and_write_nothing(world, fields, status, field):
    key = world.issue_key()
    fields = {k: (key if k == "api_key" and v == "KEY" else v) for k, v in fields.items()}
    before = world.client.get(f"{BASE}/requests.json", params={"api_key": key}).json()
    answer = file(world, key, **fields)
    assert answer.status_code == status, answer.text
    errors = answer.json()
    assert all(e["code"] == status for e in errors)
    if field:
        assert any(e["description"].startswith(f"{field}: ") for e in errors)
    assert world.client.get(f"{BASE}/requests.json", params={"api_key": key}).json() == before


def test_a_revoked_key_is_refused(world):
    key = world.issue_key()
    assert file(world, key).status_code == 200
    world.login("root")
    page = world.client.get("/admin/open311")
    import re

    [key_id] = re.findall(r"/admin/open311/keys/(\d+)/revoke", page.text)
    revoked = world.client.post(
        f"/admin/open311/keys/{key_id}/revoke",
        data={"_csrf_token": world.csrf()},
        follow_redirects=False,
    )
    assert revoked.status_code in (302, 303)
    world.client.cookies.clear()
    answer = file(world, key)
    assert answer.status_code == 403
    assert answer.json()[0]["code"] == 403


def test_each_key_has_its_own_rate_limit(world):
    slow = world.issue_key("Lambat", rate_limit="2/hour")
    other = world.issue_key("Lain", rate_limit="100/hour")
    ok = [
        world.client.get(f"{BASE}/requests.json", params={"api_key": slow}).status_code
        for _ in range(2)
    ]
    assert ok == [200, 200]
    refused = world.client.get(f"{BASE}/requests.json", params={"api_key": slow})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()[0]["code"] == 429
    assert world.client.get(f"{BASE}/requests.json", params={"api_key": other}).status_code == 200
    # Without a key the public reads are not this key's.
    assert world.client.get(f"{BASE}/requests.json").status_code == 200


def test_filing_is_authenticated_by_the_key_not_a_cookie(world):
    """Open311 clients post plain forms without a CSRF token; the api_key, never
    a session, authenticates them, even when a browser's session cookie comes along."""
    key = world.issue_key()
    world.login("ani")
    assert world.client.cookies.get("aspirasi_session")
    answer = file(world, key)
    assert answer.status_code == 200, answer.text
    ticket = answer.json()[0]["service_request_id"]
    detail = world.run(lambda: world.core.queries.message(world.ctx("kota"), _id_of(world, ticket)))
    assert detail.message.author_id == world.ids["kota"]  # the key's account, not ani
    without_key = world.client.post(f"{BASE}/requests.json", data={"description": "x"})
    assert without_key.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "nothing.json",
        "other/a/b.xml",
        "services.html",
        # Below the parametrised paths (Litestar's router does not fall back).
        "requests/x/y/z.json",
        "requests/0%2F.xml",
        "services/a/b.json",
        "tokens/t/u.xml",
    ],
)
def test_an_unknown_path_is_404_in_the_format(world, path):
    answer = world.client.get(f"{BASE}/{path}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].count("charset") == 1
    assert (
        answer.text.startswith("<?xml")
        if path.endswith(".xml")
        else answer.json()[0]["code"] == 404
    )
