"""Who asks is Litestar's business: the authentication middleware puts the account
on ``request.user`` and its credentials on ``request.auth``, for the app's routes
and the plugins' alike; static files and health probes are served without a look-up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from litestar import Request, get
from litestar.testing import TestClient

from aspirasi_core import hookimpl
from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager, migration_locations
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.storage import upgrade
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

from .world import WebWorld, make_settings, populate


@get("/whoami", include_in_schema=False, sync_to_thread=False)
def whoami(request: Request[Any, Any, Any]) -> dict[str, Any]:
    user = request.user
    return {"user": user.username if user else None, "method": request.auth.method}


class WhoAmI:
    @hookimpl
    def aspirasi_web_route_handlers(self) -> list[Any]:
        return [whoami]


@pytest.fixture
def world(sqlite_database: Any, tmp_path: Any) -> Iterator[WebWorld]:
    settings = make_settings(tmp_path)
    pm = create_plugin_manager(settings, extra_plugins=[WhoAmI()], extra_hookspecs=[web_hookspecs])
    upgrade(sqlite_database.engine, migration_locations(pm))
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    world = WebWorld(app=create_app(aspirasi=core, run_outbox=False), core=core)
    populate(world)
    with TestClient(app=world.app, base_url="http://127.0.0.1:8000") as client:
        world.client = client
        yield world


def test_the_account_is_on_request_user_and_its_credentials_on_request_auth(
    world: WebWorld,
) -> None:
    c = world.client
    assert c.get("/whoami").json() == {"user": None, "method": None}
    world.login("ani")
    assert c.get("/whoami").json() == {"user": "ani", "method": "session"}
    token = anyio.run(
        lambda: world.core.accounts.issue_token(world.ids["budi"], TokenPurpose.API)
    ).token
    # a bearer token wins over the cookie
    r = c.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"user": "budi", "method": "bearer"}
    # an invalid one never falls back to the cookie's account
    r = c.get("/whoami", headers={"Authorization": "Bearer junk"})
    assert r.json() == {"user": None, "method": None}


def test_static_files_and_health_probes_are_served_without_a_look_up(
    world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.login("ani")
    accounts = world.core.accounts
    seen: list[str] = []
    authenticate = accounts.authenticate

    async def counting(token: str, purpose: TokenPurpose) -> Any:
        seen.append(str(purpose))
        return await authenticate(token, purpose)

    monkeypatch.setattr(accounts, "authenticate", counting)
    for path in ("/static/js/app.js", "/healthz", "/readyz"):
        r = world.client.get(path, headers={"Authorization": "Bearer junk"})
        assert r.status_code == 200, path
        assert "no-store" not in r.headers.get("cache-control", "") or path == "/readyz"
    assert seen == []
    assert world.client.get("/whoami").json()["user"] == "ani"
    assert len(seen) == 1
