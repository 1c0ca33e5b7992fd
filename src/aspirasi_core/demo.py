"""Demo data for East Kalimantan: agencies, sub-categories, one account per role
and a few messages in every status. Used by ``aspirasi demo``; idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from .domain.model import Account, Role
from .services import Aspirasi, Context, StaffInput, SubmitInput
from .services.accounts import RegisterInput
from .services.admin import AccountChanges

AGENCIES: tuple[tuple[str, str], ...] = (
    ("diskominfo", "Dinas Komunikasi dan Informatika"),
    ("pupr-pera", "Dinas Pekerjaan Umum, Penataan Ruang dan Perumahan Rakyat"),
    ("dinkes", "Dinas Kesehatan"),
    ("disdikbud", "Dinas Pendidikan dan Kebudayaan"),
    ("dishub", "Dinas Perhubungan"),
    ("dlh", "Dinas Lingkungan Hidup"),
    ("dinsos", "Dinas Sosial"),
    ("bpbd", "Badan Penanggulangan Bencana Daerah"),
    ("disnakertrans", "Dinas Tenaga Kerja dan Transmigrasi"),
    ("dpmptsp", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"),
    ("bapenda", "Badan Pendapatan Daerah"),
    ("biro-perekonomian", "Biro Perekonomian"),
)

SUBCATEGORIES: dict[str, tuple[tuple[str, str], ...]] = {
    "aspirasi": (
        ("pembangunan", "Pembangunan Daerah"),
        ("pelayanan-publik", "Pelayanan Publik"),
        ("pendidikan", "Pendidikan"),
        ("kesehatan", "Kesehatan"),
        ("ekonomi", "Ekonomi dan Investasi"),
        ("lainnya", "Lainnya"),
    ),
    "aduan": (
        ("infrastruktur", "Jalan dan Infrastruktur"),
        ("pelayanan-publik", "Pelayanan Publik"),
        ("kesehatan", "Kesehatan"),
        ("pendidikan", "Pendidikan"),
        ("lingkungan", "Lingkungan Hidup"),
        ("transportasi", "Transportasi"),
        ("permasalahan-lahan", "Permasalahan Lahan"),
        ("lainnya", "Lainnya"),
    ),
}


@attrs.frozen
class DemoAccount:
    username: str
    password: str
    role: str
    description: str


#: One account per role. The passwords are public: demo mode only.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "superadmin", "etam-super-admin-demo", Role.SUPER_ADMIN, "Super Admin (and evaluator)"
    ),
    DemoAccount("admin", "etam-admin-demo", Role.ADMIN, "Admin: classifies and forwards"),
    DemoAccount(
        "operator.pupr", "etam-operator-demo", Role.OPERATOR, "Operator of Dinas PUPR-PERA"
    ),
    DemoAccount(
        "operator.biro",
        "etam-monitor-demo",
        Role.OPERATOR,
        "Operator of Biro Perekonomian, land-issue monitor",
    ),
    DemoAccount(
        "evaluator", "etam-evaluator-demo", Role.ADMIN, "Admin with the evaluator permission"
    ),
    DemoAccount("warga", "etam-warga-demo", Role.USER, "Citizen (NIK 6472045504910001)"),
    DemoAccount("warga2", "etam-warga2-demo", Role.USER, "Citizen (NIK 6471011203880002)"),
)

_CITIZEN_NIKS = {"warga": "6472045504910001", "warga2": "6471011203880002"}
_STAFF_AGENCY = {"operator.pupr": "pupr-pera", "operator.biro": "biro-perekonomian"}
_GRANTS = {"operator.biro": ("land_issue.monitor",), "evaluator": ("evaluator.evaluate",)}


async def load_demo(app: Aspirasi) -> list[DemoAccount]:
    """Create the demo data (skipping what exists) and return the demo accounts."""
    if not app.deps.settings.demo:
        raise RuntimeError("demo data is refused unless ASPIRASI_DEMO is on")
    deps = app.deps
    grantable = deps.policy.grantable()

    def find(username: str) -> Account | None:
        return deps.db.run_sync(lambda uow: uow.accounts.find_by_login(username), write=False)

    superadmin = find("superadmin")
    if superadmin is None:
        superadmin = app.admin.create_superadmin(
            "superadmin@aspirasi.example.go.id", "superadmin", DEMO_ACCOUNTS[0].password
        )
    root = Context(actor=superadmin.actor())

    existing_agencies = {a.code: a for a in await app.admin.agencies(root, include_inactive=True)}
    for code, name in AGENCIES:
        if code not in existing_agencies:
            existing_agencies[code] = await app.admin.create_entry(
                root, "agency", code=code, name=name
            )
    categories = {c.code: c for c in await app.admin.categories()}
    for cat_code, subs in SUBCATEGORIES.items():
        category = categories[cat_code]
        present = {
            s.code for s in await app.admin.subcategories(category.id, include_inactive=True)
        }
        for code, name in subs:
            if code not in present:
                await app.admin.create_entry(
                    root, "subcategory", category_id=category.id, code=code, name=name
                )

    accounts: dict[str, Account] = {"superadmin": superadmin}
    for demo in DEMO_ACCOUNTS[1:]:
        account = find(demo.username)
        if account is None:
            email = f"{demo.username.replace('.', '-')}@aspirasi.example.go.id"
            if demo.role == Role.USER:
                await app.accounts.register(
                    Context(),
                    RegisterInput(
                        email=email,
                        username=demo.username,
                        full_name=f"Warga Demo {demo.username[-1] if demo.username[-1].isdigit() else '1'}",
                        nik=_CITIZEN_NIKS[demo.username],
                        password=demo.password,
                        password_confirm=demo.password,
                    ),
                )
                account = find(demo.username)
                assert account is not None
                now = deps.clock.now()
                verified_id = account.id
                deps.db.run_sync(
                    lambda uow: uow.accounts.update(verified_id, email_verified_at=now)  # noqa: B023
                )
            else:
                agency_code = _STAFF_AGENCY.get(demo.username)
                account = await app.admin.create_staff(
                    root,
                    StaffInput(
                        email=email,
                        username=demo.username,
                        full_name=demo.description.split(":")[0].split("(")[0].strip(),
                        password=demo.password,
                        role=demo.role,
                        agency_id=existing_agencies[agency_code].id if agency_code else None,
                        permissions=tuple(
                            p for p in _GRANTS.get(demo.username, ()) if p in grantable
                        ),
                    ),
                )
        elif demo.username in _GRANTS:
            wanted = tuple(p for p in _GRANTS[demo.username] if p in grantable)
            if not set(wanted) <= account.permissions:
                account = await app.admin.update_account(
                    root,
                    account.id,
                    AccountChanges(permissions=tuple(account.permissions | set(wanted))),
                )
        accounts[demo.username] = find(demo.username) or account

    await _demo_messages(app, accounts, existing_agencies, categories)
    return list(DEMO_ACCOUNTS)


async def _demo_messages(app, accounts, agencies, categories) -> None:  # type: ignore[no-untyped-def]
    citizen = accounts["warga"]
    page = await app.queries.my_messages(Context(actor=citizen.actor()), limit=1)
    if page.items:
        return  # already loaded
    deps = app.deps
    subs = {
        (c_code, s.code): s
        for c_code, category in categories.items()
        for s in await app.admin.subcategories(category.id)
    }

    def ctx(name: str) -> Context:
        account = deps.db.run_sync(lambda uow: uow.accounts.find_by_login(name), write=False)
        return Context(actor=account.actor())

    warga, warga2 = ctx("warga"), ctx("warga2")
    admin, operator = ctx("admin"), ctx("operator.pupr")
    samples = [
        (
            warga,
            "Jalan berlubang di Jl. Juanda Samarinda",
            "Jalan di depan pasar Segiri berlubang besar dan membahayakan pengendara motor, mohon segera diperbaiki.",
        ),
        (
            warga,
            "Usulan taman baca di kelurahan",
            "Kami mengusulkan pembangunan taman baca anak di Kelurahan Sidodadi.",
        ),
        (
            warga2,
            "Sengketa lahan kebun warga di Kutai Kartanegara",
            "Lahan kebun kami seluas 2 hektar diklaim perusahaan tanpa ganti rugi. Mohon penyelesaian.",
        ),
        (
            warga2,
            "Lampu penerangan jalan padam",
            "Lampu PJU di jalan poros Balikpapan–Samarinda km 20 padam sejak seminggu.",
        ),
        (
            warga,
            "Pesan yang masih menunggu verifikasi",
            "Pesan ini belum diproses admin, sehingga masih bisa dihapus oleh pengirimnya.",
        ),
    ]
    # The story happened over the last three weeks, so that some messages are past
    # their SOP deadline (the overdue badges, the monitor's and the evaluator's views).
    real_clock = deps.clock
    deps.clock = _StoryClock(real_clock.now() - timedelta(days=21))
    try:
        await _demo_story(app, samples, agencies, categories, subs, admin, operator)
    finally:
        deps.clock = real_clock


class _StoryClock:
    """A clock in the past that moves on a few hours at each look."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        self.current += timedelta(hours=3)
        return self.current


async def _demo_story(app, samples, agencies, categories, subs, admin, operator) -> None:  # type: ignore[no-untyped-def]
    created = []
    for who, subject, body in samples:
        created.append(await app.messages.submit(who, SubmitInput(subject=subject, body=body)))
    pupr = agencies["pupr-pera"].id
    aduan = categories["aduan"].id
    aspirasi = categories["aspirasi"].id
    # 1: forwarded → in progress → progress → done
    await app.messages.act(
        admin,
        created[0].id,
        "forward",
        category_id=aduan,
        subcategory_id=subs[("aduan", "infrastruktur")].id,
        agency_id=pupr,
    )
    await app.messages.act(operator, created[0].id, "start")
    await app.messages.act(
        operator, created[0].id, "progress", note="Tim survei sudah meninjau lokasi."
    )
    await app.messages.act(
        operator,
        created[0].id,
        "reply",
        answer="Perbaikan jalan selesai dikerjakan pada minggu ini.",
    )
    # 2: forwarded, waiting for the agency
    await app.messages.act(
        admin,
        created[1].id,
        "forward",
        category_id=aspirasi,
        subcategory_id=subs[("aspirasi", "pembangunan")].id,
        agency_id=pupr,
    )
    # 3: a land dispute, forwarded and in progress
    await app.messages.act(
        admin,
        created[2].id,
        "forward",
        category_id=aduan,
        subcategory_id=subs[("aduan", "permasalahan-lahan")].id,
        agency_id=pupr,
    )
    await app.messages.act(
        operator, created[2].id, "start", note="Berkas diterima, dijadwalkan mediasi."
    )
    # 4: rejected
    await app.messages.act(
        admin, created[3].id, "reject", reason="Kewenangan PLN, silakan hubungi PLN setempat."
    )
    # 5 stays submitted


__all__ = ["AGENCIES", "DEMO_ACCOUNTS", "SUBCATEGORIES", "DemoAccount", "load_demo"]
