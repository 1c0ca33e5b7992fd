# ruff: noqa: S105, S603, S608 - fixed bench password, our own commands, table names from tables.py
"""A deterministic benchmark data set, written fast into SQLite or PostgreSQL.

The schema comes from ``aspirasi db upgrade`` (the real migrations); rows are written
with the column lists of the core's tables (``aspirasi_core.storage.tables``): raw
``executemany`` in big batches on SQLite, ``COPY`` (psycopg 3 ``cursor.copy``) on
PostgreSQL. NIKs are stored exactly as the core stores them (AES-GCM cipher text,
HMAC blind index, masked copy: :class:`aspirasi_core.security.crypto.Crypto`), so
tracking by NIK finds them. One argon2 hash (the app's parameters) serves every account.

The data set for ``size`` messages, seed ``seed``:

* 50 agencies; the first holds 20% of the forwarded messages, the others share the rest;
* citizens with 1-3 messages each (about ``size / 2`` accounts), each with a valid NIK;
* a super admin, an admin and one operator per agency;
* statuses: 10% submitted, 20% forwarded, 30% in progress, 30% done, 5% rejected,
  5% withdrawn; 10% confidential; created over two years, in id order;
* a log entry per transition, a reply for every done message, a rating for half of
  them, an attachment row for 10% of the messages (no file behind it).

Seeded databases are cached under ``var/bench/`` keyed by size, seed, the hash of the
migrations (schema revision) and ``DATA_VERSION``; a run works on a copy.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aspirasi_core.domain.log_chain import GENESIS, ChainLink, entry_hash
from aspirasi_core.domain.nik import mask_nik
from aspirasi_core.domain.sop import WorkingCalendar
from aspirasi_core.security.crypto import Crypto
from aspirasi_core.security.passwords import PasswordHasher
from aspirasi_core.settings import Settings
from aspirasi_core.storage import tables as T

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/{db}"
#: The PostgreSQL databases carry a tag of the checkout, so two checkouts (git worktrees)
#: benchmarking at once on one server don't drop each other's databases.
CHECKOUT_TAG = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]


def pg_name(size_label: str, suffix: str = "") -> str:
    """``aspirasi_bench_<size>_<checkout tag><suffix>``."""
    return f"aspirasi_bench_{size_label}_{CHECKOUT_TAG}{suffix}"


SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DEFAULT_SEED = 20261128
#: Bump when the generated rows change (part of the cache key, with the migrations).
DATA_VERSION = 5  # 5: open messages' due_at from the working calendar, as the core's
AGENCIES = 50
HEAVY_SHARE = 0.20
#: The one password of every seeded account (hashed once).
PASSWORD = "bench-password-etam-2026"
SUPERADMIN = "bench.superadmin"
ADMIN = "bench.admin"
BATCH = 50_000
#: Started messages whose agency confirms late (5 days after the forward instead
#: of 1), and done ones whose agency replies late (30 days after its progress
#: note instead of 1): ``messages.sop_missed`` (migration 0012) is then true, as
#: the transitions would have recorded it.
LATE_CONFIRM_SHARE = 0.15
LATE_REPLY_SHARE = 0.10
START = datetime(2024, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=730)

STATUS_WEIGHTS = (
    ("submitted", 10),
    ("forwarded", 20),
    ("in_progress", 30),
    ("done", 30),
    ("rejected", 5),
    ("withdrawn", 5),
)
_TICKET_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
WORDS = [
    "jalan",
    "rusak",
    "banjir",
    "lampu",
    "jembatan",
    "sekolah",
    "puskesmas",
    "air",
    "bersih",
    "sampah",
    "drainase",
    "pasar",
    "izin",
    "tanah",
    "sertifikat",
    "pelayanan",
    "antrian",
    "kantor",
    "desa",
    "kelurahan",
    "bantuan",
    "sosial",
    "listrik",
    "angkutan",
    "terminal",
    "pelabuhan",
    "hutan",
    "tambang",
    "lubang",
    "longsor",
    "parit",
    "trotoar",
    "taman",
]


# --------------------------------------------------------------------------- helpers
def schema_key() -> str:
    """Hash of every migration file (core and bundled plugins) and of ``DATA_VERSION``."""
    h = hashlib.sha256()
    folders = [ROOT / "src" / "aspirasi_core" / "storage" / "migrations"]
    folders += sorted((ROOT / "plugins").glob("*/src/*"))
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            if "migrations" in path.parts or "versions" in path.parts:
                h.update(str(path.relative_to(ROOT)).encode())
                h.update(path.read_bytes())
    h.update(f"data-version {DATA_VERSION}".encode())
    return h.hexdigest()[:12]


#: Plugins switched off on top of ``rate_limit`` (``python -m bench.run --disable-plugins``).
EXTRA_DISABLED: list[str] = []


def cache_key(size: int, seed: int) -> str:
    off = "".join(f"-no-{name}" for name in sorted(EXTRA_DISABLED))
    return f"{size}-{seed}-{schema_key()}{off}"


def nik_of(i: int) -> str:
    """A valid, unique NIK for citizen ``i`` (Samarinda district codes, dates 1960-99)."""
    serial = i // 13440 + 1
    rest = i % 13440
    year = 60 + rest // 336
    month = (rest % 336) // 28 + 1
    day = rest % 28 + 1 + (40 if (i // 3) % 2 else 0)
    return f"647204{day:02d}{month:02d}{year:02d}{serial:04d}"


def ticket_of(i: int, at: datetime) -> str:
    x = i * 2654435761 % (32**8)
    tail = "".join(_TICKET_ALPHABET[(x >> (5 * k)) & 31] for k in range(8))
    return f"{at:%y%m}-{tail}"


def bench_env(backend: str, size_label: str, db_path: Path | None = None) -> dict[str, str]:
    """The ``ASPIRASI_*`` settings of the benchmark (production-like)."""
    if backend == "sqlite":
        assert db_path is not None
        url = f"sqlite:///{db_path}"
    else:
        url = PG_URL.format(db=pg_name(size_label))
    return {
        "ASPIRASI_ENV": "production",
        "ASPIRASI_SECRET_KEY": "bench-secret-key-0123456789abcdef-not-for-production",
        "ASPIRASI_BASE_URL": "https://aspirasi.bench.example",
        "ASPIRASI_DATABASE_URL": url,
        "ASPIRASI_STORAGE_PATH": str(VAR / "storage"),
        # Production wants an SMTP host; nothing listens there, and outbox delivery is
        # left to separate `aspirasi outbox run` workers (not started): mails are
        # rendered and queued in the request, as in production, but never sent.
        "ASPIRASI_SMTP_HOST": "127.0.0.1",
        "ASPIRASI_SMTP_PORT": "2",
        "ASPIRASI_OUTBOX_INLINE": "false",
        # Rate limits would answer 429 to a load generator: off for the benchmark.
        "ASPIRASI_DISABLED_PLUGINS": ",".join(["rate_limit", *EXTRA_DISABLED]),
        "ASPIRASI_LOG_JSON": "true",
        "ASPIRASI_LOG_LEVEL": "INFO",
    }


def _settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


def _upgrade(env: dict[str, str]) -> None:
    full = {**os.environ, **env}
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "aspirasi"), "db", "upgrade"],
        env=full,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------- generation
class DataSet:
    """Generates the rows; ``rows(table)`` yields tuples in the table's column order."""

    def __init__(
        self,
        size: int,
        seed: int,
        crypto: Crypto,
        password_hash: str,
        settings: Settings | None = None,
    ) -> None:
        self.size = size
        self.seed = seed
        self.crypto = crypto
        self.password_hash = password_hash
        # The SOP the app runs with (no extra days off are seeded), for sop_missed.
        sop = settings or Settings.from_env({})
        self.calendar = WorkingCalendar(
            timezone=ZoneInfo(sop.timezone), country=sop.sop_holiday_country.upper()
        )
        self.triage_days = sop.sop_triage_days
        self.confirm_days = sop.sop_confirm_days
        self.reply_days = sop.sop_reply_days
        self._deadlines: dict[tuple[date, int], datetime] = {}
        rng = random.Random(seed)
        self.rng = rng
        # Citizens own 1-3 messages each; messages are dealt to them in random order.
        authors: list[int] = []
        citizen = 0
        while len(authors) < size:
            authors.extend([citizen] * rng.choice((1, 2, 3)))
            citizen += 1
        del authors[size:]
        rng.shuffle(authors)
        self.citizens = citizen
        self.authors = authors
        # Account ids: 1 super admin, 2 admin, 3..52 operators, then citizens.
        self.first_operator = 3
        self.first_citizen = self.first_operator + AGENCIES
        self.first_agency = 1

    def _due(self, began: datetime, days: int) -> datetime:
        """The deadline of a stage begun at ``began`` with ``days`` working days
        (:meth:`WorkingCalendar.due_at`, as the core sets ``due_at``), one calendar
        walk per local start day."""
        key = (self.calendar.local_date(began), days)
        due = self._deadlines.get(key)
        if due is None:
            due = self._deadlines[key] = self.calendar.due_at(began, days)
        return due

    def _late(self, began: datetime, ended: datetime, days: int) -> bool:
        """Whether a stage begun at ``began`` with ``days`` working days ended at
        or after its deadline."""
        return ended >= self._due(began, days)

    # ---------------------------------------------------------------- small tables
    def agencies(self) -> list[dict[str, Any]]:
        rows = [
            {
                "id": self.first_agency,
                "code": "bench-pd-heavy",
                "name": "Dinas Beban Berat (bench)",
                "is_active": True,
            }
        ]
        for k in range(1, AGENCIES):
            rows.append(
                {
                    "id": self.first_agency + k,
                    "code": f"bench-pd-{k:02d}",
                    "name": f"Perangkat Daerah {k:02d}",
                    "is_active": True,
                }
            )
        return rows

    def staff(self) -> list[dict[str, Any]]:
        now = START
        base = {
            "permissions": "[]",
            "is_active": True,
            "email_verified_at": now,
            "language": "id",
            "created_at": now,
            "password_hash": self.password_hash,
            "nik_encrypted": None,
            "nik_index": None,
            "nik_masked": None,
            "auth_version": 1,
        }
        out = [
            {
                **base,
                "id": 1,
                "email": "superadmin@bench.example",
                "username": SUPERADMIN,
                "full_name": "Bench Super Admin",
                "role": "super_admin",
                "agency_id": None,
            },
            {
                **base,
                "id": 2,
                "email": "admin@bench.example",
                "username": ADMIN,
                "full_name": "Bench Admin",
                "role": "admin",
                "agency_id": None,
            },
        ]
        for k in range(AGENCIES):
            out.append(
                {
                    **base,
                    "id": self.first_operator + k,
                    "email": f"operator{k:02d}@bench.example",
                    "username": f"bench.operator{k:02d}",
                    "full_name": f"Operator {k:02d}",
                    "role": "operator",
                    "agency_id": self.first_agency + k,
                }
            )
        return out

    def account_rows(self) -> Iterator[list[dict[str, Any]]]:
        yield self.staff()
        batch: list[dict[str, Any]] = []
        crypto = self.crypto
        for c in range(self.citizens):
            nik = nik_of(c)
            at = START + timedelta(seconds=c)
            row = {
                "id": self.first_citizen + c,
                "email": f"warga{c}@bench.example",
                "username": f"warga{c}",
                "full_name": f"Warga {c}",
                "role": "user",
                "agency_id": None,
                "permissions": "[]",
                "is_active": True,
                "email_verified_at": at,
                "language": "id",
                "created_at": at,
                "password_hash": self.password_hash,
                "nik_encrypted": crypto.encrypt_nik(nik),
                "nik_index": crypto.nik_index(nik),
                "nik_masked": mask_nik(nik),
                "auth_version": 1,
            }
            batch.append(row)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    # ---------------------------------------------------------------- messages
    def message_batches(self) -> Iterator[dict[str, list[dict[str, Any]]]]:
        """Batches of rows for messages, message_log, replies, ratings, attachments."""
        rng = random.Random(self.seed + 1)
        statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
        step = SPAN / self.size
        log_id = reply_id = attachment_id = 0
        day = timedelta(days=1)
        # The working days of each open status's stage (the core's SopDays).
        stage_days = {
            "submitted": self.triage_days,
            "forwarded": self.confirm_days,
            "in_progress": self.reply_days,
        }
        out: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("messages", "message_log", "replies", "ratings", "attachments")
        }
        for i in range(self.size):
            mid = i + 1
            created = START + step * i
            status = statuses[rng.randrange(100)]
            author = self.first_citizen + self.authors[i]
            confidential = rng.random() < 0.10
            anonymous = rng.random() < 0.05
            agency = None
            category = None
            if status in ("forwarded", "in_progress", "done"):
                agency = (
                    self.first_agency
                    if rng.random() < HEAVY_SHARE
                    else self.first_agency + 1 + rng.randrange(AGENCIES - 1)
                )
                category = 1 + rng.randrange(2)
            late_confirm = rng.random() < LATE_CONFIRM_SHARE
            late_reply = rng.random() < LATE_REPLY_SHARE
            n = 6 + rng.randrange(10)
            subject = " ".join(rng.choice(WORDS) for _ in range(n))[:280].capitalize()
            body = " ".join(rng.choice(WORDS) for _ in range(30 + rng.randrange(40)))
            transitions: list[tuple[str, str | None, str, int | None, int | None, str]] = [
                ("submit", None, "submitted", author, None, "")
            ]
            if status == "withdrawn":
                transitions.append(("withdraw", "submitted", "withdrawn", author, None, ""))
            elif status == "rejected":
                transitions.append(("reject", "submitted", "rejected", 2, None, "Tidak jelas."))
            elif status != "submitted":
                assert agency is not None
                operator = self.first_operator + (agency - self.first_agency)
                transitions.append(("forward", "submitted", "forwarded", 2, agency, ""))
                if status in ("in_progress", "done"):
                    transitions.append(("start", "forwarded", "in_progress", operator, agency, ""))
                    transitions.append(
                        (
                            "progress",
                            "in_progress",
                            "in_progress",
                            operator,
                            agency,
                            "Sedang ditinjau di lapangan.",
                        )
                    )
                if status == "done":
                    transitions.append(
                        ("reply", "in_progress", "done", operator, agency, "Sudah ditangani.")
                    )
            at = created
            # The milestones (migration 0008), as the transitions set them.
            milestones: dict[str, datetime | None] = dict.fromkeys(
                ("forwarded_at", "started_at", "closed_at")
            )
            # The hash chain (migration 0011), as add_log writes it.
            prev_hash = GENESIS
            ticket = ticket_of(mid, created)
            for seq, (action, from_s, to_s, actor, ag, note) in enumerate(transitions, 1):
                visibility = "internal" if action in ("forward", "reforward") else "sender"
                digest = entry_hash(
                    ChainLink(
                        ticket,
                        seq,
                        prev_hash,
                        at,
                        actor,
                        action,
                        from_s,
                        to_s,
                        note,
                        visibility,
                        ag,
                    )
                )
                if action in ("forward", "reforward"):
                    milestones["forwarded_at"] = at
                elif action == "start":
                    milestones["started_at"] = at
                if to_s in ("done", "rejected", "withdrawn"):
                    milestones["closed_at"] = at
                log_id += 1
                out["message_log"].append(
                    {
                        "id": log_id,
                        "message_id": mid,
                        "actor_id": actor,
                        "action": action,
                        "from_status": from_s,
                        "to_status": to_s,
                        "note": note,
                        "at": at,
                        "agency_id": ag,
                        # migration 0004: forwarding notes are internal by default
                        "note_visibility": visibility,
                        "seq": seq,
                        "prev_hash": prev_hash,
                        "entry_hash": digest,
                    }
                )
                prev_hash = digest
                gap = day
                if action == "forward" and late_confirm and status != "forwarded":
                    gap = 5 * day
                elif action == "progress" and late_reply and status == "done":
                    gap = 30 * day
                at = at + gap
            updated = at - gap
            # Whether its agency missed a deadline (migration 0012), as act() records it.
            sop_missed = False
            if milestones["forwarded_at"] and milestones["started_at"]:
                sop_missed = self._late(
                    milestones["forwarded_at"], milestones["started_at"], self.confirm_days
                )
                if milestones["closed_at"] and not sop_missed:
                    sop_missed = self._late(
                        milestones["started_at"], milestones["closed_at"], self.reply_days
                    )
            is_open = status in stage_days
            out["messages"].append(
                {
                    "id": mid,
                    "ticket": ticket_of(mid, created),
                    "author_id": author,
                    "subject": subject,
                    "body": body,
                    "status": status,
                    "confidential": confidential,
                    "anonymous": anonymous,
                    "category_id": category,
                    "subcategory_id": None,
                    "agency_id": agency,
                    "created_at": created,
                    "updated_at": updated,
                    # SOP clock (migration 0002), when the schema has it.
                    "stage_started_at": updated if is_open else None,
                    # The deadline the core gives the stage (aspirasi db upgrade's
                    # re-timing then moves none: it rewrote 600,000 rows at 1M).
                    "due_at": self._due(updated, stage_days[status]) if is_open else None,
                    # WORDS hold no personal data: nothing to mask (migration 0004)
                    "subject_public": None,
                    "body_public": None,
                    **milestones,
                    "sop_missed": sop_missed,
                    # 1 when sent, one more per transition (and the rating, below).
                    "version": len(transitions),
                }
            )
            if status == "done":
                reply_id += 1
                operator = self.first_operator + (agency - self.first_agency)  # type: ignore[operator]
                out["replies"].append(
                    {
                        "id": reply_id,
                        "message_id": mid,
                        "author_id": operator,
                        "answer": "Terima kasih, sudah kami tangani. " + body[:200],
                        "attachment_id": None,
                        "created_at": updated,
                        "visibility": "sender",
                    }
                )
                if rng.random() < 0.5:
                    out["messages"][-1]["version"] += 1
                    out["ratings"].append(
                        {
                            "message_id": mid,
                            "stars": 1 + rng.randrange(5),
                            "comment": "",
                            "created_at": updated + day,
                        }
                    )
            if rng.random() < 0.10:
                attachment_id += 1
                out["attachments"].append(
                    {
                        "id": attachment_id,
                        "message_id": mid,
                        "kind": "message",
                        "filename": "foto.jpg",
                        "content_type": "image/jpeg",
                        "size": 120_000,
                        "storage_key": f"bench/{mid:08d}.jpg",
                        "sha256": hashlib.sha256(str(mid).encode()).hexdigest(),
                        "created_at": created,
                    }
                )
            if len(out["messages"]) >= BATCH:
                yield out
                out = {k: [] for k in out}
        if out["messages"]:
            yield out


def _columns(table: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The columns the rows name, in ``tables.py`` order; refuse a required column they lack.

    A column the rows leave out takes its server default (``messages.version`` and the like),
    so a new column with a default does not break the seeder.
    """
    cols = [c.name for c in T.metadata.tables[table].columns if c.name in rows[0]]
    for c in T.metadata.tables[table].columns:
        if (
            not c.nullable
            and c.server_default is None
            and not c.primary_key
            and c.name not in rows[0]
        ):
            raise RuntimeError(f"bench/seed.py is out of date: {table}.{c.name} is required")
    return cols


# --------------------------------------------------------------------------- writers
def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, bool):
        return int(v)
    return v


def _sqlite_rows(cols: list[str], rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(_sqlite_value(row.get(c)) for c in cols) for row in rows]


class SqliteWriter:
    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.conn.execute("PRAGMA cache_size=-200000")
        self.conn.execute("BEGIN")

    def write(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = _columns(table, rows)
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self.conn.executemany(sql, _sqlite_rows(cols, rows))

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        # No ANALYZE here: working_sqlite gathers the statistics as the service does.
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


class PostgresWriter:
    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.conn = psycopg.connect(url.replace("postgresql://", "postgresql://", 1))
        self.conn.execute("SET session_replication_role = replica")  # no FK triggers while loading

    def write(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = _columns(table, rows)
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(tuple(row.get(c) for c in cols))

    def finish(self) -> None:
        self.conn.execute("SET session_replication_role = DEFAULT")
        for table in ("agencies", "accounts", "messages", "message_log", "replies", "attachments"):
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        self.conn.commit()
        self.conn.autocommit = True
        # Autovacuum would analyze the freshly loaded tables soon; do it now, once.
        self.conn.execute("VACUUM ANALYZE")
        self.conn.close()


def _fill(writer: Any, data: DataSet) -> dict[str, int]:
    counts: dict[str, int] = {}
    writer.write("agencies", data.agencies())
    for batch in data.account_rows():
        writer.write("accounts", batch)
        counts["accounts"] = counts.get("accounts", 0) + len(batch)
    for batch in data.message_batches():
        for table in ("messages", "message_log", "replies", "ratings", "attachments"):
            writer.write(table, batch[table])
            counts[table] = counts.get(table, 0) + len(batch[table])
    writer.finish()
    return counts


def _password_hash(settings: Settings) -> str:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    ).hash(PASSWORD)


# --------------------------------------------------------------------------- entry points
def ensure_sqlite(size_label: str, seed: int = DEFAULT_SEED, log: Any = print) -> dict[str, Any]:
    """A cached seeded SQLite file for the size; returns facts (path, seconds, counts)."""
    size = SIZES[size_label]
    VAR.mkdir(parents=True, exist_ok=True)
    key = cache_key(size, seed)
    path = VAR / f"seed-sqlite-{size_label}-{key}.db"
    if path.exists():
        return {"path": str(path), "cached": True, "seconds": 0.0, "key": key}
    for old in VAR.glob(f"seed-sqlite-{size_label}-*.db*"):
        old.unlink()
    tmp = path.with_suffix(".tmp.db")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        p.unlink(missing_ok=True)
    started = time.perf_counter()
    env = bench_env("sqlite", size_label, tmp)
    _upgrade(env)
    settings = _settings(env)
    data = DataSet(size, seed, Crypto(settings.secret_key), _password_hash(settings), settings)
    log(f"seeding SQLite {size_label} ({size} messages, {data.citizens} citizens) ...")
    counts = _fill(SqliteWriter(tmp), data)
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.rename(path)
    seconds = time.perf_counter() - started
    log(f"seeded SQLite {size_label} in {seconds:.1f} s: {counts}")
    return {
        "path": str(path),
        "cached": False,
        "seconds": round(seconds, 1),
        "key": key,
        "rows": counts,
    }


def working_sqlite(seed_path: str, size_label: str) -> Path:
    """A fresh copy of the seeded file for one run (runs write to it)."""
    work = VAR / f"run-sqlite-{size_label}.db"
    for p in (work, Path(str(work) + "-wal"), Path(str(work) + "-shm")):
        p.unlink(missing_ok=True)
    shutil.copyfile(seed_path, work)
    # The planner's statistics, as the service gathers them (``aspirasi db upgrade``
    # and the outbox worker's hourly sweep): a sampled ANALYZE, ~30 ms at 1M.
    from sqlalchemy import create_engine

    from aspirasi_core.storage.engine import refresh_statistics

    engine = create_engine(f"sqlite:///{work}")
    try:
        with engine.begin() as conn:
            refresh_statistics(conn)
    finally:
        engine.dispose()
    # On disk before the run: otherwise the kernel writes the copy back (1.8 GB at
    # 1M) while the first routes are measured.
    with open(work, "rb+") as fh:
        os.fsync(fh.fileno())
    return work


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def ensure_postgres(size_label: str, seed: int = DEFAULT_SEED, log: Any = print) -> dict[str, Any]:
    """A cached seeded template database ``aspirasi_bench_<size>_<tag>_seed``."""
    size = SIZES[size_label]
    key = cache_key(size, seed)
    name = pg_name(size_label, "_seed")
    with _pg_admin() as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        if row is not None and row[0] == key:
            return {"database": name, "cached": True, "seconds": 0.0, "key": key}
        started = time.perf_counter()
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    env = bench_env("postgresql", size_label)
    env["ASPIRASI_DATABASE_URL"] = PG_URL.format(db=name)
    _upgrade(env)
    settings = _settings(env)
    data = DataSet(size, seed, Crypto(settings.secret_key), _password_hash(settings), settings)
    log(f"seeding PostgreSQL {size_label} ({size} messages, {data.citizens} citizens) ...")
    counts = _fill(PostgresWriter(PG_URL.format(db=name)), data)
    with _pg_admin() as admin:
        admin.execute(f"COMMENT ON DATABASE {name} IS '{key}'")
    seconds = time.perf_counter() - started
    log(f"seeded PostgreSQL {size_label} in {seconds:.1f} s: {counts}")
    return {
        "database": name,
        "cached": False,
        "seconds": round(seconds, 1),
        "key": key,
        "rows": counts,
    }


def working_postgres(size_label: str) -> str:
    """``aspirasi_bench_<size>_<tag>``: a fresh copy of the seeded template for one run.

    Copied file by file, with a checkpoint before and after (``FILE_COPY``, the
    only strategy before PostgreSQL 15), so the run starts with nothing left to
    write: PostgreSQL 15's default ``WAL_LOG`` writes the whole copy, 2.4 GB at 1M,
    to the WAL, and the checkpoints that followed ran during the first minutes of
    the measured runs."""
    name = pg_name(size_label)
    with _pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        version = admin.info.server_version
        strategy = " STRATEGY = FILE_COPY" if version >= 150000 else ""
        template = pg_name(size_label, "_seed")
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}{strategy}")
    return PG_URL.format(db=name)


def drop_postgres_working(size_label: str) -> None:
    with _pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {pg_name(size_label)} WITH (FORCE)")


if __name__ == "__main__":  # pragma: no cover - manual use: python -m bench.seed 10k
    import sys

    for label in sys.argv[1:] or ["10k"]:
        ensure_sqlite(label)
        ensure_postgres(label)
