"""The application the benchmark serves: the real app plus one hello-world route.

``create_app()`` builds the app exactly as ``aspirasi serve`` does (settings from the
environment, logging, the plugin manager with the web hook specs, ``bootstrap``,
``aspirasi_web.app.create_app``) and registers one extra plugin whose only hook,
``aspirasi_web_route_handlers``, adds ``GET /bench/hello``. The hello-world therefore
goes through the same Litestar app, the same ``RequestContextMiddleware`` (request id,
cookies, language, security headers, one log line per request), the same
``before_request`` CSRF hook and the same server: it is the denominator of every ratio.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get

from aspirasi_core import hookimpl
from aspirasi_core.logging import configure_logging
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.settings import Settings

HELLO_PATH = "/bench/hello"


@get(HELLO_PATH, include_in_schema=False, sync_to_thread=False)
def hello() -> dict[str, str]:
    """A bare JSON hello-world (no database, no template)."""
    return {"hello": "world"}


class BenchHelloPlugin:
    """Adds the hello-world route through the web hook every plugin uses."""

    @hookimpl
    def aspirasi_web_route_handlers(self) -> list[Any]:
        return [hello]


def create_app() -> Litestar:
    """The uvicorn factory (``bench.app:create_app``)."""
    from aspirasi_web import hookspecs as web_hookspecs
    from aspirasi_web.app import create_app as create_web_app

    settings = Settings.from_env()
    configure_logging(settings)
    pm = create_plugin_manager(
        settings, extra_hookspecs=[web_hookspecs], extra_plugins=[BenchHelloPlugin()]
    )
    return create_web_app(settings, plugin_manager=pm)
