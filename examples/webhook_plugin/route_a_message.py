"""Route one message to ``done`` with the core's use cases, then run the outbox:
with the webhook plugin installed, ``ASPIRASI_WEBHOOK_URL`` receives a POST.

    pip install ./examples/webhook_plugin
    ASPIRASI_WEBHOOK_URL=http://127.0.0.1:9000/hook python examples/webhook_plugin/route_a_message.py

Uses a SQLite database in a temporary folder (or ``ASPIRASI_DATABASE_URL``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import anyio

from aspirasi_core.bootstrap import bootstrap, migrate
from aspirasi_core.domain.model import Role
from aspirasi_core.plugins import create_plugin_manager, list_plugins
from aspirasi_core.services import Context, StaffInput, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.settings import Settings


async def main(folder: Path) -> None:
    settings = Settings.from_env(
        database_url=os.environ.get("ASPIRASI_DATABASE_URL", f"sqlite:///{folder / 'aspirasi.db'}"),
        storage_path=str(folder / "files"),
        secret_key="an-example-secret-key-of-32-chars!!",
    )
    pm = create_plugin_manager(settings)  # every installed plugin, the webhook among them
    print("plugins:", ", ".join(info.name for info in list_plugins(pm)))
    migrate(settings, pm)
    app = bootstrap(settings, plugin_manager=pm)

    root = app.admin.create_superadmin("root@example.org", "root", "a-long-root-password")
    as_root = Context(actor=root.actor())
    agency = await app.admin.create_entry(as_root, "agency", code="pupr", name="Dinas PUPR")
    aduan = next(c for c in await app.admin.categories() if c.code == "aduan")
    roads = await app.admin.create_entry(
        as_root, "subcategory", category_id=aduan.id, code="jalan", name="Jalan"
    )
    admin = await app.admin.create_staff(
        as_root,
        StaffInput("admin@example.org", "admin", "Admin", "admin-long-password", Role.ADMIN),
    )
    operator = await app.admin.create_staff(
        as_root,
        StaffInput(
            "op@example.org", "operator", "Operator", "op-long-password", Role.OPERATOR, agency.id
        ),
    )
    citizen = await app.accounts.register(
        Context(),
        RegisterInput(
            "ani@example.org",
            "ani",
            "Ani",
            "6472045504910001",
            "ani-long-password",
            "ani-long-password",
        ),
    )
    assert citizen is not None
    app.deps.db.run_sync(
        lambda uow: uow.accounts.update(citizen.id, email_verified_at=app.deps.clock.now())
    )
    citizen = await app.accounts.me(Context(actor=citizen.actor()))

    ani, adm, op = (Context(actor=a.actor()) for a in (citizen, admin, operator))
    message = await app.messages.submit(ani, SubmitInput("Jalan berlubang", "Di depan pasar."))
    await app.messages.act(
        adm,
        message.id,
        "forward",
        category_id=aduan.id,
        subcategory_id=roads.id,
        agency_id=agency.id,
    )
    await app.messages.act(op, message.id, "start")
    await app.messages.act(op, message.id, "reply", answer="Jalan sudah diperbaiki.")
    print(f"message {message.ticket} (id {message.id}) is done")

    delivered = 0
    while True:  # what `aspirasi outbox run --once` does
        stats = app.outbox.run_once_sync()
        delivered += stats.delivered
        if stats.handled == 0:
            break
    print(f"outbox: delivered {delivered}")
    for item in await app.outbox.list(None):
        print(f"outbox item {item.id}: {item.topic} {item.status}")
    app.deps.db.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(main, Path(tmp))
