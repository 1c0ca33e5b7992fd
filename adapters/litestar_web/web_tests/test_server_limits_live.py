"""``aspirasi serve`` bounds what a slow or idle client holds: a request whose body
stops arriving is answered 408 and its connection closed; past
``limit_concurrency`` new requests are answered 503 at once, and served again once
the held connections are gone. A real server and raw sockets.

Every wait here is bounded by a generous safety limit that only a server that
never answers runs into; no test measures how long anything took. (Slow request
*headers* are the reverse proxy's to bound: docs/deployment.md.)"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from .live import LiveServer, base_env, prepare_database

ROOT = ("root@example.org", "root", "root-long-password")
#: Generous: only a server that never answers or never closes runs into it.
SAFETY = 30.0
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("limits")
    env = base_env(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        tmp_path,
        ASPIRASI_SERVE_BODY_TIMEOUT_SECONDS="1",
        ASPIRASI_SERVE_LIMIT_CONCURRENCY="4",
    )
    prepare_database(env, superadmin=ROOT)
    live = LiveServer(env, tmp_path / "server.log").start()
    yield live
    live.stop()


def _connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(SAFETY)
    return sock


def _until_closed(sock: socket.socket) -> bytes:
    """What the server sent before it closed the connection (raises TimeoutError
    when it keeps the connection open past the safety limit)."""
    received = b""
    with sock:
        while chunk := sock.recv(4096):
            received += chunk
    return received


def _request(server: LiveServer, raw: bytes) -> bytes:
    sock = _connect(server)
    sock.sendall(raw)
    return _until_closed(sock)


def test_a_body_that_stops_arriving_is_answered_408_and_closed(server: LiveServer) -> None:
    sock = _connect(server)
    sock.sendall(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer none\r\n"
        b"Accept-Language: id\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + b'{"login": '
    )
    answer = _until_closed(sock)  # keep-alive was asked for: the server closes anyway
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    assert b'"code":"body_timeout"' in body
    assert b"Permintaan tiba terlalu lambat. Silakan coba lagi." in body  # translated


def test_past_the_concurrency_limit_requests_are_refused_at_once(server: LiveServer) -> None:
    held = [_connect(server) for _ in range(4)]
    for sock in held:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
    try:
        # Each held connection counts; a complete request now is one too many.
        refused = _request(server, HEALTHZ)
        assert refused.startswith(b"HTTP/1.1 503"), refused[:200]
    finally:
        for sock in held:
            sock.close()
    # Once the server has seen them go, it serves again.
    deadline = time.monotonic() + SAFETY
    while not (served := _request(server, HEALTHZ)).startswith(b"HTTP/1.1 200"):
        assert served.startswith(b"HTTP/1.1 503"), served[:200]
        assert time.monotonic() < deadline, "still refusing after the held connections closed"
        time.sleep(0.05)
