"""Fixtures of the web tests: the real app on a migrated SQLite file (or
PostgreSQL through the shared ``database`` fixture), with one account per role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager, migration_locations
from aspirasi_core.storage import upgrade
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

from .world import WebWorld, make_settings, populate


@pytest.fixture
def web_overrides() -> dict[str, Any]:
    """Settings of the ``web`` app that differ from the tests' defaults; a test
    module overrides this fixture for its own (smaller upload limits, say)."""
    return {}


@pytest.fixture
def web(sqlite_database: Any, tmp_path: Any, web_overrides: dict[str, Any]) -> Iterator[WebWorld]:
    settings = make_settings(tmp_path, **web_overrides)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    # The plugins' own tables (evaluator), as `aspirasi db upgrade` would create them.
    upgrade(sqlite_database.engine, migration_locations(pm))
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    app = create_app(aspirasi=core, run_outbox=False)
    world = WebWorld(app=app, core=core)
    populate(world)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        world.client = client
        yield world
