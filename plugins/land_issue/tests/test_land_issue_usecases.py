"""The plugin with the real use cases (SQLite and PostgreSQL): the default grant
(``aspirasi_default_permissions``) through ``app.admin.create_staff``, and the
e-mails to monitors through notify_email's development mailbox (demo mode),
end to end: event → outbox → delivered mail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import attrs
import pytest
from babel.dates import format_date

import aspirasi_land_issue
from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.model import Account, Role
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Aspirasi, Context, StaffInput, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.services.admin import AccountChanges
from aspirasi_core.settings import Settings
from aspirasi_core.testing import FakeClock
from aspirasi_notify_email import NotifyEmailPlugin, StoredMail

MONITOR = "land_issue.monitor"
BASE = "https://aspirasi.example.go.id"
LAND_KINDS = {"land_issue_forwarded", "land_issue_overdue"}


@attrs.define
class World:
    app: Aspirasi
    clock: FakeClock
    mail: NotifyEmailPlugin | None
    accounts: dict[str, Account] = attrs.field(factory=dict)
    ids: dict[str, int] = attrs.field(factory=dict)

    def ctx(self, name: str) -> Context:
        account = self.app.deps.db.run_sync(
            lambda uow: uow.accounts.get(self.accounts[name].id), write=False
        )
        return Context(actor=account.actor())

    def account(self, name: str) -> Account:
        return self.app.deps.db.run_sync(
            lambda uow: uow.accounts.get(self.accounts[name].id), write=False
        )

    def deliver(self) -> int:
        """Run the outbox dispatcher until nothing is due; how many items it delivered."""
        delivered = 0
        for _ in range(100):
            stats = self.app.outbox.run_once_sync()
            if not stats.handled:
                return delivered
            assert stats.dead == 0 and stats.retried == 0, stats
            delivered += stats.delivered
        raise AssertionError("the outbox never ran dry")

    def mails(self) -> list[StoredMail]:
        assert self.mail is not None and self.mail.mailbox is not None
        return self.mail.mailbox.list(limit=1000)

    def land_mails(self) -> list[StoredMail]:
        return [m for m in self.mails() if m.kind in LAND_KINDS]

    def email(self, name: str) -> str:
        return self.accounts[name].email

    def forward(self, message: str, agency: str, subcategory: str, note: str = "") -> None:
        anyio.run(
            lambda: self.app.messages.act(
                self.ctx("admin"),
                self.ids[message],
                "forward",
                category_id=self.ids["aduan"],
                subcategory_id=self.ids[subcategory],
                agency_id=self.ids[agency],
                note=note,
            )
        )

    def sweep(self) -> int:
        return anyio.run(self.app.sop.sweep)


def build(database: Any, tmp_path: Any, *, notify: bool = True, **overrides: Any) -> World:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "secret_key": "land-issue-test-secret-" * 2,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "storage_path": str(tmp_path / "files"),
        "base_url": BASE + "/",
        "demo": True,  # notify_email delivers into its development mailbox
        "outbox_inline": False,
        "sop_holiday_country": "",
    }
    values.update(overrides)
    settings = Settings(**values)
    mail = NotifyEmailPlugin() if notify else None
    plugins: list[object] = [aspirasi_land_issue, *([mail] if mail else [])]
    pm = create_plugin_manager(settings, load_entry_points=False, extra_plugins=plugins)
    # Monday 2 November 2026, 09:00 in Samarinda (WITA).
    clock = FakeClock()
    app = bootstrap(settings, plugin_manager=pm, database=database, clock=clock)
    return World(app=app, clock=clock, mail=mail)


def populate(world: World) -> None:
    """Three agencies (Biro Perekonomian among them), an admin, monitors made three
    ways, staff who are not monitors, a citizen and four complaints."""
    app = world.app

    async def go() -> None:
        root = app.admin.create_superadmin("root@example.org", "root", "root-long-password")
        world.accounts["root"] = root
        rctx = Context(actor=root.actor())
        for code, name in (
            ("biro-perekonomian", "Biro Perekonomian"),
            ("pupr", "Dinas PUPR"),
            ("dinkes", "Dinas Kesehatan"),
        ):
            world.ids[code] = (
                await app.admin.create_entry(rctx, "agency", code=code, name=name)
            ).id
        staff = (
            ("admin", Role.ADMIN, None, ()),
            ("mon_ekon", Role.OPERATOR, "biro-perekonomian", ()),  # by default
            ("mon_ekon2", Role.OPERATOR, "biro-perekonomian", ()),  # by default
            ("mon_granted", Role.ADMIN, None, (MONITOR,)),  # ticked by the super admin
            ("ex_monitor", Role.OPERATOR, "biro-perekonomian", ()),  # taken away below
            ("op_pupr", Role.OPERATOR, "pupr", ()),
            ("op_dinkes", Role.OPERATOR, "dinkes", ()),
        )
        for username, role, agency, permissions in staff:
            world.accounts[username] = await app.admin.create_staff(
                rctx,
                StaffInput(
                    email=f"{username.replace('_', '-')}@example.org",
                    username=username,
                    full_name=f"Staff {username}",
                    password=f"{username}-long-password",
                    role=role,
                    agency_id=world.ids[agency] if agency else None,
                    permissions=permissions,
                ),
            )
        await app.admin.update_account(
            rctx, world.accounts["ex_monitor"].id, AccountChanges(permissions=())
        )
        app.deps.db.run_sync(
            lambda uow: uow.accounts.update(world.accounts["mon_ekon2"].id, language="en")
        )
        citizen = await app.accounts.register(
            Context(),
            RegisterInput(
                email="ani@example.org",
                username="ani",
                full_name="Ani",
                nik="6472045504910001",
                password="ani-long-password",
                password_confirm="ani-long-password",
            ),
        )
        assert citizen is not None
        now = app.deps.clock.now()
        app.deps.db.run_sync(lambda uow: uow.accounts.update(citizen.id, email_verified_at=now))
        world.accounts["ani"] = citizen
        cctx = world.ctx("ani")
        cats = {c.code: c.id for c in await app.admin.categories()}
        world.ids["aduan"] = cats["aduan"]
        subs = {s.code: s.id for s in await app.admin.subcategories(cats["aduan"])}
        world.ids["land"] = subs["permasalahan-lahan"]
        world.ids["road"] = (
            await app.admin.create_entry(
                rctx, "subcategory", category_id=cats["aduan"], code="jalan", name="Jalan"
            )
        ).id
        for name in ("land1", "land2", "road1"):
            message = await app.messages.submit(
                cctx, SubmitInput(subject=f"Subject {name}", body="Isi aduan.")
            )
            world.ids[name] = message.id

    anyio.run(go)


@pytest.fixture
def world(database: Any, tmp_path: Any) -> World:
    w = build(database, tmp_path)
    populate(w)
    w.deliver()
    return w


MONITORS = ("mon_ekon", "mon_ekon2", "mon_granted")


def test_aspirasi_default_permissions_makes_new_operators_of_the_agency_monitors(world):
    """``create_staff`` adds what ``aspirasi_default_permissions`` returns."""
    assert MONITOR in world.account("mon_ekon").permissions
    assert MONITOR in world.account("mon_ekon2").permissions
    assert MONITOR in world.account("mon_granted").permissions  # ticked explicitly
    assert MONITOR not in world.account("op_pupr").permissions
    assert MONITOR not in world.account("admin").permissions
    assert MONITOR not in world.account("ex_monitor").permissions  # the super admin took it


def test_the_agency_of_the_default_grant_is_a_setting(database, tmp_path):
    w = build(database, tmp_path, notify=False, extra={"land_issue_agency": "pupr"})
    app = w.app

    async def go() -> tuple[Account, Account, Account]:
        root = app.admin.create_superadmin("root@example.org", "root", "root-long-password")
        rctx = Context(actor=root.actor())
        made = []
        for code in ("pupr", "biro-perekonomian"):
            agency = await app.admin.create_entry(rctx, "agency", code=code, name=code)
            made.append(
                await app.admin.create_staff(
                    rctx,
                    StaffInput(
                        email=f"op-{code}@example.org",
                        username=f"op_{code.replace('-', '_')}",
                        full_name="Operator",
                        password="operator-long-password",
                        role=Role.OPERATOR,
                        agency_id=agency.id,
                    ),
                )
            )
        admin = await app.admin.create_staff(
            rctx,
            StaffInput(
                email="admin@example.org",
                username="admin",
                full_name="Admin",
                password="admin-long-password",
                role=Role.ADMIN,
            ),
        )
        return made[0], made[1], admin

    op_pupr, op_ekon, admin = anyio.run(go)
    assert op_pupr.permissions == frozenset({MONITOR})
    assert op_ekon.permissions == frozenset()
    assert admin.permissions == frozenset()


def test_forwarding_a_land_dispute_mails_every_monitor_and_nobody_else(world):
    world.forward("land1", "pupr", "land", note="Mohon segera ditinjau.")
    world.deliver()
    land = world.land_mails()
    assert sorted(m.to for m in land) == sorted(world.email(n) for n in MONITORS)
    assert {m.kind for m in land} == {"land_issue_forwarded"}
    # Nobody else hears of it as a land dispute: the super admin (who holds every
    # permission), the former monitor, the admin and the agency get no land mail.
    by_name = {m.to: m for m in land}
    mid = world.ids["land1"]
    indonesian = by_name[world.email("mon_ekon")]
    assert indonesian.language == "id"
    assert "Dinas PUPR" in indonesian.subject and "diteruskan" in indonesian.subject
    for body in (indonesian.text, indonesian.html):
        assert "Dinas PUPR" in body
        assert f"{BASE}/backoffice/messages/{mid}" in body
        assert f"{BASE}/land-issues" in body
        assert "Mohon segera ditinjau." in body
    assert "Batas waktu konfirmasi (SOP)" in indonesian.text
    english = by_name[world.email("mon_ekon2")]
    assert english.language == "en"
    assert "Land-dispute complaint" in english.text and "Dinas PUPR" in english.text
    assert "forwarded to Dinas PUPR" in english.subject
    # The agency's operators still get their own (bundled) mail.
    assert [m.kind for m in world.mails() if m.to == world.email("op_pupr")] == [
        "message_forwarded"
    ]


def test_forwarding_another_subcategory_mails_no_monitor(world):
    before = {m.id for m in world.mails()}
    world.forward("road1", "pupr", "road")
    world.deliver()
    new = [m for m in world.mails() if m.id not in before]
    assert sorted(m.to for m in new) == sorted([world.email("op_pupr"), world.email("ani")])
    assert world.land_mails() == []


def test_reforwarding_mails_the_monitors_again_with_the_new_agency(world):
    world.forward("land1", "pupr", "land")
    world.deliver()
    world.forward("land1", "dinkes", "land")
    world.deliver()
    land = world.land_mails()  # newest first
    assert len(land) == 2 * len(MONITORS)
    latest = next(m for m in land if m.to == world.email("mon_ekon"))
    assert "dialihkan" in latest.subject and "Dinas Kesehatan" in latest.subject


def test_an_overdue_land_dispute_mails_the_monitors_once(world):
    world.forward("land1", "pupr", "land")
    world.forward("road1", "dinkes", "road")
    world.deliver()
    forwarded = len(world.land_mails())
    message = world.app.deps.db.run_sync(
        lambda uow: uow.messages.get(world.ids["land1"]), write=False
    )
    assert message.due_at is not None
    world.clock.current = message.due_at - timedelta(seconds=1)
    assert world.sweep() == 0
    world.clock.current = message.due_at + timedelta(hours=1)
    assert world.sweep() == 2  # both forwarded messages are late
    world.deliver()
    overdue = [m for m in world.land_mails() if m.kind == "land_issue_overdue"]
    assert len(world.land_mails()) == forwarded + len(MONITORS)
    assert sorted(m.to for m in overdue) == sorted(world.email(n) for n in MONITORS)
    mail = next(m for m in overdue if m.to == world.email("mon_ekon"))
    # The deadline's last day in the pages' long date style, in the mail's language.
    due = format_date(world.app.sop.due_date(message.due_at), "EEEE, d MMMM y", locale="id")
    assert "terlambat" in mail.subject and "Dinas PUPR" in mail.subject
    assert "Subject land1" in mail.text and due in mail.text
    assert "belum dikonfirmasi" in mail.text
    assert f"{BASE}/backoffice/messages/{world.ids['land1']}" in mail.text
    assert f"{BASE}/land-issues" in mail.html
    english = next(m for m in overdue if m.to == world.email("mon_ekon2"))
    assert "is overdue at Dinas PUPR" in english.subject
    # A second sweep announces nothing more, and no mail follows; later sweeps
    # (which announce the triage deadline of the message nobody forwarded) send
    # the monitors nothing either.
    total = len(world.mails())
    assert world.sweep() == 0
    world.deliver()
    assert len(world.mails()) == total
    world.clock.current += timedelta(days=3)
    assert world.sweep() == 1
    world.deliver()
    assert len(world.land_mails()) == forwarded + len(MONITORS)


def test_without_notify_email_nothing_breaks_and_nothing_is_queued(database, tmp_path):
    w = build(database, tmp_path, notify=False)
    populate(w)
    w.forward("land1", "pupr", "land")
    message = w.app.deps.db.run_sync(lambda uow: uow.messages.get(w.ids["land1"]), write=False)
    w.clock.current = message.due_at + timedelta(hours=1)
    assert w.sweep() == 1
    assert w.deliver() == 0


def test_disabling_land_issue_stops_its_mail_kinds(database, tmp_path):
    # One registry: a blocked plugin is not registered, so neither are its kinds
    # (given in code, the module is named after itself, not its entry point).
    w = build(database, tmp_path, disabled_plugins=("aspirasi_land_issue",))
    assert w.mail is not None
    assert not LAND_KINDS & set(w.mail.kinds.names())
    assert "message_forwarded" in w.mail.kinds.names()
    enabled = build(database, tmp_path)
    assert enabled.mail is not None
    assert set(enabled.mail.kinds.names()) >= LAND_KINDS
