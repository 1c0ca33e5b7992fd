"""The home page's picture and footer, the help page and the navigation per role (issue 22)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager, migration_locations
from aspirasi_core.storage import upgrade
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

from .world import WebWorld, make_settings, populate

HERO_ALT_ID = "Kalimantan Timur: Sungai Mahakam di antara perbukitan berhutan"
HERO_ALT_EN = "East Kalimantan: the Mahakam river between forested hills"


@pytest.fixture
def branded(sqlite_database: Any, tmp_path: Path) -> Iterator[WebWorld]:
    """The app of a province with its own home picture and social links."""
    picture = tmp_path / "balikpapan.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    settings = make_settings(
        tmp_path,
        home_image=str(picture),
        home_image_alt="Teluk Balikpapan saat senja",
        social_links=("Instagram=https://instagram.com/kaltimprov",),
    )
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    upgrade(sqlite_database.engine, migration_locations(pm))
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    world = WebWorld(app=create_app(aspirasi=core, run_outbox=False), core=core)
    populate(world)
    with TestClient(app=world.app, base_url="http://127.0.0.1:8000") as client:
        world.client = client
        yield world


def _nav(html: str) -> str:
    return html.split('<nav class="main-nav"', 1)[1].split("</nav>\n", 1)[0]


def test_the_home_page_shows_the_bundled_illustration_in_both_languages(web: WebWorld) -> None:
    page = web.client.get("/").text
    assert '<img class="hero-image" src="/brand/hero"' in page and HERO_ALT_ID in page
    assert HERO_ALT_EN in web.client.get("/?lang=en").text
    hero = web.client.get("/brand/hero")
    assert hero.status_code == 200 and hero.headers["content-type"].startswith("image/svg")
    assert "Mahakam" in hero.text and "http" not in hero.text.replace(
        "http://www.w3.org/2000/svg", ""
    )  # nothing fetched from elsewhere
    # No social links configured: none shown.
    assert "Follow us" not in web.client.get("/?lang=en").text


def test_a_province_replaces_the_picture_and_shows_its_social_links(branded: WebWorld) -> None:
    page = branded.client.get("/").text
    assert 'alt="Teluk Balikpapan saat senja"' in page and HERO_ALT_ID not in page
    hero = branded.client.get("/brand/hero")
    assert hero.headers["content-type"] == "image/png" and hero.content.startswith(b"\x89PNG")
    footer = page.split('<footer class="site-footer">', 1)[1]
    assert "Ikuti kami" in footer and 'href="https://instagram.com/kaltimprov"' in footer


@pytest.mark.parametrize(
    ("lang", "questions"),
    [
        (
            "id",
            [
                "Apa yang terjadi dengan pesan saya?",
                "Siapa yang melihat pesan saya?",
                "Berapa lama prosesnya?",
            ],
        ),
        ("en", ["What happens to my message?", "Who sees my message?", "How long does it take?"]),
    ],
)
def test_the_help_page_answers_three_questions_and_every_footer_links_it(
    web: WebWorld, lang: str, questions: list[str]
) -> None:
    page = web.client.get(f"/help?lang={lang}")
    assert page.status_code == 200
    for question in questions:
        assert f">{question}</h2>" in page.text
    # The SOP deadlines are the configured ones.
    settings = web.core.deps.settings
    assert f"{settings.sop_triage_days} " in page.text
    for path in ("/", "/tracking", "/login"):
        footer = web.client.get(f"{path}?lang={lang}").text.split("<footer", 1)[1]
        assert 'href="/help"' in footer


def test_the_super_admins_menu_is_grouped_and_folds_on_a_phone(web: WebWorld) -> None:
    web.login("root")
    nav = _nav(web.client.get("/backoffice").text)
    # One disclosure for phones; the role's daily work first, then the groups.
    assert '<details class="nav-menu">' in nav and "Kotak masuk" in nav
    groups = re.findall(r'<details class="nav-group[^"]*">\s*<summary[^>]*>([^<]+)<', nav)
    assert groups == ["Laporan", "Administrasi"]  # then the account's own drop-down
    assert '<details class="nav-group nav-account">' in nav and "(root)" not in nav
    assert nav.index("Kotak masuk") < nav.index("Laporan") < nav.index("Administrasi")
    assert nav.index("Administrasi") < nav.index('href="/"')  # public pages apart, after
    # The bell is the only way to the notifications, an SVG icon with the unread count.
    assert nav.count('href="/backoffice/notifications"') == 1
    assert "🔔" not in nav and '<use href="#i-bell">' in nav and 'class="count"' in nav
    assert nav.count(">Notifikasi<") == 1
    # Clear labels: the public list is not "Messages" beside "Send a message".
    assert ">Pesan masyarakat<" in nav and ">Pesan<" not in nav


def test_visitors_and_citizens_get_their_own_menus(web: WebWorld) -> None:
    anonymous = _nav(web.client.get("/").text)
    assert "nav-menu" not in anonymous and 'href="/login"' in anonymous
    web.login("ani")
    citizen = _nav(web.client.get("/dashboard").text)
    assert 'href="/my/messages/new"' in citizen and "Administrasi" not in citizen
    assert "nav-group" in citizen and 'href="/backoffice/notifications"' not in citizen
