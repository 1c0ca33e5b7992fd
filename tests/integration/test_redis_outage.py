"""Redis down or hung: the rate limits go on in each worker's memory instead of
stopping, the outage is logged once and shown on the readiness probe, requests
stop asking Redis, and a background check brings the counters back to Redis.
The real Redis, behind a proxy that can hang (accept and never answer)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator

import pytest
import redis
from structlog.testing import capture_logs
from tests.tcp_proxy import TcpProxy, tcp_proxy_factory  # noqa: F401 - the fixture

from aspirasi_core.domain.errors import Throttled
from aspirasi_core.plugin_types import UseCaseCall
from aspirasi_core.settings import Settings
from aspirasi_rate_limit import RateLimitPlugin

REDIS_URL = os.environ.get("ASPIRASI_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def real_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is unreachable at {REDIS_URL}: {exc}")
    yield client
    client.close()


def _attempt(plugin: RateLimitPlugin) -> int | None:
    try:
        plugin.aspirasi_before_use_case(UseCaseCall(name="login", subject="ani"))
    except Throttled as exc:
        return exc.retry_after
    return None


def test_a_hung_redis_is_left_alone_and_limits_go_on_in_memory(
    real_redis: redis.Redis,
    tcp_proxy_factory: type[TcpProxy],  # noqa: F811
) -> None:
    pool = real_redis.connection_pool.connection_kwargs
    proxy = tcp_proxy_factory((pool.get("host", "127.0.0.1"), pool.get("port", 6379)))
    proxy.hang()  # Redis accepts connections and never answers
    prefix = f"aspirasi-test-{secrets.token_hex(6)}"
    plugin = RateLimitPlugin()
    plugin.aspirasi_configure(
        Settings(
            secret_key="test-secret-key-" * 3,
            redis_url=f"redis://127.0.0.1:{proxy.port}/{pool.get('db', 0)}",
            extra={"rate_limit_key_prefix": prefix, "rate_limit_login_account": "3/minute"},
        )
    )
    breaker = plugin.breaker
    assert breaker is not None
    breaker.interval = 3600  # checked when the test says so
    try:
        with capture_logs() as logs:
            results = [_attempt(plugin) for _ in range(6)]
        # The limit holds, counted in this worker's memory: three pass, then refused.
        assert results[:3] == [None, None, None]
        assert all(r is not None and 0 < r <= 60 for r in results[3:]), results
        # Only the first attempt went to Redis (one connection, never answered).
        assert proxy.accepted == 1
        down = [e for e in logs if e["event"] == "rate_limit_redis_down"]
        assert len(down) == 1 and down[0]["log_level"] == "warning"
        [status] = plugin.aspirasi_readiness() or []
        assert (status.name, status.ok, status.essential) == ("redis", False, False)
        assert status.detail == {
            "used_for": "rate limits",
            "counting": "per-worker memory",
            "outages": 1,
            "counted_in_memory": 6,
        }

        proxy.stop()
        proxy.start()  # Redis answers again
        with capture_logs() as logs:
            breaker.check_now()
            deadline = time.monotonic() + 10
            while not breaker.up:
                assert time.monotonic() < deadline, "the background check did not find Redis"
                time.sleep(0.05)
        back = [e for e in logs if e["event"] == "rate_limit_redis_back"]
        assert len(back) == 1 and back[0]["counted_in_memory"] == 6
        assert not list(real_redis.scan_iter(match=f"{prefix}:*"))
        assert _attempt(plugin) is None  # counted in Redis again (a fresh window there)
        assert len(list(real_redis.scan_iter(match=f"{prefix}:*"))) == 1
        [status] = plugin.aspirasi_readiness() or []
        assert status.ok and status.detail["counting"] == "redis"
    finally:
        for key in real_redis.scan_iter(match=f"{prefix}:*"):
            real_redis.delete(key)
