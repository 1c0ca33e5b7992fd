"""A small world for tests: the real use cases on a real database, a fake clock,
a plugin that records what the core tells plugins, accounts of each role, and a
helper that drives a message through the workflow."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ..bootstrap import bootstrap
from ..domain.events import Event, VerificationRequested
from ..domain.model import Account, Message, Role, Status
from ..hookspecs import hookimpl
from ..plugin_api import PluginContext
from ..plugin_types import OutboxMessage
from ..plugins import create_plugin_manager
from ..services import Aspirasi, Context, StaffInput, SubmitInput
from ..services.accounts import RegisterInput
from ..settings import Settings

#: The secret key of test settings (never use it elsewhere).
SECRET = "test-secret-key-" * 3
#: Valid NIKs for test citizens (``ani`` and ``budi`` hold the first two).
NIKS = ["6472045504910001", "6471011203880002", "6472041708450003", "6472046612990004"]
#: Monday 2 November 2026, 09:00 in Samarinda (WITA): where a world's clock starts.
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


class FakeClock:
    """The core's ``Clock`` under the test's control: ``now()`` stays where it is
    until ``advance(hours=2)`` moves it; ``time()`` is the same instant in
    seconds (for plugins that count in seconds, like rate limits)."""

    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def time(self) -> float:
        return self.current.timestamp()

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class Recorder:
    """A plugin that records the events the core hands to plugins (in the
    transaction and after the commit), turns each into an outbox item of the
    topic ``test``, and delivers those."""

    def __init__(self) -> None:
        #: Events the ``aspirasi_after_*`` hooks heard, in order.
        self.after: list[Event] = []
        #: Events ``aspirasi_outbox_items`` saw (inside their transactions).
        self.in_transaction: list[Event] = []
        self.delivered: list[Any] = []
        #: Make the next deliveries fail (retries, dead letters).
        self.fail_deliveries = 0
        #: Called before each delivery (e.g. to move the clock).
        self.on_deliver: Any = None

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
        """The tokens of the recorded events of that name (verification, reset)."""
        return [e.token for e in self.in_transaction if e.name == event_name]  # type: ignore[attr-defined]


@attrs.define
class World:
    """The application, its clock and recorder, and what :func:`build_world` made:
    accounts by user name (``root`` super admin, ``admin``, operators ``op_pupr``,
    ``op_pupr2`` of ``pupr`` and ``op_dinkes`` of ``dinkes``, citizens ``ani`` and
    ``budi``), and the ids of agencies, categories and sub-categories by code."""

    app: Aspirasi
    clock: FakeClock
    recorder: Recorder
    accounts: dict[str, Account] = attrs.field(factory=dict)
    agencies: dict[str, int] = attrs.field(factory=dict)
    subcategories: dict[str, int] = attrs.field(factory=dict)
    categories: dict[str, int] = attrs.field(factory=dict)

    @property
    def aspirasi(self) -> PluginContext:
        """The plugin API of the application (what plugins receive)."""
        return PluginContext.of(self.app)

    @property
    def plugin_manager(self) -> Any:
        return self.app.plugin_manager

    def ctx(self, name: str | None, **kw: Any) -> Context:
        """The :class:`Context` of the account ``name`` as it is now (None: anonymous)."""
        if name is None:
            return Context(**kw)
        account = self.app.deps.db.run_sync(
            lambda uow: uow.accounts.get(self.accounts[name].id), write=False
        )
        if account is None:
            raise LookupError(f"the account {name!r} is gone")
        return Context(actor=account.actor(), **kw)

    async def citizen(self, username: str, nik: str, *, verify: bool = True) -> Account:
        """Register a citizen (password ``<username>-long-password``), verified unless told."""
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

    async def drive(
        self,
        to: Status,
        *,
        author: str = "ani",
        agency: str = "pupr",
        subcategory: str = "infrastruktur",
        subject: str = "Jalan rusak di depan sekolah",
        body: str = "Lubang besar di jalan, berbahaya bagi anak-anak.",
        anonymous: bool = False,
        confidential: bool = False,
    ) -> Message:
        """Submit a message as ``author`` and move it to ``to`` the way people do:
        the admin forwards it to ``agency`` (``aduan`` / ``subcategory``) or
        rejects it, an operator of the agency starts it and replies; the author
        withdraws it. Returns the message as its last step left it."""
        message = await self.app.messages.submit(
            self.ctx(author),
            SubmitInput(subject, body, confidential=confidential, anonymous=anonymous),
        )
        if to is Status.SUBMITTED:
            return message
        if to is Status.WITHDRAWN:
            return await self.app.messages.act(self.ctx(author), message.id, "withdraw")
        if to is Status.REJECTED:
            return await self.app.messages.act(
                self.ctx("admin"), message.id, "reject", reason="Bukan kewenangan provinsi."
            )
        category = next(c for c, ids in self.subcategory_codes.items() if subcategory in ids)
        message = await self.app.messages.act(
            self.ctx("admin"),
            message.id,
            "forward",
            category_id=self.categories[category],
            subcategory_id=self.subcategories[subcategory],
            agency_id=self.agencies[agency],
        )
        if to is Status.FORWARDED:
            return message
        operator = next(
            name
            for name, account in self.accounts.items()
            if account.role == Role.OPERATOR and account.agency_id == self.agencies[agency]
        )
        message = await self.app.messages.act(self.ctx(operator), message.id, "start")
        if to is Status.IN_PROGRESS:
            return message
        if to is Status.DONE:
            return await self.app.messages.act(
                self.ctx(operator), message.id, "reply", answer="Sudah diperbaiki."
            )
        raise ValueError(f"drive cannot reach {to}")

    #: Category code → the sub-category codes :func:`build_world` makes under it.
    subcategory_codes: dict[str, tuple[str, ...]] = attrs.field(
        factory=lambda: {
            "aduan": ("infrastruktur", "permasalahan-lahan"),
            "aspirasi": ("pembangunan",),
        }
    )

    def count(self, table: str) -> int:
        """The number of rows of a table (any table: tests may look everywhere)."""
        from sqlalchemy import func, select
        from sqlalchemy import table as table_clause

        return self.app.deps.db.run_sync(
            lambda uow: uow.execute(select(func.count()).select_from(table_clause(table))),
            write=False,
        ).scalar_one()


def make_settings(tmp_path: Any, **overrides: Any) -> Settings:
    """Settings for tests: fast password hashing, files under ``tmp_path``."""
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        # No pause between verification links unless a test is about it (it
        # sets 60, the default): tests resend at once to reach the other limits.
        "verification_resend_seconds": 0,
        "storage_path": str(tmp_path / "files"),
    }
    values.update(overrides)
    return Settings(**values)


async def build_world(
    database: Any,
    tmp_path: Any,
    *,
    plugins: Iterable[object] = (),
    load_entry_points: bool = False,
    settings: Settings | None = None,
    clock: FakeClock | None = None,
) -> World:
    """The application on ``database`` (a migrated database, e.g. the
    ``database`` fixture) with the :class:`Recorder` and ``plugins`` (objects or
    modules; ``load_entry_points=True`` loads the installed ones too, limited by
    ``settings.plugins``), two agencies (``pupr``, ``dinkes``), the
    sub-categories ``aduan/infrastruktur``, ``aduan/permasalahan-lahan`` and
    ``aspirasi/pembangunan``, and the accounts described by :class:`World`."""
    clock = clock or FakeClock()
    recorder = Recorder()
    settings = settings or make_settings(tmp_path)
    pm = create_plugin_manager(
        settings, load_entry_points=load_entry_points, extra_plugins=[recorder, *plugins]
    )
    app = bootstrap(settings, plugin_manager=pm, database=database, clock=clock)
    world = World(app=app, clock=clock, recorder=recorder)
    root = app.admin.create_superadmin("root@example.org", "root", "root-long-password")
    world.accounts["root"] = root
    rctx = Context(actor=root.actor())
    for code in ("pupr", "dinkes"):
        world.agencies[code] = (
            await app.admin.create_entry(rctx, "agency", code=code, name=f"Dinas {code}")
        ).id
    categories = {c.code: c.id for c in await app.admin.categories()}
    world.categories = categories
    for cat, codes in world.subcategory_codes.items():
        existing = await app.admin.subcategories(categories[cat])
        for code in codes:
            found = next((s for s in existing if s.code == code), None)
            if found is None:
                found = await app.admin.create_entry(
                    rctx, "subcategory", category_id=categories[cat], code=code, name=code.title()
                )
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
