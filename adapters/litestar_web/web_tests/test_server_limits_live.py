"""``aspirasi serve`` bounds what a slow or idle client holds: a connection that
sends nothing, half its headers, or 10 bytes of a 1,000-byte body is dropped
after the configured timeout; a slow but steady upload is not; past
``limit_concurrency`` new requests are answered 503 at once. A real server and
raw sockets."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from .live import LiveServer, base_env, prepare_database

ROOT = ("root@example.org", "root", "root-long-password")
#: Generous: only a server that never drops the connection runs into it.
SAFETY = 15.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("limits")
    env = base_env(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        tmp_path,
        ASPIRASI_SERVE_HEADER_TIMEOUT_SECONDS="1",
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


def _dropped(sock: socket.socket) -> bytes:
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
    return _dropped(sock)


def test_a_body_that_stops_arriving_is_dropped(server: LiveServer) -> None:
    sock = _connect(server)
    sock.sendall(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer none\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + b'{"login": '
    )
    assert _dropped(sock) == b""  # closed, nothing answered


def test_half_sent_headers_and_silent_connections_are_dropped(server: LiveServer) -> None:
    half = _connect(server)
    half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    silent = _connect(server)
    assert _dropped(half) == b""
    assert _dropped(silent) == b""


def test_a_slow_but_steady_upload_goes_through(server: LiveServer) -> None:
    body = b'{"login": "root", "password": "' + ROOT[2].encode() + b'"}'
    sock = _connect(server)
    sock.sendall(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer none\r\n"
        b"Connection: close\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    for start in range(0, len(body), 10):  # about three seconds in all, never 1 s silent
        sock.sendall(body[start : start + 10])
        time.sleep(0.4)
    answer = _dropped(sock)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_past_the_concurrency_limit_requests_are_refused_at_once(server: LiveServer) -> None:
    held = [_connect(server) for _ in range(4)]
    for sock in held:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
    try:
        # Each held connection counts; a complete request now is one too many.
        refused = _request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert refused.startswith(b"HTTP/1.1 503"), refused[:200]
    finally:
        for sock in held:
            assert _dropped(sock) == b""  # and the header timeout frees them
    served = _request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert served.startswith(b"HTTP/1.1 200"), served[:200]
