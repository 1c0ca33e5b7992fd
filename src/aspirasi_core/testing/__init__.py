"""``aspirasi_core.testing``: the pytest plugin for testing Aspirasi plugins
(and the core's own tests).

Installed with the core under the ``pytest11`` entry point
``aspirasi_core.testing``, so pytest loads it by itself; it only adds the
fixtures below and the ``postgres`` marker, and nothing runs unless a test asks
for a fixture. With plugin autoloading off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``),
turn it on with ``-p aspirasi_core.testing`` or
``pytest_plugins = ["aspirasi_core.testing"]`` in a ``conftest.py``.

Fixtures:

* ``world`` — a :class:`World` (async; mark the test ``pytest.mark.anyio``): the
  application on a migrated database, once on SQLite and once on PostgreSQL,
  with the :class:`Recorder`, the plugins the ``aspirasi_plugins`` fixture
  returns, a :class:`FakeClock`, two agencies, three sub-categories and an
  account of each role. ``await world.drive(Status.DONE)`` takes a new message
  through the workflow; ``world.aspirasi`` is the plugin API.
* ``aspirasi_plugins`` — the plugins of ``world``: none; override it in your test
  module or ``conftest.py`` (objects, modules, or instances of your plugin class).
* ``aspirasi_settings`` — the settings of ``world`` (:func:`make_settings`);
  override it for your plugin's own ``ASPIRASI_*`` variables (``extra=…``).
* ``clock`` — a :class:`FakeClock` at Monday 2 November 2026, 09:00 WITA.
* ``database`` (``sqlite`` and ``pg``), ``sqlite_database``, ``pg_database``,
  ``database_url``, ``sqlite_url``, ``pg_url``, ``crypto`` — see
  :mod:`aspirasi_core.testing.databases`. PostgreSQL is
  ``postgresql://postgres@127.0.0.1:5432/test`` unless ``ASPIRASI_TEST_PG_URL``
  says otherwise; when it cannot be reached its tests are skipped (failed when
  ``CI`` is set).

A plugin's first test::

    import pytest
    from aspirasi_core.domain.model import Status

    import aspirasi_hello

    pytestmark = pytest.mark.anyio


    @pytest.fixture
    def aspirasi_plugins():
        return [aspirasi_hello]


    async def test_a_closed_message_is_announced(world):
        await world.drive(Status.DONE)
        assert "MessageSubmitted" in [e.name for e in world.recorder.after]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ..settings import Settings
from .databases import _pg_server as _pg_server
from .databases import _sqlite_template as _sqlite_template
from .databases import (
    crypto,
    database,
    database_url,
    pg_database,
    pg_url,
    pytest_collection_modifyitems,
    sqlite_database,
    sqlite_url,
)
from .world import NIKS, SECRET, START, FakeClock, Recorder, World, build_world, make_settings

__all__ = [
    "NIKS",
    "SECRET",
    "START",
    "FakeClock",
    "Recorder",
    "World",
    "aspirasi_plugins",
    "aspirasi_settings",
    "build_world",
    "clock",
    "crypto",
    "database",
    "database_url",
    "make_settings",
    "pg_database",
    "pg_url",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "sqlite_database",
    "sqlite_url",
    "world",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgres: needs the PostgreSQL server at ASPIRASI_TEST_PG_URL (skipped with a"
        " reason when unreachable, fails in CI)",
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def aspirasi_plugins() -> Sequence[object]:
    """The plugins of ``world``; override it to add yours."""
    return ()


@pytest.fixture
def aspirasi_settings(tmp_path: Path) -> Settings:
    """The settings of ``world`` (:func:`make_settings`); override it to set yours
    (``make_settings(tmp_path, extra={"hello_greeting": "Halo"})``)."""
    return make_settings(tmp_path)


@pytest.fixture
async def world(
    database: Any,
    tmp_path: Path,
    clock: FakeClock,
    aspirasi_plugins: Sequence[object],
    aspirasi_settings: Settings,
) -> World:
    return await build_world(
        database, tmp_path, plugins=aspirasi_plugins, clock=clock, settings=aspirasi_settings
    )
