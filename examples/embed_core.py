"""Embed the Aspirasi core in a script: no web server, no plugins needed.

Creates a SQLite database in a temporary folder, registers a citizen, sends a
message and routes it through the whole workflow with the same use cases the
web application calls.

    python examples/embed_core.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio

from aspirasi_core.bootstrap import bootstrap, migrate
from aspirasi_core.domain.model import Role
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Context, StaffInput, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.settings import Settings


async def main(folder: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{folder / 'aspirasi.db'}",
        storage_path=str(folder / "files"),
        secret_key="an-example-secret-key-of-32-chars!!",
        argon2_memory_kib=19456,
    )
    pm = create_plugin_manager(settings, load_entry_points=False)  # the core alone
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
    # A real deployment mails a link; here we mark the address verified directly.
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
    await app.messages.act(op, message.id, "progress", note="Tim sudah survei lokasi.")
    await app.messages.act(op, message.id, "reply", answer="Jalan sudah diperbaiki.")
    await app.messages.rate(ani, message.id, 5, "Terima kasih!")

    for entry in await app.queries.message_log(ani, message.id):
        print(f"{entry.at:%Y-%m-%d %H:%M} {entry.action:<9} {entry.to_status} {entry.note}")
    tracked = await app.queries.track(Context(), "6472045504910001")
    print(f"tracking {tracked[0].ticket}: {tracked[0].status}")
    app.deps.db.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(main, Path(tmp))
