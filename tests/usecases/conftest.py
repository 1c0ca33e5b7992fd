"""Fixtures of the use-case tests (see world.py)."""

from __future__ import annotations

from typing import Any

import pytest

from .world import World, build_world


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def world(database: Any, tmp_path: Any) -> World:
    return await build_world(database, tmp_path)
