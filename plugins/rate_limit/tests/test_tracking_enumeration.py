"""How long walking NIKs through public tracking takes under the default limits
(issue 18: more than 30 days for 9,999 NIKs from one address).

Measured, not assumed: the real plugin with its default limits and a fake clock,
against a caller who asks as fast as it is let and, when refused, waits exactly
the ``Retry-After`` it was given. The clock moves only while the caller waits, so
the answer is the shortest time the limits allow, and the test checks it against
the arithmetic of the configured limits."""

from __future__ import annotations

from collections.abc import Iterator

from aspirasi_core.domain.errors import Throttled
from aspirasi_core.plugin_types import UseCaseCall
from aspirasi_core.services.queries import NIK_PREFIX
from aspirasi_core.settings import Settings
from aspirasi_rate_limit import RateLimitPlugin

DAY = 86400.0
#: The serial numbers of a NIK whose region and birth date are known.
SERIALS = 9999
PREFIX = "647204550491"  # Samarinda, a woman born 15 April 1991


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


def walk(
    plugin: RateLimitPlugin, clock: Clock, prefixes: Iterator[str], addresses: Iterator[str]
) -> tuple[float, int]:
    """(seconds, refusals) until :data:`SERIALS` look-ups went through."""
    start, refused = clock.now, 0
    for _ in range(SERIALS):
        prefix, address = next(prefixes), next(addresses)
        while True:
            call = UseCaseCall(name="track", client_ip=address, subject=prefix)
            try:
                plugin.aspirasi_before_use_case(call)
                break
            except Throttled as exc:
                refused += 1
                clock.now += exc.retry_after
    return clock.now - start, refused


def defaults(clock: Clock, **extra: str) -> RateLimitPlugin:
    plugin = RateLimitPlugin(clock=clock.time)
    plugin.aspirasi_configure(Settings(extra=extra))
    return plugin


def same(value: str) -> Iterator[str]:
    while True:
        yield value


def numbered(template: str) -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield template.format(n)


def test_the_prefix_is_the_region_and_the_birth_date() -> None:
    assert NIK_PREFIX == 12 and len(PREFIX) == NIK_PREFIX


def test_walking_the_serial_numbers_of_one_prefix_from_one_address_takes_333_days() -> None:
    clock = Clock()
    seconds, refused = walk(defaults(clock), clock, same(PREFIX), same("203.0.113.7"))
    # 30 a day per prefix (ASPIRASI_RATE_LIMIT_TRACK_NIK_PREFIX): the last of 9,999
    # goes through on day floor(9,998 / 30) = 333, within the 20 minutes its
    # address needs for 30 look-ups at 10 per 10 minutes.
    assert 333 * DAY <= seconds < 333 * DAY + 20 * 60
    assert seconds / DAY > 30
    assert refused < 2 * SERIALS / 10


def test_many_addresses_walk_one_prefix_no_faster() -> None:
    clock = Clock()
    seconds, _ = walk(defaults(clock), clock, same(PREFIX), numbered("198.51.{}.9"))
    assert 333 * DAY <= seconds < 333 * DAY + 60


def test_one_address_looking_up_any_nik_takes_49_days() -> None:
    # Different prefixes each time: only the per-address limits hold it back
    # (ASPIRASI_RATE_LIMIT_TRACK_IP: 10 per 10 minutes, 40 per hour, 200 per day).
    clock = Clock()
    prefixes = numbered("6472{:08d}")
    seconds, _ = walk(defaults(clock), clock, prefixes, same("203.0.113.7"))
    # Day floor(9,998 / 200) = 49, plus the 4 hours 50 minutes the 40 per hour
    # and 10 per 10 minutes spread the last day's 199 look-ups over.
    assert 49 * DAY <= seconds < 49 * DAY + 5 * 3600
    assert seconds / DAY > 30


def test_the_old_limit_let_one_address_walk_a_prefix_in_55_hours() -> None:
    # What issue 18 measured: 30 per 10 minutes and nothing else.
    clock = Clock()
    old = defaults(
        clock,
        rate_limit_track_ip="30/10minutes",
        rate_limit_track_nik_prefix="off",
    )
    seconds, _ = walk(old, clock, same(PREFIX), same("203.0.113.7"))
    assert 55 * 3600 <= seconds < 56 * 3600
