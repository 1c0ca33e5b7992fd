"""Plugins extend the web app through aspirasi_web_route_handlers,
aspirasi_web_menu_items, aspirasi_web_template_dirs, aspirasi_web_static_dirs and
aspirasi_web_locale_dirs, collected by the InitPlugin ``AspirasiPlugin``; their
handlers take the app-wide dependencies (``core``, ``ctx``, ``actor``, …) by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.testing import TestClient

from aspirasi_core import hookimpl
from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Aspirasi
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app
from aspirasi_web.context import Core, Ctx, CurrentActor, CurrentTranslator
from aspirasi_web.menu import MenuItem
from aspirasi_web.plugin import AspirasiPlugin
from aspirasi_web.templating import render

from .world import WebWorld, make_settings, populate


def make_plugin(root: Path) -> Any:
    (root / "templates" / "demo_plugin").mkdir(parents=True)
    (root / "templates" / "demo_plugin" / "page.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>{{ _("Plugin page") }}</h1>{% endblock %}'
    )
    (root / "static").mkdir()
    (root / "static" / "demo.css").write_text("body{}")
    po = root / "locale" / "id" / "LC_MESSAGES"
    po.mkdir(parents=True)
    (po / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Plugin page"\nmsgstr "Halaman plugin"\n\nmsgid "Home"\nmsgstr "Rumah"\n'
    )

    @get("/demo-plugin", include_in_schema=False)
    async def page(request: Request[Any, Any, Any]) -> Response[str]:
        return render(request, "demo_plugin/page.html")

    @get("/api/v1/demo-plugin/whoami", include_in_schema=False, sync_to_thread=False)
    def whoami(
        core: Core,
        ctx: Ctx,
        actor: CurrentActor,
        translator: CurrentTranslator,
    ) -> dict[str, Any]:
        return {
            "actor": actor.account_id,
            "ctx_actor": ctx.actor.account_id if ctx.actor else None,
            "language": translator.language,
            "timezone": core.deps.settings.timezone,
        }

    @get("/api/v1/demo-plugin/teapot", include_in_schema=False, sync_to_thread=False)
    def teapot() -> None:
        raise ProblemDetailsException(
            status_code=418,
            detail="Only tea here.",
            type_="urn:demo:teapot",
            title="Teapot",
            extra={"code": "teapot"},
        )

    class Plugin:
        @hookimpl
        def aspirasi_web_route_handlers(self):
            return [page, whoami, teapot]

        @hookimpl
        def aspirasi_web_menu_items(self, actor, policy):
            return [MenuItem("Plugin page", "/demo-plugin", "public", 50)]

        @hookimpl
        def aspirasi_web_template_dirs(self):
            return [str(root / "templates")]

        @hookimpl
        def aspirasi_web_static_dirs(self):
            return [("demo_plugin", str(root / "static"))]

        @hookimpl
        def aspirasi_web_locale_dirs(self):
            return [str(root / "locale")]

    return Plugin()


def test_a_plugin_adds_a_page_menu_static_files_and_translations(
    sqlite_database: Any, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    pm = create_plugin_manager(
        settings,
        load_entry_points=False,
        extra_plugins=[make_plugin(tmp_path / "plugin")],
        extra_hookspecs=[web_hookspecs],
    )
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    with TestClient(app=create_app(aspirasi=core, run_outbox=False)) as client:
        page = client.get("/demo-plugin")
        assert page.status_code == 200
        assert "<h1>Halaman plugin</h1>" in page.text
        assert 'href="/demo-plugin"' in page.text  # the menu item
        assert ">Beranda<" in page.text  # the core's translation wins over the plugin's "Rumah"
        assert client.get("/static/demo_plugin/demo.css").text == "body{}"


def _plugin_core(sqlite_database: Any, tmp_path: Path) -> Aspirasi:
    settings = make_settings(tmp_path)
    pm = create_plugin_manager(
        settings,
        load_entry_points=False,
        extra_plugins=[make_plugin(tmp_path / "plugin")],
        extra_hookspecs=[web_hookspecs],
    )
    return bootstrap(settings, plugin_manager=pm, database=sqlite_database)


def test_the_init_plugin_alone_mounts_a_plugins_routes_and_static_files(
    sqlite_database: Any, tmp_path: Path
) -> None:
    """A bare Litestar app with AspirasiPlugin, and nothing of create_app(): the
    plugin's page, templates, translations, menu and static folder are there."""
    core = _plugin_core(sqlite_database, tmp_path)
    with TestClient(app=Litestar(plugins=[AspirasiPlugin(core)])) as client:
        page = client.get("/demo-plugin")
        assert page.status_code == 200
        assert "<h1>Halaman plugin</h1>" in page.text
        assert 'href="/demo-plugin"' in page.text
        assert client.get("/static/demo_plugin/demo.css").text == "body{}"
        assert client.get("/static/css/app.css").status_code == 200  # the core's own folder


def test_a_plugins_handler_takes_the_app_dependencies_by_name(
    sqlite_database: Any, tmp_path: Path
) -> None:
    core = _plugin_core(sqlite_database, tmp_path)
    world = WebWorld(app=create_app(aspirasi=core, run_outbox=False), core=core)
    populate(world)
    with TestClient(app=world.app) as client:
        world.client = client
        anonymous = client.get("/api/v1/demo-plugin/whoami")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        assert anonymous.json()["code"] == "login_required"
        bad = client.get("/api/v1/demo-plugin/whoami", headers={"Authorization": "Bearer junk"})
        assert bad.status_code == 401
        assert bad.json()["code"] == "invalid_token"
        token = world.token("ani")
        answer = client.get(
            "/api/v1/demo-plugin/whoami",
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
        )
        assert answer.status_code == 200, answer.text
        # A plugin may raise Litestar's ProblemDetailsException: problem+json as it says.
        teapot = client.get("/api/v1/demo-plugin/teapot")
        assert teapot.status_code == 418
        assert teapot.headers["content-type"].startswith("application/problem+json")
        assert teapot.json() == {
            "status": 418,
            "type": "urn:demo:teapot",
            "title": "Teapot",
            "detail": "Only tea here.",
            "code": "teapot",
        }
        assert answer.json() == {
            "actor": world.ids["ani"],
            "ctx_actor": world.ids["ani"],
            "language": "en",
            "timezone": core.deps.settings.timezone,
        }
