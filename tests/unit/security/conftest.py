"""Fixtures of the security unit tests."""

from __future__ import annotations

import pytest

from aspirasi_core.security.passwords import PasswordHasher


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    # Small costs keep the tests fast; the production defaults are checked separately.
    return PasswordHasher(time_cost=1, memory_kib=1024)
