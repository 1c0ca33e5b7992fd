"""Fixtures of the open311 tests (helpers in ``open311_support.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from open311_support import World, build, populate


@pytest.fixture
def world(sqlite_database: Any, tmp_path: Any) -> Iterator[World]:
    app, core = build(sqlite_database, tmp_path)
    w = World(core=core)
    populate(w)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        yield w


@pytest.fixture
def pg_world(pg_database: Any, tmp_path: Any) -> Iterator[World]:
    """The same world on PostgreSQL (skipped when the server is out of reach)."""
    app, core = build(pg_database, tmp_path)
    w = World(core=core)
    populate(w)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        yield w
