"""The embedded mode delivers mail from inside the web process; the client
address comes from the connection unless the proxy is trusted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import attrs
from litestar import Litestar, get
from litestar.testing import TestClient

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app
from aspirasi_web.context import Ctx
from aspirasi_web.plugin import AspirasiPlugin

from .smtp_sink import SmtpSink, smtp  # noqa: F401 - the fixture
from .world import make_settings


def test_the_web_process_delivers_the_outbox_itself(
    sqlite_database: Any,
    tmp_path: Path,
    smtp: SmtpSink,  # noqa: F811
) -> None:
    settings = make_settings(
        tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port, outbox_inline=True
    )
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    with TestClient(app=create_app(aspirasi=core)) as client:  # the lifespan starts the dispatcher
        r = client.post(
            "/api/v1/auth/register",
            json={
                "email": "dewi@example.org",
                "username": "dewi",
                "full_name": "Dewi",
                "nik": "6472041708450003",
                "password": "dewi-long-password",
                "password_confirm": "dewi-long-password",
            },
            headers={"Authorization": "Bearer none"},
        )
        assert r.status_code == 201, r.text
        deadline = time.monotonic() + 10
        while not smtp.to("dewi@example.org") and time.monotonic() < deadline:
            time.sleep(0.05)
    mails = smtp.to("dewi@example.org")
    assert len(mails) == 1 and "verify-email?token=" in smtp.text(mails[0])


@get("/whoami-ip", sync_to_thread=False)
def whoami_ip(ctx: Ctx) -> dict[str, str | None]:
    return {"client_ip": ctx.client_ip}


def _client_ip(
    core: Any, peer: str, trusted: tuple[str, ...], forwarded: str | None = None
) -> str | None:
    """The address the use cases get for a request from ``peer``, through the
    middleware of :class:`AspirasiPlugin` with ``trusted_proxies``."""
    core.deps.settings = attrs.evolve(core.deps.settings, trusted_proxies=trusted)
    app = Litestar(plugins=[AspirasiPlugin(core)], route_handlers=[whoami_ip])

    async def from_peer(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["client"] = (peer, 5000)
        await app(scope, receive, send)

    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    with TestClient(app=from_peer) as client:  # type: ignore[arg-type]
        answer: str | None = client.get("/whoami-ip", headers=headers).json()["client_ip"]
    return answer


def test_client_address_is_the_connection_unless_the_proxy_is_trusted(
    sqlite_database: Any, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    forwarded = "203.0.113.9, 10.0.0.5"
    # untrusted peer: its own address, whatever it claims
    assert _client_ip(core, "198.51.100.7", (), forwarded) == "198.51.100.7"
    assert _client_ip(core, "198.51.100.7", ("10.0.0.5",), forwarded) == "198.51.100.7"
    # trusted proxies: the nearest untrusted hop of X-Forwarded-For
    assert _client_ip(core, "10.0.0.6", ("10.0.0.5", "10.0.0.6"), forwarded) == "203.0.113.9"
    # a trusted network (a load balancer's range)
    assert _client_ip(core, "10.0.0.6", ("10.0.0.0/24",), forwarded) == "203.0.113.9"
    # a trusted proxy without the header
    assert _client_ip(core, "10.0.0.6", ("10.0.0.6",)) == "10.0.0.6"
