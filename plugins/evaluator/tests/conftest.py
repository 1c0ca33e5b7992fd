"""Fixtures of the evaluator tests (helpers in ``evaluator_support.py``).

* ``world`` — the real web app (every installed plugin) on SQLite with the
  plugin's tables, two agencies, staff, evaluators, a citizen and messages,
  some of them overdue (see ``evaluator_support.populate``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from evaluator_support import World, build, migrate_evaluator, populate
from litestar.testing import TestClient


@pytest.fixture
def world(sqlite_database: Any, tmp_path: Any) -> Iterator[World]:
    migrate_evaluator(sqlite_database)
    app, core = build(sqlite_database, tmp_path)
    w = World(core=core)
    populate(w)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        w.client = client
        yield w
