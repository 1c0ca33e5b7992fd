"""The bridge between pluggy and Litestar: :class:`AspirasiPlugin`, an ``InitPlugin``.

Litestar calls :meth:`AspirasiPlugin.on_app_init` once while the application is
built. It calls the web hooks (:mod:`aspirasi_web.hookspecs`) through the plugin
manager's ``pm.hook``, in this order:

1. ``aspirasi_web_locale_dirs``: catalogs merged behind the core's (``state["translations"]``);
2. ``aspirasi_web_template_dirs``: folders searched after the core's (``state["jinja"]``);
3. ``aspirasi_web_route_handlers``: mounted after the routes given to the app;
4. ``aspirasi_web_static_dirs``: one static router per ``(name, folder)`` at
   ``/static/<name>/``, after the core's ``/static``.

``aspirasi_web_menu_items`` depends on who asks: :meth:`AspirasiPlugin.menu` calls
it for each page (the anonymous menu is built once).

It also puts the use cases on ``state["aspirasi"]``, itself on ``state["web"]``, the
request middleware (body timeout, request context, authentication, CSRF) before any
middleware the app was given, and the app-wide dependencies
(:data:`aspirasi_web.context.DEPENDENCIES`) that any handler, a plugin's included,
may take as parameters by name, and the required fields of the request bodies
to the schema (:func:`aspirasi_web.api.bodies.document_required`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from litestar.config.app import AppConfig
from litestar.middleware import DefineMiddleware
from litestar.plugins import InitPlugin
from litestar.static_files import create_static_files_router
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from aspirasi_core.domain.model import Actor
from aspirasi_core.services import Aspirasi

from . import hookspecs
from .api.bodies import document_required
from .body_timeout import BodyTimeoutMiddleware
from .context import DEPENDENCIES
from .csrf import SessionCSRFMiddleware, csrf_config
from .i18n import Translations
from .menu import Menu, arrange, core_menu
from .middleware import Authentication, RequestContextMiddleware, security_headers
from .templating import build_environment

HERE = Path(__file__).parent


class AspirasiPlugin(InitPlugin):
    """Litestar's side of the plugins: see the module docstring. Give it the use
    cases; their plugin manager gets the web hook specs if it lacks them."""

    __slots__ = ("_anonymous_menu", "aspirasi", "hook")

    def __init__(self, aspirasi: Aspirasi) -> None:
        self.aspirasi = aspirasi
        pm: Any = aspirasi.plugin_manager
        if not hasattr(pm.hook, "aspirasi_web_route_handlers"):
            pm.add_hookspecs(hookspecs)
        self.hook: Any = pm.hook
        self._anonymous_menu: Menu | None = None

    def collect(self, name: str) -> list[Any]:
        """The results of the hook ``name`` (no arguments), in pluggy's order, joined."""
        out: list[Any] = []
        for result in getattr(self.hook, name)():
            out.extend(result or ())
        return out

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the plugins' catalogs, templates, routes and static folders, the state,
        the middleware and :data:`DEPENDENCIES` to ``app_config``."""
        settings = self.aspirasi.deps.settings
        translations = Translations(settings.timezone, self.collect("aspirasi_web_locale_dirs"))
        jinja = build_environment(
            self.collect("aspirasi_web_template_dirs"), auto_reload=settings.env != "production"
        )
        app_config.route_handlers.extend(self.collect("aspirasi_web_route_handlers"))
        app_config.route_handlers.append(
            create_static_files_router(path="/static", directories=[HERE / "static"], name="static")
        )
        for name, folder in self.collect("aspirasi_web_static_dirs"):
            app_config.route_handlers.append(
                create_static_files_router(
                    path=f"/static/{name}", directories=[folder], name=f"static-{name}"
                )
            )
        app_config.state.update(
            {"aspirasi": self.aspirasi, "jinja": jinja, "translations": translations, "web": self}
        )
        app_config.middleware = [
            DefineMiddleware(BodyTimeoutMiddleware, seconds=settings.serve_body_timeout_seconds),
            # The client's address behind the proxies of ``trusted_proxies``.
            # (uvicorn types the ASGI callables with its own, equivalent, typed dicts)
            DefineMiddleware(
                cast("Any", ProxyHeadersMiddleware), trusted_hosts=list(settings.trusted_proxies)
            ),
            DefineMiddleware(RequestContextMiddleware, translations=translations),
            DefineMiddleware(Authentication, aspirasi=self.aspirasi),
            DefineMiddleware(SessionCSRFMiddleware, config=csrf_config(settings)),
            *app_config.middleware,
        ]
        app_config.before_send.append(security_headers(settings))
        app_config.dependencies = {**DEPENDENCIES, **app_config.dependencies}
        # first: the app's own schema steps (create_app's document_api) build on it
        app_config.on_startup.insert(0, document_required)
        return app_config

    def menu(self, actor: Actor | None) -> Menu:
        """The navigation for ``actor`` (None: anonymous): the core's items and
        ``aspirasi_web_menu_items``' (see :func:`aspirasi_web.menu.arrange`)."""
        if actor is None and self._anonymous_menu is not None:
            # Everyone who is not signed in gets the same menu: built once.
            return self._anonymous_menu
        policy = self.aspirasi.deps.policy
        items = core_menu(actor, policy)
        for extra in self.hook.aspirasi_web_menu_items(actor=actor, policy=policy):
            items.extend(extra or ())
        menu = arrange(items)
        if actor is None:
            self._anonymous_menu = menu
        return menu
