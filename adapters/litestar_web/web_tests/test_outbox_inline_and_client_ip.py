"""The embedded mode delivers mail from inside the web process; the client
address comes from the connection unless the proxy is trusted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app
from aspirasi_web.middleware import _client_ip

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


def scope(peer: str) -> dict[str, Any]:
    return {"client": (peer, 5000)}


def test_client_address_is_the_connection_unless_the_proxy_is_trusted() -> None:
    forwarded = {b"x-forwarded-for": b"203.0.113.9, 10.0.0.5"}
    # untrusted peer: its own address, whatever it claims
    assert _client_ip(scope("198.51.100.7"), forwarded, frozenset()) == "198.51.100.7"
    # trusted proxy: the nearest untrusted hop of X-Forwarded-For
    trusted = frozenset({"10.0.0.5", "10.0.0.6"})
    assert _client_ip(scope("10.0.0.6"), forwarded, trusted) == "203.0.113.9"
    # garbage in the header: fall back to the connection
    assert _client_ip(scope("10.0.0.6"), {b"x-forwarded-for": b"not-an-ip"}, trusted) == "10.0.0.6"
    # a trusted proxy without the header
    assert _client_ip(scope("10.0.0.6"), {}, trusted) == "10.0.0.6"
