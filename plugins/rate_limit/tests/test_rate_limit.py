"""The rate_limit plugin chooses its counter backend (and limits nothing yet)."""

from __future__ import annotations

import pytest

import aspirasi_rate_limit as rate_limit
from aspirasi_core.plugins import create_plugin_manager, list_plugins
from aspirasi_core.settings import Settings


def manager(**env: str):
    environ = {"ASPIRASI_PLUGINS": "rate_limit", **env}
    return create_plugin_manager(Settings.from_env(environ))


def test_loaded_from_its_entry_point_and_implements_only_configure():
    [info] = [p for p in list_plugins(manager()) if p.name == "rate_limit"]
    assert info.distribution == "aspirasi-rate-limit"
    assert info.hooks == ("aspirasi_configure",)


def test_memory_counters_without_redis():
    manager()
    config = rate_limit.current_config()
    assert config is not None
    assert config.backend == "memory"
    assert config.redis_url is None


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "rediss://:pw@cache.internal:6380/1", "unix:///run/redis.sock"],
)
def test_redis_counters_with_a_redis_url(url):
    manager(ASPIRASI_REDIS_URL=url)
    config = rate_limit.current_config()
    assert config is not None
    assert (config.backend, config.redis_url) == ("redis", url)
    assert "pw@" not in repr(config)


def test_a_url_that_is_not_redis_refuses_to_start():
    with pytest.raises(ValueError, match="ASPIRASI_REDIS_URL"):
        manager(ASPIRASI_REDIS_URL="http://127.0.0.1:6379")
