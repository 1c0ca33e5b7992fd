"""A GeoReport v2 client from PyPI against the running app: ``georeport``
(https://pypi.org/project/georeport/) lists the services, reads a service's
definition, and follows a request's status in JSON and in XML.

``georeport`` 0.3.1 has no call to file a request (nor does any other Open311
client on PyPI that installs on Python 3: ``open311`` 1.1 and ``three`` 0.8 are
Python 2 only), so the request is posted as the specification describes, a form
with ``api_key``, over plain ``httpx``. The app runs in uvicorn on a socket the
test binds first (connections queue until the server accepts them: no polling).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from georeport import GeoReport
from open311_support import World, build, populate

from aspirasi_core.plugin_api import PluginContext
from aspirasi_open311.keys import KeyService


@pytest.fixture
def served(sqlite_database: Any, tmp_path: Any) -> Iterator[tuple[World, str, str]]:
    app, core = build(sqlite_database, tmp_path)
    world = World(core=core)
    populate(world)

    async def issue() -> str:
        root = core.deps.db.run_sync(lambda uow: uow.accounts.get(world.ids["root"]), write=False)
        kota = core.deps.db.run_sync(lambda uow: uow.accounts.get(world.ids["kota"]), write=False)
        _, raw = await KeyService(PluginContext.of(core)).issue(root.actor(), "Klien", kota, "")
        return raw

    key = anyio.run(issue)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield world, f"http://127.0.0.1:{port}/open311/v2", key
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_georeport_client_lists_posts_and_follows_a_request(served, fmt):
    world, root, key = served
    client = GeoReport(root, api_key=key, output_format=fmt)
    services = client.get_service_list()
    jalan = next(s for s in services if s["service_name"] == "Jalan rusak")
    assert jalan["group"] == "Aduan"
    assert jalan["service_code"] == str(world.ids["jalan"])
    definition = client.get_service_definition(jalan["service_code"])
    assert definition["service_code"] == jalan["service_code"]

    posted = httpx.post(
        f"{root}/requests.{fmt}",
        data={
            "api_key": key,
            "service_code": jalan["service_code"],
            "description": "Jembatan retak.",
        },
    )
    assert posted.status_code == 200
    if fmt == "json":
        ticket, token = posted.json()[0]["service_request_id"], posted.json()[0]["token"]
    else:
        assert b"<service_requests><request><service_request_id>" in posted.content
        ticket = posted.text.split("<service_request_id>")[1].split("<")[0]
        token = posted.text.split("<token>")[1].split("<")[0]
    assert httpx.get(f"{root}/tokens/{token}.json").json()[0]["service_request_id"] == ticket

    async def forward() -> int:
        message_id = next(
            m.id
            for m in (await world.core.queries.my_messages(world.ctx("kota"))).items
            if m.ticket == ticket
        )
        await world.core.messages.act(
            world.ctx("admin"),
            message_id,
            "forward",
            category_id=world.ids["aduan"],
            subcategory_id=world.ids["jalan"],
            agency_id=world.ids["pupr"],
        )
        return message_id

    message_id = anyio.run(forward)
    one = client.get_service_request(ticket)
    assert one["service_request_id"] == ticket
    assert one["status"] == "open"
    assert one["agency_responsible"] == "Dinas PUPR"
    listed = client.get_service_requests(service_request_id=ticket)
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one element
    assert [r["service_request_id"] for r in listed] == [ticket]

    async def close() -> None:
        octx = world.ctx("op_pupr")
        await world.core.messages.act(octx, message_id, "start")
        await world.core.messages.act(octx, message_id, "reply", answer="Sudah diperbaiki.")

    anyio.run(close)
    closed = client.get_service_request(ticket)
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "Selesai"
    open_ones = client.get_service_requests(status="open")
    open_ones = open_ones if isinstance(open_ones, list) else [open_ones]
    assert ticket not in {r["service_request_id"] for r in open_ones}
