"""Fixtures of the use-case tests: ``world`` and the rest come from the pytest
plugin ``aspirasi_core.testing`` (see world.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
