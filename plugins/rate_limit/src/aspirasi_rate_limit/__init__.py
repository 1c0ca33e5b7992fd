"""Rate limits that hold across workers.

Quick start
-----------
Install the package next to ``aspirasi-core`` (``pip install aspirasi-rate-limit``);
the core loads it through its ``aspirasi`` entry point (``rate_limit``).

``ASPIRASI_REDIS_URL``
    With several web workers, set it (``redis://127.0.0.1:6379/0``) so every
    worker counts against the same limits. Unset, counters stay in the memory of
    one process (fine for the embedded single-process mode).

What this version does: it reads and checks that setting at start-up
(``aspirasi_configure``): the counter backend is ``redis`` or ``memory``, and a
URL that is not ``redis://``, ``rediss://`` or ``unix://`` is refused. It limits
nothing yet — the limits themselves (login, registration, resending the
verification link, forgot password, tracking) arrive in the next issue,
through ``aspirasi_before_use_case``.

Turn the plugin off with ``ASPIRASI_DISABLED_PLUGINS=rate_limit``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import attrs

from aspirasi_core import hookimpl
from aspirasi_core.settings import Settings

REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


@attrs.frozen
class LimitConfig:
    """Where the counters will live."""

    backend: str  # "redis" or "memory"
    redis_url: str | None = attrs.field(default=None, repr=False)  # may carry a password


_config: LimitConfig | None = None


def current_config() -> LimitConfig | None:
    """The configuration of the last ``aspirasi_configure`` call (None before)."""
    return _config


@hookimpl
def aspirasi_configure(settings: Settings) -> None:
    """Choose the counter backend from ``ASPIRASI_REDIS_URL``; refuse a URL that is not Redis."""
    global _config
    url = settings.redis_url
    if url:
        scheme = urlsplit(url).scheme
        if scheme not in REDIS_SCHEMES:
            raise ValueError(
                f"ASPIRASI_REDIS_URL: scheme {scheme!r} is not one of"
                f" {', '.join(sorted(REDIS_SCHEMES))}"
            )
        _config = LimitConfig(backend="redis", redis_url=url)
    else:
        _config = LimitConfig(backend="memory")
