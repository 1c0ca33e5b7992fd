"""Fixtures of the rate_limit tests.

* ``fake_time`` — one controllable clock for the core (``now()``, a datetime) and
  the plugin (``time()``, seconds); ``advance(seconds=…)`` moves both.
* ``database`` — ``sqlite_database`` of the pytest plugin ``aspirasi_core.testing``.
* ``redis_url`` — the test Redis (``ASPIRASI_TEST_REDIS_URL``, default
  ``redis://127.0.0.1:6379/0``). Unreachable: the test is skipped with the
  reason, or fails when the ``CI`` variable is set.
* ``redis_prefix`` — a key prefix of its own for the test; its keys are deleted
  afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from aspirasi_core.testing import FakeClock

SECRET = "test-secret-key-" * 3
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def fake_time() -> FakeClock:
    """The core's clock (``now()``) and the plugin's (``time()``), moved together."""
    return FakeClock()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def database(sqlite_database: Any) -> Any:
    """The use-case tests of the limits run on SQLite (the limits keep no rows)."""
    return sqlite_database


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    url = os.environ.get("ASPIRASI_TEST_REDIS_URL") or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis is unreachable at {url}: {exc} (set ASPIRASI_TEST_REDIS_URL)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def redis_prefix(redis_client: Any) -> Iterator[str]:
    prefix = f"aspirasi-test-{secrets.token_hex(6)}"
    try:
        yield prefix
    finally:
        keys = list(redis_client.scan_iter(match=f"{prefix}:*"))
        if keys:
            redis_client.delete(*keys)
