"""The rate_limit plugin on its own: loading, settings, and the hook with a fake clock."""

from __future__ import annotations

import sys
import threading

import pytest
from limits.storage import RedisStorage
from structlog.testing import capture_logs

from aspirasi_core.domain.errors import Throttled
from aspirasi_core.plugin_types import UseCaseCall
from aspirasi_core.plugins import create_plugin_manager, list_plugins
from aspirasi_core.settings import Settings
from aspirasi_rate_limit import (
    RULES,
    ClockedMemoryStorage,
    RateLimitPlugin,
    client_network,
)

DEFAULTS = {
    "resend_verification_account": "3 per 1 minute",
    "login_ip": "30 per 5 minute",
    "login_account": "5 per 5 minute",
    "login_device": "5 per 5 minute",
    "register_ip": "10 per 1 hour",
    "register_email": "5 per 1 hour",
    "forgot_password_ip": "10 per 1 hour",
    "forgot_password_email": "3 per 1 hour",
    "reset_password_ip": "10 per 1 hour",
    "change_password_account": "5 per 5 minute",
    "track_ip": "10 per 10 minute; 40 per 1 hour; 200 per 1 day",
    "track_nik_prefix": "30 per 1 day",
    "submit_account": "20 per 1 day",
    "delete_account_account": "5 per 5 minute",
    "export_data_account": "5 per 1 hour",
}


def manager(**env: str):
    environ = {"ASPIRASI_PLUGINS": "rate_limit", **env}
    return create_plugin_manager(Settings.from_env(environ))


def configured(fake_time=None, **extra: str) -> RateLimitPlugin:
    plugin = RateLimitPlugin(clock=fake_time.time if fake_time else None)
    plugin.aspirasi_configure(Settings(extra=extra))
    return plugin


def outcome(plugin: RateLimitPlugin, name: str, **call) -> int | None:
    """None when the call is let through, else its ``retry_after``."""
    try:
        plugin.aspirasi_before_use_case(UseCaseCall(name=name, **call))
    except Throttled as exc:
        return exc.retry_after
    return None


def outcomes(plugin: RateLimitPlugin, name: str, times: int, **call) -> list[int | None]:
    return [outcome(plugin, name, **call) for _ in range(times)]


# --------------------------------------------------------------------------- loading


def test_loaded_from_its_entry_point_as_a_class():
    pm = manager()
    [info] = [p for p in list_plugins(pm) if p.name == "rate_limit"]
    assert info.distribution == "aspirasi-rate-limit"
    assert info.module == "aspirasi_rate_limit.RateLimitPlugin"
    assert info.hooks == ("aspirasi_before_use_case", "aspirasi_configure", "aspirasi_readiness")
    assert isinstance(pm.get_plugin("rate_limit"), RateLimitPlugin)


def test_each_plugin_manager_gets_its_own_counters():
    first, second = manager(), manager()
    assert first.get_plugin("rate_limit") is not second.get_plugin("rate_limit")
    call = UseCaseCall(name="resend_verification", subject="7")
    for _ in range(3):
        first.hook.aspirasi_before_use_case(call=call)
    with pytest.raises(Throttled):
        first.hook.aspirasi_before_use_case(call=call)
    second.hook.aspirasi_before_use_case(call=call)  # counts on its own


def test_disabled_plugin_limits_nothing():
    pm = manager(ASPIRASI_DISABLED_PLUGINS="rate_limit")
    assert pm.get_plugin("rate_limit") is None
    for _ in range(50):
        pm.hook.aspirasi_before_use_case(
            call=UseCaseCall(name="login", subject="ani", client_ip="203.0.113.5")
        )


# --------------------------------------------------------------------------- settings


def test_defaults():
    plugin = manager().get_plugin("rate_limit")
    config = plugin.config
    assert config.backend == "memory" and config.redis_url is None
    assert config.key_prefix == "aspirasi-rate-limit"
    assert config.describe() == DEFAULTS
    assert isinstance(plugin.storage, ClockedMemoryStorage)
    assert {rule.name for rule in RULES} == set(DEFAULTS)


def test_every_limit_is_a_variable_and_is_documented():
    import aspirasi_rate_limit

    doc = aspirasi_rate_limit.__doc__
    for rule in RULES:
        assert rule.variable == f"ASPIRASI_RATE_LIMIT_{rule.name.upper()}"
        assert f"``{rule.variable}`` (default ``{rule.default}``)" in doc
    assert "ASPIRASI_RATE_LIMIT_KEY_PREFIX" in doc
    assert "ASPIRASI_REDIS_URL" in doc


def test_limits_are_read_from_the_environment():
    pm = manager(
        ASPIRASI_RATE_LIMIT_LOGIN_ACCOUNT="5/5minutes;20/hour",
        ASPIRASI_RATE_LIMIT_TRACK_IP="off",
        ASPIRASI_RATE_LIMIT_SUBMIT_ACCOUNT=" 2 per day ",
        ASPIRASI_RATE_LIMIT_KEY_PREFIX="kaltim",
    )
    config = pm.get_plugin("rate_limit").config
    described = config.describe()
    assert described["login_account"] == "5 per 5 minute; 20 per 1 hour"
    assert described["track_ip"] == "off"
    assert described["submit_account"] == "2 per 1 day"
    assert config.key_prefix == "kaltim"


@pytest.mark.parametrize("value", ["five per minute", "5/fortnight", "5", "0/minute", ""])
def test_a_value_that_is_not_a_limit_refuses_to_start(value):
    with pytest.raises(ValueError, match="ASPIRASI_RATE_LIMIT_LOGIN_ACCOUNT"):
        manager(ASPIRASI_RATE_LIMIT_LOGIN_ACCOUNT=value)


def test_a_misspelt_variable_refuses_to_start():
    with pytest.raises(ValueError, match="ASPIRASI_RATE_LIMIT_LOGIN_ACOUNT") as info:
        manager(ASPIRASI_RATE_LIMIT_LOGIN_ACOUNT="5/minute")
    assert "ASPIRASI_RATE_LIMIT_LOGIN_ACCOUNT" in str(info.value)  # the known ones are listed


def test_an_empty_key_prefix_refuses_to_start():
    with pytest.raises(ValueError, match="ASPIRASI_RATE_LIMIT_KEY_PREFIX"):
        manager(ASPIRASI_RATE_LIMIT_KEY_PREFIX=" ")


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "rediss://:pw@cache.internal:6380/1", "unix:///run/redis.sock"],
)
def test_redis_counters_with_a_redis_url(url):
    plugin = manager(ASPIRASI_REDIS_URL=url).get_plugin("rate_limit")
    config = plugin.config
    assert (config.backend, config.redis_url) == ("redis", url)
    assert "pw@" not in repr(config)
    assert isinstance(plugin.storage, RedisStorage)
    assert plugin.storage.key_prefix == "aspirasi-rate-limit"


def test_a_url_that_is_not_redis_refuses_to_start():
    with pytest.raises(ValueError, match="ASPIRASI_REDIS_URL"):
        manager(ASPIRASI_REDIS_URL="http://127.0.0.1:6379")


def test_unreachable_redis_counts_in_memory_and_is_not_asked_again():
    # Port 1 refuses at once: the first attempt finds Redis down, the limit goes on
    # in this worker's memory, and no later attempt asks Redis.
    plugin = RateLimitPlugin()
    plugin.aspirasi_configure(
        Settings(redis_url="redis://127.0.0.1:1/0", extra={"rate_limit_login_account": "1/hour"})
    )
    plugin.breaker.interval = 3600  # the background check stays out of the way
    with capture_logs() as logs:
        results = outcomes(plugin, "login", 3, subject="ani")
    assert results[0] is None and all(r is not None and r > 3500 for r in results[1:])
    failures = [entry for entry in logs if entry["event"] == "rate_limit_redis_down"]
    assert len(failures) == 1 and failures[0]["error"] == "ConnectionError"
    assert not plugin.breaker.up and plugin.breaker.counted_in_memory == 3
    [status] = plugin.aspirasi_readiness()
    assert (status.name, status.ok, status.essential) == ("redis", False, False)
    assert status.detail["counting"] == "per-worker memory" and status.detail["outages"] == 1


def test_not_configured_is_an_error():
    with pytest.raises(RuntimeError, match="not configured"):
        RateLimitPlugin().aspirasi_before_use_case(UseCaseCall(name="login", subject="ani"))


# --------------------------------------------------------------------------- the hook


def test_resend_three_in_a_row_then_refused_for_at_most_60_seconds(fake_time):
    plugin = configured(fake_time)
    assert outcomes(plugin, "resend_verification", 3, subject="7") == [None] * 3
    assert outcome(plugin, "resend_verification", subject="7") == 60
    fake_time.advance(seconds=59)
    assert outcome(plugin, "resend_verification", subject="7") == 1  # never 0
    fake_time.advance(seconds=1)
    assert outcome(plugin, "resend_verification", subject="7") is None


def test_the_window_slides(fake_time):
    plugin = configured(fake_time)
    for _ in range(3):  # at 0 s, 10 s, 20 s
        assert outcome(plugin, "resend_verification", subject="7") is None
        fake_time.advance(seconds=10)
    assert outcome(plugin, "resend_verification", subject="7") == 30  # at 30 s
    fake_time.advance(seconds=30)
    assert outcome(plugin, "resend_verification", subject="7") is None  # the 0 s one left
    assert outcome(plugin, "resend_verification", subject="7") == 10  # the 10 s one leaves next


def test_retry_after_is_rounded_up(fake_time):
    plugin = configured(fake_time)
    outcomes(plugin, "resend_verification", 3, subject="7")
    fake_time.advance(seconds=0.4)
    assert outcome(plugin, "resend_verification", subject="7") == 60  # 59.6 → 60
    fake_time.advance(seconds=59.2)
    assert outcome(plugin, "resend_verification", subject="7") == 1  # 0.4 → 1


def test_refused_attempts_do_not_count(fake_time):
    plugin = configured(fake_time)
    outcomes(plugin, "resend_verification", 3, subject="7")
    for _ in range(20):
        fake_time.advance(seconds=2)
        assert outcome(plugin, "resend_verification", subject="7") is not None
    fake_time.advance(seconds=20)  # 60 s after the three that counted
    assert outcome(plugin, "resend_verification", subject="7") is None


def test_subjects_and_use_cases_count_apart(fake_time):
    plugin = configured(fake_time)
    outcomes(plugin, "resend_verification", 3, subject="7")
    assert outcome(plugin, "resend_verification", subject="7") is not None
    assert outcome(plugin, "resend_verification", subject="8") is None
    assert outcome(plugin, "change_password", subject="7") is None
    assert outcome(plugin, "verify_email", subject="7") is None  # not limited at all


def test_several_limits_in_one_setting_all_apply(fake_time):
    plugin = configured(fake_time, rate_limit_login_account="2/minute;3/hour")
    assert outcomes(plugin, "login", 3, subject="ani") == [None, None, 60]
    fake_time.advance(minutes=1)
    assert outcomes(plugin, "login", 2, subject="ani") == [None, 3540]  # the hour is used up
    fake_time.advance(seconds=3540)
    assert outcome(plugin, "login", subject="ani") is None


def test_a_limit_turned_off(fake_time):
    plugin = configured(fake_time, rate_limit_track_ip="off")
    assert outcomes(plugin, "track", 100, client_ip="203.0.113.5") == [None] * 100


def test_per_ip_limits_are_skipped_without_an_address(fake_time):
    plugin = configured(fake_time)
    assert outcomes(plugin, "track", 40) == [None] * 40
    assert outcomes(plugin, "track", 31, client_ip="203.0.113.5")[-1] is not None


def test_a_refused_ip_does_not_use_up_the_accounts_budget(fake_time):
    plugin = configured(fake_time, rate_limit_login_ip="3/minute")
    assert outcomes(plugin, "login", 3, subject="ani", client_ip="203.0.113.5") == [None] * 3
    # The address is refused; ani's own budget (5, 3 used) is untouched by these.
    assert outcomes(plugin, "login", 10, subject="ani", client_ip="203.0.113.5") == [60] * 10
    assert outcomes(plugin, "login", 2, subject="ani", client_ip="198.51.100.7") == [None] * 2
    assert outcome(plugin, "login", subject="ani", client_ip="198.51.100.7") == 300


def test_ipv6_addresses_count_per_64_network(fake_time):
    plugin = configured(fake_time, rate_limit_track_ip="2/minute")
    assert outcome(plugin, "track", client_ip="2001:db8:1:2::1") is None
    assert outcome(plugin, "track", client_ip="2001:db8:1:2:ffff::9") is None
    assert outcome(plugin, "track", client_ip="2001:db8:1:2::77") == 60
    assert outcome(plugin, "track", client_ip="2001:db8:1:3::1") is None  # another /64


def test_client_network():
    assert client_network("203.0.113.5") == "203.0.113.5"
    assert client_network("::ffff:203.0.113.5") == "203.0.113.5"
    assert client_network("2001:DB8::1") == "2001:db8::/64"
    assert client_network("fe80::1%eth0") == "fe80::/64"
    assert client_network(" Not-An-IP ") == "not-an-ip"


def test_subjects_are_compared_without_case(fake_time):
    plugin = configured(fake_time, rate_limit_forgot_password_email="1/hour")
    assert outcome(plugin, "forgot_password", subject="Ani@Example.org") is None
    assert outcome(plugin, "forgot_password", subject="ani@example.org") == 3600


def test_keys_hold_no_personal_data(fake_time):
    plugin = configured(fake_time)
    plugin.aspirasi_before_use_case(
        UseCaseCall(name="login", subject="ani@example.org", client_ip="203.0.113.5")
    )
    keys = plugin.storage.keys()
    assert len(keys) == 2
    assert not any("ani" in key or "203.0.113" in key for key in keys)


def test_keys_depend_on_the_secret_key(fake_time):
    def keys(secret: str) -> list[str]:
        plugin = RateLimitPlugin(clock=fake_time.time)
        plugin.aspirasi_configure(Settings(secret_key=secret))
        plugin.aspirasi_before_use_case(UseCaseCall(name="login", subject="ani"))
        return plugin.storage.keys()

    assert keys("a" * 40) == keys("a" * 40)
    assert keys("a" * 40) != keys("b" * 40)


# --------------------------------------------------------------------------- memory storage


def test_memory_storage_forgets_expired_keys(fake_time):
    storage = ClockedMemoryStorage(fake_time.time)
    assert storage.acquire_entry("a", 2, 60)
    assert storage.acquire_entry("a", 2, 60)
    assert not storage.acquire_entry("a", 2, 60)
    assert storage.get_moving_window("a", 2, 60) == (fake_time.time(), 2)
    fake_time.advance(seconds=61)
    assert storage.acquire_entry("b", 2, 60)  # sweeps "a"
    assert storage.keys() == ["b"]
    assert not storage.acquire_entry("b", 1, 60, amount=2)
    storage.clear("b")
    assert storage.reset() == 0
    assert storage.check()


def _hammer(plugin: RateLimitPlugin, threads: int, calls: int) -> list[int | None]:
    """``threads`` threads (as the core's worker threads call the hook) making
    ``calls`` log-in attempts each for one account, all at once; with the
    interpreter switching threads as often as it can, so a read-modify-write that
    is not atomic loses updates."""
    start = threading.Barrier(threads)
    results: list[int | None] = []
    guard = threading.Lock()

    def work() -> None:
        start.wait(30)
        mine = [outcome(plugin, "login", subject="ani") for _ in range(calls)]
        with guard:
            results.extend(mine)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
    finally:
        sys.setswitchinterval(interval)
    assert len(results) == threads * calls, "a thread did not finish"
    return results


def test_memory_counters_hold_under_concurrent_calls():
    plugin = configured(rate_limit_login_account="50/hour")
    results = _hammer(plugin, threads=8, calls=100)
    assert sum(r is None for r in results) == 50  # never one more, never one less


def test_the_fallback_counts_every_call_under_concurrent_calls():
    # Redis down (port 1 refuses at once): every call counts in this worker's
    # memory, and the breaker's count of them loses none.
    plugin = RateLimitPlugin()
    plugin.aspirasi_configure(
        Settings(redis_url="redis://127.0.0.1:1/0", extra={"rate_limit_login_account": "50/hour"})
    )
    plugin.breaker.interval = 3600  # the background check stays out of the way
    results = _hammer(plugin, threads=8, calls=500)
    assert sum(r is None for r in results) == 50
    assert plugin.breaker.counted_in_memory == 8 * 500


def test_redis_is_imported_only_for_a_redis_store():
    """redis-py is ~12 MB of every worker's memory (docs/performance.md, Worker
    memory on SQLite): a fresh interpreter loads the plugin without it, and the
    Redis store brings it along."""
    import subprocess
    import sys

    code = (
        "import sys, aspirasi_rate_limit, aspirasi_rate_limit.breaker as b\n"
        "assert 'redis' not in sys.modules, 'imported with the plugin'\n"
        "b.redis_storage('redis://127.0.0.1:1/0', 'x')\n"
        "assert 'redis' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
