"""Faults are named, on a real server: a database that cannot be reached answers
503 with ``Retry-After`` (API and pages), ``/readyz`` says so while ``/healthz``
stays a liveness check, nothing is logged as an unknown error, and the same
process serves again once the database is back."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.tcp_proxy import (  # noqa: F401 - the fixture
    TcpProxy,
    proxied_database,
    tcp_proxy_factory,
)

from .live import LiveServer, base_env, prepare_database

ROOT = ("root@example.org", "root", "root-long-password")


def _log_events(server: LiveServer) -> list[dict[str, Any]]:
    events = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def _wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.mark.postgres
def test_unreachable_database_answers_503_and_the_same_process_recovers(
    pg_url: str,
    tmp_path: Path,
    tcp_proxy_factory: type[TcpProxy],  # noqa: F811
) -> None:
    proxy, proxied = proxied_database(tcp_proxy_factory, pg_url)
    env = base_env(proxied, tmp_path)
    prepare_database(env, superadmin=ROOT)
    proxy.stop()  # the database is away before the server even starts
    server = LiveServer(env, tmp_path / "server.log").start()
    try:
        assert server.process is not None
        pid = server.process.pid
        with server.client() as http:
            assert http.get("/readyz").status_code == 503  # started all the same
            proxy.start()
            assert _wait_for(lambda: http.get("/readyz").status_code == 200)
            login = http.post(
                "/api/v1/auth/login",
                json={"login": "root", "password": ROOT[2]},
                headers={"Authorization": "Bearer none"},  # an API client: no CSRF
            )
            assert login.status_code == 200, login.text
            bearer = {"Authorization": f"Bearer {login.json()['token']}"}
            assert http.get("/api/v1/me", headers=bearer).status_code == 200
            ready = http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["components"]["database"]["status"] == "ok"

            proxy.stop()  # the database host goes away

            me = http.get("/api/v1/me", headers=bearer)
            assert me.status_code == 503, me.text
            assert me.headers["content-type"].startswith("application/problem+json")
            assert int(me.headers["retry-after"]) >= 1
            assert me.json()["code"] == "database_unavailable"
            # A page, in the reader's language, with the same status.
            page = http.get("/messages?lang=en")
            assert page.status_code == 503
            assert "text/html" in page.headers["content-type"]
            assert "try again" in page.text.lower()
            assert "Retry-After" in page.headers
            page_id = http.get("/messages?lang=id")
            assert page_id.status_code == 503
            assert "coba lagi" in page_id.text.lower()
            not_ready = http.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["components"]["database"]["status"] == "down"
            assert "Retry-After" in not_ready.headers
            assert http.get("/healthz").status_code == 200  # the process itself is alive

            proxy.start()  # back

            def served() -> bool:
                return http.get("/api/v1/me", headers=bearer).status_code == 200

            assert _wait_for(served), "the server did not recover once the database was back"
            assert http.get("/readyz").status_code == 200
            # Every answer after recovery is a success, on every pooled connection.
            assert all(http.get("/api/v1/me", headers=bearer).status_code == 200 for _ in range(20))
        assert server.process.pid == pid and server.process.poll() is None
    finally:
        server.stop()
    events = _log_events(server)
    assert not [e for e in events if e.get("event") == "unhandled_error"]
    assert not [e for e in events if e.get("level") in ("error", "critical")]
    named = [e for e in events if e.get("event") == "service_unavailable"]
    assert named and {e["code"] for e in named} == {"database_unavailable"}
    assert not any("Traceback" in line for line in server.log().splitlines())
