"""Demo mode without an SMTP server: mail lands in the development mailbox (JSON
files every worker process sees); with an SMTP server it is sent even in demo
mode; with neither it waits in the outbox. And with the plugin off the core
still works and queues no mail."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from aspirasi_core.services import Context, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.services.ports import OutboxItem
from aspirasi_notify_email import EMAIL_TOPIC, DevMailbox, Mail, NotifyEmailPlugin

pytestmark = pytest.mark.anyio


async def test_demo_mode_keeps_mail_in_files_that_every_process_sees(
    sqlite_database, tmp_path, build_world_on
):
    plugin = NotifyEmailPlugin()
    world = await build_world_on(sqlite_database, tmp_path, plugin, demo=True, smtp_host=None)
    assert plugin.config is not None and plugin.config.mode == "mailbox"
    mailbox = plugin.mailbox
    assert isinstance(mailbox, DevMailbox)
    assert mailbox.path == tmp_path / "files" / "dev-mailbox"

    stats = await world.deliver()
    assert (stats.delivered, stats.retried, stats.dead) == (2, 0, 0)
    msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("Lampu mati", "…"))
    world.clock.advance(minutes=1)
    assert (await world.deliver()).delivered == 1

    files = sorted(os.listdir(mailbox.path))
    assert len(files) == 3 and all(f.endswith(".json") for f in files)  # no temporary files
    newest, *older = mailbox.list(limit=10)
    assert newest.to == "admin@example.org" and newest.kind == "new_message"
    assert f"/backoffice/messages/{msg.id}" in newest.text and msg.ticket in newest.subject
    assert newest.message_id.endswith(".aspirasi@kaltimprov.go.id>")
    assert newest.sender == "ASPIRASI ETAM <noreply@kaltimprov.go.id>"
    assert sorted(m.to for m in older) == ["ani@example.org", "budi@example.org"]
    assert all(m.kind == "verify_email" and "/verify-email?token=" in m.text for m in older)
    assert [m.id for m in mailbox.list(limit=1)] == [newest.id]
    assert json.loads((mailbox.path / f"{newest.id}.json").read_text())["subject"] == newest.subject

    # Another worker process: its own plugin object on the same storage folder.
    other = DevMailbox(tmp_path / "files" / "dev-mailbox")
    assert other.get(newest.id) == newest
    assert [m.id for m in other.list(limit=10)] == [newest.id, *(m.id for m in older)]
    assert other.get("../../etc/passwd") is None and other.get("20261102T010000000000Z-999") is None


def test_a_mail_delivered_twice_is_stored_once_and_old_mail_is_pruned(tmp_path):
    mailbox = DevMailbox(tmp_path / "box", keep=3)
    mail = Mail("verify_email", "ani@example.org", "id", "Subjek", "teks", "<p>teks</p>")
    t0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def item(item_id: int, minute: int) -> OutboxItem:
        return OutboxItem(
            id=item_id,
            topic=EMAIL_TOPIC,
            payload={},
            attempts=1,
            status="sending",
            created_at=t0.replace(minute=minute),
            available_at=t0,
        )

    first = mailbox.store(item(1, 0), mail, sender="s@example.org", message_id="<1@x>")
    again = mailbox.store(item(1, 0), mail, sender="s@example.org", message_id="<1@x>")
    assert first.id == again.id and len(mailbox.list()) == 1
    for n in range(2, 6):
        mailbox.store(item(n, n), mail, sender="s@example.org", message_id=f"<{n}@x>")
    assert [m.id.rsplit("-", 1)[1] for m in mailbox.list()] == ["5", "4", "3"]
    assert mailbox.clear() == 3 and mailbox.list() == []


async def test_demo_mode_with_an_smtp_server_sends(sqlite_database, tmp_path, smtp, build_world_on):
    smtp.start()
    plugin = NotifyEmailPlugin()
    world = await build_world_on(sqlite_database, tmp_path, plugin, demo=True, smtp_port=smtp.port)
    assert plugin.mailbox is None
    assert (await world.deliver()).delivered == 2
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["ani@example.org", "budi@example.org"]
    assert not (tmp_path / "files" / "dev-mailbox").exists()


async def test_without_smtp_and_demo_mail_waits_in_the_outbox(
    sqlite_database, tmp_path, build_world_on
):
    plugin = NotifyEmailPlugin()
    world = await build_world_on(sqlite_database, tmp_path, plugin, smtp_host=None)
    stats = await world.deliver()
    assert (stats.delivered, stats.retried) == (0, 2)
    [pending, _] = await world.app.outbox.list("pending")
    assert "ASPIRASI_SMTP_HOST is not set" in (pending.last_error or "")


async def test_without_the_plugin_the_core_works_and_queues_no_mail(build_world):
    world = await build_world()  # notify_email not registered
    password = "dewi-long-password"
    account = await world.app.accounts.register(
        Context(),
        RegisterInput("dewi@example.org", "dewi", "Dewi", "6472041708450003", password, password),
    )
    assert account is not None and not account.verified
    await world.app.messages.submit(world.ctx("ani"), SubmitInput("Jalan rusak", "…"))
    assert world.outbox_topics()[EMAIL_TOPIC] == 0
    assert (await world.deliver()).handled == 0

    # Once the plugin is registered, the same world queues mail: the check above can fail.
    world.app.plugin_manager.register(NotifyEmailPlugin())  # configured on registration
    await world.app.accounts.forgot_password(Context(), "dewi@example.org")
    assert world.outbox_topics()[EMAIL_TOPIC] == 1
