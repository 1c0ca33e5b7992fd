"""The demo served by a real ``aspirasi serve`` on a new SQLite or PostgreSQL
database, and API clients logged in to it: shared by the live race, load and
crash tests."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from tests.deployment import deployment_env

from aspirasi_core.bootstrap import bootstrap, migrate
from aspirasi_core.demo import load_demo
from aspirasi_core.settings import Settings

from .live import LiveServer

PASSWORDS = {
    "superadmin": "etam-super-admin-demo",
    "admin": "etam-admin-demo",
    "operator.pupr": "etam-operator-demo",
    "warga": "etam-warga-demo",
    "warga2": "etam-warga2-demo",
}


def prepare_demo(env: dict[str, str]) -> None:
    """``aspirasi db upgrade`` and ``aspirasi demo``, in this process (two
    interpreters fewer to start): the migrated demo database the server opens."""
    settings = Settings.from_env(env)
    migrate(settings)
    app = bootstrap(settings)
    try:
        anyio.run(load_demo, app)
    finally:
        app.deps.db.dispose()


class DemoServer:
    """A running ``aspirasi serve`` and API clients logged in to it."""

    def __init__(
        self, base_url: str, database_url: str, log: Path, process: LiveServer | None = None
    ) -> None:
        self.base_url = base_url
        self.database_url = database_url
        self.log = log
        self.process = process
        self.dialect = "postgresql" if database_url.startswith("postgresql") else "sqlite"
        self._tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    def token(self, login: str) -> str:
        """A bearer token of ``login`` (logged in once, through the API)."""
        if login not in self._tokens:
            with httpx.Client(base_url=self.base_url, timeout=30) as anonymous:
                r = anonymous.post(  # no cookie: no CSRF token needed
                    "/api/v1/auth/login", json={"login": login, "password": PASSWORDS[login]}
                )
            assert r.status_code == 200, r.text
            self._tokens[login] = r.json()["token"]
        return self._tokens[login]

    def bearer(self, login: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(login)}"}

    @contextlib.contextmanager
    def client(self, login: str) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=self.base_url, headers=self.bearer(login), timeout=60) as c:
            yield c

    def events(self, name: str) -> list[dict[str, Any]]:
        """The server's JSON log lines of the event ``name``."""
        found = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("event") == name:
                    found.append(entry)
        return found

    def forward_body(self, agency: str) -> dict[str, Any]:
        return {
            "category_id": self.ids["aduan"],
            "subcategory_id": self.ids["infrastruktur"],
            "agency_id": self.ids[agency],
        }


@contextlib.contextmanager
def serve_demo(
    folder: Path, database_url: str, *, workers: int, **extra_env: str
) -> Iterator[DemoServer]:
    """The demo database prepared and served by ``aspirasi serve --workers N``
    (rate limits off: every request comes from 127.0.0.1); ``extra_env`` adds to
    the deployment's environment. The server's log must hold no traceback."""
    env = deployment_env(
        database_url,
        folder / "storage",
        ASPIRASI_DEMO="1",
        ASPIRASI_DISABLED_PLUGINS="rate_limit",
        **extra_env,
    )
    prepare_demo(env)
    process = LiveServer(env, folder / "serve.log", "--workers", str(workers))
    try:
        process.start(timeout=60)
        server = DemoServer(process.base_url, database_url, process.log_path, process)
        with server.client("superadmin") as root:
            agencies = {
                a["code"]: a["id"] for a in root.get("/api/v1/admin/agencies").json()["items"]
            }
            categories = {
                c["code"]: c["id"] for c in root.get("/api/v1/admin/categories").json()["items"]
            }
            subs = root.get("/api/v1/admin/subcategories").json()["items"]
        server.ids = {
            "pupr": agencies["pupr-pera"],
            "biro": agencies["biro-perekonomian"],
            "dishub": agencies["dishub"],
            "aduan": categories["aduan"],
            "infrastruktur": next(
                s["id"]
                for s in subs
                if s["code"] == "infrastruktur" and s["category_id"] == categories["aduan"]
            ),
        }
        yield server
    finally:
        process.stop()
    output = process.log()
    assert "Traceback" not in output, output


@contextlib.contextmanager
def new_database(request: pytest.FixtureRequest, folder: Path, backend: str) -> Iterator[str]:
    """A new, empty database: a SQLite file (``backend`` "sqlite"), or a PostgreSQL
    database ("pg") dropped after; PostgreSQL unreachable skips, or fails under CI."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'aspirasi.db'}"
        return
    server = request.getfixturevalue("_pg_server")
    server.admin()  # skips (or fails under CI) when PostgreSQL is unreachable
    name = server.create()
    try:
        yield server.url_of(name)
    finally:
        server.drop(name)


#: The backends of a live test: SQLite and PostgreSQL (marked ``postgres``).
BACKENDS = [pytest.param("sqlite"), pytest.param("pg", marks=pytest.mark.postgres)]
