"""``/dev/mailbox``: only in demo mode."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

from .world import WebWorld, make_settings, populate


def test_mailbox_is_404_without_demo_mode(web: WebWorld) -> None:
    assert web.client.get("/dev/mailbox").status_code == 404
    assert web.client.get("/dev/mailbox/20260101T000000000000Z-1").status_code == 404


def test_mailbox_lists_the_kept_mails_in_demo_mode(sqlite_database: Any, tmp_path: Any) -> None:
    settings = make_settings(tmp_path, demo=True)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    app = create_app(aspirasi=core, run_outbox=False)
    world = WebWorld(app=app, core=core)
    populate(world)
    box = _find_or_add_mailbox(pm, tmp_path)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        world.client = client
        page = client.get("/dev/mailbox")
        assert page.status_code == 200
        if box is None:
            assert "SMTP" in page.text  # the plugin is not here: the page says so
            return
        _store(
            box, "Verifikasi e-mail", "Buka http://127.0.0.1:8000/verify-email?token=abc <b>x</b>"
        )
        page = client.get("/dev/mailbox")
        assert page.status_code == 200 and "Verifikasi e-mail" in page.text
        start = page.text.index('href="/dev/mailbox/') + len('href="')
        href = page.text[start : page.text.index('"', start)]
        mail = client.get(href)
        assert mail.status_code == 200
        assert '<a href="http://127.0.0.1:8000/verify-email?token=abc">' in mail.text
        assert "&lt;b&gt;x&lt;/b&gt;" in mail.text  # escaped
        assert client.get("/dev/mailbox/not-an-id").status_code == 404
        assert client.get("/dev/mailbox/20990101T000000000000Z-9").status_code == 404


def _find_or_add_mailbox(pm: Any, tmp_path: Any) -> Any:
    """The notify_email plugin's DevMailbox; while the plugin does not expose
    one, a stand-in plugin object carrying the real DevMailbox class."""
    try:
        from aspirasi_notify_email.mailbox import DevMailbox
    except ImportError:
        return None
    for plugin in [pm.get_plugin("notify_email"), *pm.get_plugins()]:
        box = getattr(plugin, "mailbox", None)
        if isinstance(box, DevMailbox):
            return box

    class StandIn:
        mailbox = DevMailbox(tmp_path / "dev-mailbox")

    pm.register(StandIn(), name="dev_mailbox_stand_in")
    return StandIn.mailbox


def _store(box: Any, subject: str, text: str) -> None:
    from datetime import UTC, datetime

    from aspirasi_core.services.ports import OutboxItem
    from aspirasi_notify_email.render import Mail

    now = datetime.now(UTC)
    item = OutboxItem(
        id=1,
        topic="email",
        payload={},
        attempts=1,
        status="sending",
        created_at=now,
        available_at=now,
    )
    mail = Mail(
        kind="verify", to="ani@example.org", language="id", subject=subject, text=text, html=""
    )
    box.store(item, mail, sender="noreply@example.org", message_id="<1@example.org>")
