"""Fixtures of the rate_limit tests.

* ``fake_time`` — one controllable clock for the core (``now()``, a datetime) and
  the plugin (``time()``, seconds); ``advance(seconds=…)`` moves both.
* ``database`` — a migrated SQLite database (a copy of one migrated per session).
* ``redis_url`` — the test Redis (``ASPIRASI_TEST_REDIS_URL``, default
  ``redis://127.0.0.1:6379/0``). Unreachable: the test is skipped with the
  reason, or fails when the ``CI`` variable is set.
* ``redis_prefix`` — a key prefix of its own for the test; its keys are deleted
  afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aspirasi_core.security.crypto import Crypto
from aspirasi_core.storage import SqlDatabase, make_engine, upgrade

SECRET = "test-secret-key-" * 3
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeTime:
    """The core's ``Clock`` and the plugin's clock, moved together."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def time(self) -> float:
        return self.current.timestamp()

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rate-limit-db") / "aspirasi.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return path


@pytest.fixture
def database(_sqlite_template: Path, tmp_path: Path) -> Iterator[SqlDatabase]:
    target = tmp_path / "db" / "aspirasi.db"
    target.parent.mkdir(parents=True)
    shutil.copyfile(_sqlite_template, target)
    db = SqlDatabase(make_engine(f"sqlite:///{target}"), Crypto(SECRET))
    try:
        yield db
    finally:
        db.dispose()


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
