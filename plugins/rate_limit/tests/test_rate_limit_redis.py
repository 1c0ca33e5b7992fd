"""Counters in the real Redis (127.0.0.1:6379 unless ``ASPIRASI_TEST_REDIS_URL``).

Redis' moving window is stamped with the workers' ``time.time()``, so these tests
poll for real, short windows to slide instead of moving a fake clock. Each test has a key
prefix of its own, deleted afterwards.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from aspirasi_core.domain.errors import Throttled
from aspirasi_core.plugin_types import UseCaseCall
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.settings import Settings
from aspirasi_rate_limit import RateLimitPlugin

SECRET = "test-secret-key-" * 3


def redis_plugin(url: str, prefix: str, **limits: str) -> RateLimitPlugin:
    plugin = RateLimitPlugin()
    extra = {"rate_limit_key_prefix": prefix, **{f"rate_limit_{k}": v for k, v in limits.items()}}
    plugin.aspirasi_configure(Settings(secret_key=SECRET, redis_url=url, extra=extra))
    return plugin


def attempt(plugin: RateLimitPlugin, name: str, **call: Any) -> int | None:
    try:
        plugin.aspirasi_before_use_case(UseCaseCall(name=name, **call))
    except Throttled as exc:
        return exc.retry_after
    return None


def test_the_limit_holds_and_the_window_slides_in_redis(redis_url, redis_prefix, redis_client):
    plugin = redis_plugin(redis_url, redis_prefix, login_account="2/2seconds")
    assert plugin.config.backend == "redis"
    assert attempt(plugin, "login", subject="ani@example.org") is None
    assert attempt(plugin, "login", subject="ani@example.org") is None
    retry_after = attempt(plugin, "login", subject="ani@example.org")
    assert retry_after is not None and 1 <= retry_after <= 2
    assert attempt(plugin, "login", subject="budi@example.org") is None
    keys = [key.decode() for key in redis_client.scan_iter(match=f"{redis_prefix}:*")]
    assert len(keys) == 2
    assert not any("ani" in key or "budi" in key for key in keys)  # digests only
    # The window slides: ani is let in again (polled; a refused attempt is not
    # counted), well before a generous deadline.
    deadline = time.monotonic() + 30
    while attempt(plugin, "login", subject="ani@example.org") is not None:
        assert time.monotonic() < deadline, "the window never slid"
        time.sleep(0.05)


def test_the_resend_rule_in_redis(redis_url, redis_prefix):
    plugin = redis_plugin(redis_url, redis_prefix)  # the default 3/minute
    assert [attempt(plugin, "resend_verification", subject="7") for _ in range(3)] == [None] * 3
    retry_after = attempt(plugin, "resend_verification", subject="7")
    assert retry_after is not None and 58 <= retry_after <= 60


def test_prefixes_keep_deployments_apart(redis_url, redis_prefix):
    first = redis_plugin(redis_url, redis_prefix, track_ip="1/minute")
    second = redis_plugin(redis_url, f"{redis_prefix}:other", track_ip="1/minute")
    assert attempt(first, "track", client_ip="203.0.113.5") is None
    assert attempt(first, "track", client_ip="203.0.113.5") is not None
    assert attempt(second, "track", client_ip="203.0.113.5") is None


def _worker(url: str, prefix: str, start: Any, attempts: int, results: Any) -> None:
    """One web worker: its own plugin manager and plugin instance, the same Redis."""
    settings = Settings(
        secret_key=SECRET,
        redis_url=url,
        extra={"rate_limit_key_prefix": prefix, "rate_limit_login_account": "5/minute"},
    )
    pm = create_plugin_manager(settings, load_entry_points=False, extra_plugins=[RateLimitPlugin()])
    call = UseCaseCall(name="login", subject="ani", client_ip=None)
    allowed = refused = 0
    start.wait(timeout=20)
    for _ in range(attempts):
        try:
            pm.hook.aspirasi_before_use_case(call=call)
        except Throttled:
            refused += 1
        else:
            allowed += 1
    results.put((allowed, refused))


def test_two_worker_processes_share_one_limit(redis_url, redis_prefix):
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(redis_url, redis_prefix, start, 10, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        start.set()
        outcomes = [results.get(timeout=30) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    assert all(worker.exitcode == 0 for worker in workers)
    assert sum(allowed for allowed, _ in outcomes) == 5  # not 5 per worker
    assert sum(refused for _, refused in outcomes) == 15


def test_without_redis_each_process_would_count_alone():
    """The reason for Redis, shown: two in-memory instances let twice the limit through."""
    settings = Settings(secret_key=SECRET, extra={"rate_limit_login_account": "5/minute"})
    workers = [RateLimitPlugin(), RateLimitPlugin()]
    for plugin in workers:
        plugin.aspirasi_configure(settings)
    allowed = sum(
        attempt(plugin, "login", subject="ani") is None for plugin in workers for _ in range(10)
    )
    assert allowed == 10
