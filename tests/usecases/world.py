"""A small world for use-case tests: the real use cases on a real database
(SQLite and PostgreSQL, see tests/conftest.py), a controllable clock, a
recording test plugin, and ready-made accounts for each role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from aspirasi_core import hookimpl
from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.events import Event, VerificationRequested
from aspirasi_core.domain.model import Account, Role
from aspirasi_core.plugin_types import OutboxMessage
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Aspirasi, Context, StaffInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.settings import Settings

SECRET = "test-secret-key-" * 3
NIKS = ["6472045504910001", "6471011203880002", "6472041708450003", "6472046612990004"]


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class RecorderPlugin:
    """Records what the core tells plugins; turns every event into an outbox item."""

    def __init__(self) -> None:
        self.after: list[Event] = []
        self.in_transaction: list[Event] = []
        self.delivered: list[Any] = []
        self.fail_deliveries = 0
        self.on_deliver: Any = None  # called before each delivery (e.g. to move the clock)

    @hookimpl
    def aspirasi_outbox_items(self, event: Event, lookup: Any) -> list[OutboxMessage]:
        self.in_transaction.append(event)
        payload: dict[str, Any] = {"event": event.name}
        if isinstance(event, VerificationRequested) or hasattr(event, "token"):
            payload["token"] = event.token  # type: ignore[attr-defined]
        return [OutboxMessage(topic="test", payload=payload)]

    @hookimpl
    def aspirasi_deliver_outbox_item(self, item: Any) -> bool | None:
        if item.topic != "test":
            return None
        if self.on_deliver is not None:
            self.on_deliver()
        if self.fail_deliveries > 0:
            self.fail_deliveries -= 1
            raise ConnectionError(
                "smtp down: 550 <ani@example.org> refused (note: NIK 6472045504910001)"
            )
        self.delivered.append(item)
        return True

    @hookimpl
    def aspirasi_after_submission(self, event: Event) -> None:
        self.after.append(event)

    @hookimpl
    def aspirasi_after_transition(self, event: Event) -> None:
        self.after.append(event)

    @hookimpl
    def aspirasi_after_event(self, event: Event) -> None:
        self.after.append(event)

    def tokens(self, event_name: str) -> list[str]:
        return [e.token for e in self.in_transaction if e.name == event_name]  # type: ignore[attr-defined]


@attrs.define
class World:
    app: Aspirasi
    clock: FakeClock
    recorder: RecorderPlugin
    accounts: dict[str, Account] = attrs.field(factory=dict)
    agencies: dict[str, int] = attrs.field(factory=dict)
    subcategories: dict[str, int] = attrs.field(factory=dict)
    categories: dict[str, int] = attrs.field(factory=dict)

    def ctx(self, name: str | None, **kw: Any) -> Context:
        if name is None:
            return Context(**kw)
        account = self.app.deps.db.run_sync(
            lambda uow: uow.accounts.get(self.accounts[name].id), write=False
        )
        return Context(actor=account.actor(), **kw)

    async def citizen(self, username: str, nik: str, *, verify: bool = True) -> Account:
        password = f"{username}-long-password"
        account = await self.app.accounts.register(
            Context(),
            RegisterInput(
                email=f"{username}@example.org",
                username=username,
                full_name=f"Citizen {username}",
                nik=nik,
                password=password,
                password_confirm=password,
            ),
        )
        assert account is not None
        if verify:
            token = self.recorder.tokens("VerificationRequested")[-1]
            account = await self.app.accounts.verify_email(Context(), token)
        self.accounts[username] = account
        return account

    def count(self, table: str) -> int:
        from sqlalchemy import text

        db = self.app.deps.db
        with db.engine.connect() as conn:  # type: ignore[attr-defined]
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def make_settings(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "storage_path": str(tmp_path / "files"),
    }
    values.update(overrides)
    return Settings(**values)


async def build_world(
    database: Any,
    tmp_path: Any,
    *,
    plugins: tuple[object, ...] = (),
    load_entry_points: bool = False,
) -> World:
    clock = FakeClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    recorder = RecorderPlugin()
    settings = make_settings(tmp_path)
    pm = create_plugin_manager(
        settings, load_entry_points=load_entry_points, extra_plugins=[recorder, *plugins]
    )
    app = bootstrap(settings, plugin_manager=pm, database=database, clock=clock)
    world = World(app=app, clock=clock, recorder=recorder)
    root = app.admin.create_superadmin("root@example.org", "root", "root-long-password")
    world.accounts["root"] = root
    rctx = Context(actor=root.actor())
    for code in ("pupr", "dinkes"):
        world.agencies[code] = (await app.admin.create_agency(rctx, code, f"Dinas {code}")).id
    categories = {c.code: c.id for c in await app.admin.categories()}
    world.categories = categories
    for cat, code in (
        ("aduan", "infrastruktur"),
        ("aspirasi", "pembangunan"),
        ("aduan", "permasalahan-lahan"),
    ):
        existing = await app.admin.subcategories(categories[cat])
        found = next((s for s in existing if s.code == code), None)
        if found is None:
            found = await app.admin.create_subcategory(rctx, categories[cat], code, code.title())
        world.subcategories[code] = found.id
    staff = [
        ("admin", Role.ADMIN, None),
        ("op_pupr", Role.OPERATOR, "pupr"),
        ("op_pupr2", Role.OPERATOR, "pupr"),
        ("op_dinkes", Role.OPERATOR, "dinkes"),
    ]
    for username, role, agency in staff:
        world.accounts[username] = await app.admin.create_staff(
            rctx,
            StaffInput(
                email=f"{username}@example.org",
                username=username,
                full_name=username,
                password=f"{username}-long-password",
                role=role,
                agency_id=world.agencies[agency] if agency else None,
            ),
        )
    await world.citizen("ani", NIKS[0])
    await world.citizen("budi", NIKS[1])
    recorder.in_transaction.clear()
    recorder.after.clear()
    return world
