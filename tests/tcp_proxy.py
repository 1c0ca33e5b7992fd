"""A TCP proxy a test can cut and restore: the database (or anything else) "goes
away" for the process under test without touching the shared server.

``stop()`` closes the listening socket and every relayed connection, so clients
see their connections drop and new ones refused, as when a database host goes
down; ``start()`` listens again on the same port. ``hang()`` keeps accepting
connections but relays nothing, like a server that stopped answering.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url


class TcpProxy:
    """Relays ``127.0.0.1:<port>`` to ``target``; see the module docstring."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._hanging = False
        #: Connections accepted so far.
        self.accepted = 0

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Listen (again) and relay."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._hanging = False
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def hang(self) -> None:
        """Cut open connections; accept new ones but never answer on them."""
        self.stop()
        self.start()
        self._hanging = True

    # ------------------------------------------------------------------ relaying
    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.accepted += 1
            with self._lock:
                self._sockets.add(client)
            if self._hanging:
                continue  # held open, never read
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.add(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def proxied_database(factory: type[TcpProxy], database_url: str) -> tuple[TcpProxy, str]:
    """A started proxy to the server of ``database_url``, and the URL through it."""
    url = make_url(database_url)
    proxy = factory((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    return proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


@pytest.fixture
def tcp_proxy_factory() -> Iterator[type[TcpProxy]]:
    """Make proxies with ``factory((host, port))``; they are stopped afterwards."""
    made: list[TcpProxy] = []

    class Factory(TcpProxy):
        def __init__(self, target: tuple[str, int]) -> None:
            super().__init__(target)
            made.append(self)

    yield Factory
    for proxy in made:
        proxy.stop()
