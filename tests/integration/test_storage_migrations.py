"""Migrations: the first revision builds exactly ``tables.py``; plugins add branches."""

from __future__ import annotations

import textwrap
import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, select

from aspirasi_core.storage import current, make_engine, upgrade
from aspirasi_core.storage.engine import WRITE_OPTION
from aspirasi_core.storage.migrate import make_config
from aspirasi_core.storage.tables import categories, metadata

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
#: The core's single head (each helper's revision moves it; there must be one).
(CORE_HEAD,) = ScriptDirectory.from_config(make_config()).get_heads()


def _diff(engine) -> list:
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: False})
        with conn.begin():
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)


def test_upgrade_builds_exactly_the_tables_and_seeds_the_categories(database_url) -> None:
    engine = make_engine(database_url)
    try:
        assert current(engine) == set()
        upgrade(engine)
        assert current(engine) == {CORE_HEAD}
        assert _diff(engine) == []
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
        with engine.connect() as conn:
            rows = conn.execute(
                select(categories.c.code, categories.c.name).order_by(categories.c.id)
            )
            assert [tuple(r) for r in rows] == [("aspirasi", "Aspirasi"), ("aduan", "Aduan")]
    finally:
        engine.dispose()


def test_upgrade_twice_changes_nothing(database_url) -> None:
    upgrade(database_url)
    upgrade(database_url)  # also accepts a URL
    assert current(database_url) == {CORE_HEAD}
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(categories.c.id)).all().__len__() == 2
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_a_plugin_branch_in_an_extra_location_is_upgraded_to_its_head(
    database_url, tmp_path
) -> None:
    versions = tmp_path / "plugin_versions"
    versions.mkdir()
    (versions / "p001_plugin.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "p001_plugin"
            down_revision = None
            branch_labels = ("test_plugin",)
            depends_on = "0001_initial"


            def upgrade():
                op.create_table(
                    "plugin_notes",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id")),
                )


            def downgrade():
                op.drop_table("plugin_notes")
            """
        )
    )
    upgrade(database_url, [str(versions)])
    # The plugin's branch starts from the core's first revision: two heads.
    assert current(database_url) == {CORE_HEAD, "p001_plugin"}
    upgrade(database_url, [str(versions)])
    # Forgetting the folder of a plugin that was migrated is an error, not a silent skip.
    with pytest.raises(CommandError, match="p001_plugin"):
        upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert "plugin_notes" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_rebuilding_a_table_does_not_cascade_deletes(database, make, tmp_path) -> None:
    """Alembic's batch mode rebuilds SQLite tables; with foreign keys on, dropping the
    old ``accounts`` would delete every token and notification (ON DELETE CASCADE)."""
    account = make.account()
    database.run_sync(
        lambda uow: (
            uow.tokens.add(
                account_id=account.id,
                purpose="session",
                token_hash=b"h" * 32,
                created_at=T0,
                expires_at=T0 + timedelta(days=1),
                auth_version=1,
            ),
            uow.notifications.add_many(
                [account.id], kind="k", message_id=None, text="t", params={}, created_at=T0
            ),
        )
    )
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "b001_rebuild.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "b001_rebuild"
            down_revision = None
            branch_labels = ("rebuild_test",)
            depends_on = "0001_initial"


            def upgrade():
                sqlite = op.get_bind().dialect.name == "sqlite"
                with op.batch_alter_table(
                    "accounts", recreate="always" if sqlite else "auto"
                ) as batch:
                    batch.add_column(sa.Column("nickname", sa.String(50), nullable=True))


            def downgrade():
                pass
            """
        )
    )
    upgrade(database.engine, [str(versions)])
    assert database.run_sync(lambda uow: uow.tokens.lookup("session", b"h" * 32, T0))
    assert database.run_sync(lambda uow: uow.notifications.unread_count(account.id)) == 1
    assert "nickname" in {c["name"] for c in inspect(database.engine).get_columns("accounts")}
    with database.engine.connect() as conn:
        if database.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_concurrent_upgrades_of_a_new_database_migrate_once(database_url) -> None:
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            upgrade(database_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert current(database_url) == {CORE_HEAD}
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert len(conn.execute(select(categories.c.id)).all()) == 2
    finally:
        engine.dispose()


def test_text_visibility_upgrades_existing_rows(database_url) -> None:
    """0004: forwarding notes already written become internal, every other text
    stays the sender's; messages get their masked public copies."""
    from sqlalchemy import text

    upgrade(database_url, target="0003_audit_anonymous")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, username, full_name, role, created_at,"
                    " password_hash) VALUES (1, 'ani@example.org', 'ani', 'Ani', 'user', :t, 'x')"
                ),
                {"t": T0},
            )
            for mid, subject, body in (
                (1, "Jalan rusak", "Berlubang di KM 5, Rp 1.500.000."),
                (2, "Pungli, WA 0812-3456-7890", "NIK saya 6472045504910001."),
            ):
                conn.execute(
                    text(
                        "INSERT INTO messages (id, ticket, author_id, subject, body, status,"
                        " created_at, updated_at) VALUES (:id, :ticket, 1, :s, :b, 'done', :t, :t)"
                    ),
                    {"id": mid, "ticket": f"T-{mid}", "s": subject, "b": body, "t": T0},
                )
            for lid, action, note in (
                (1, "forward", "Untuk instansi."),
                (2, "reforward", "Salah instansi."),
                (3, "reject", "Alasan."),
                (4, "progress", "Survei."),
                (5, "reply", "Jawaban."),
            ):
                conn.execute(
                    text(
                        "INSERT INTO message_log (id, message_id, action, to_status, note, at)"
                        " VALUES (:id, 2, :a, 'done', :n, :t)"
                    ),
                    {"id": lid, "a": action, "n": note, "t": T0},
                )
            conn.execute(
                text(
                    "INSERT INTO replies (id, message_id, author_id, answer, created_at)"
                    " VALUES (1, 2, 1, 'Jawaban.', :t)"
                ),
                {"t": T0},
            )
        upgrade(engine)
        assert _diff(engine) == []
        with engine.connect() as conn:
            log = dict(conn.execute(text("SELECT action, note_visibility FROM message_log")).all())
            assert log == {
                "forward": "internal",
                "reforward": "internal",
                "reject": "sender",
                "progress": "sender",
                "reply": "sender",
            }
            assert conn.execute(text("SELECT visibility FROM replies")).scalar_one() == "sender"
            copies = conn.execute(
                text("SELECT id, subject_public, body_public FROM messages ORDER BY id")
            ).all()
            assert [tuple(r) for r in copies] == [
                (1, None, None),
                (2, "Pungli, WA 0812*****890", "NIK saya 6472********0001."),
            ]
    finally:
        engine.dispose()


def test_account_privacy_keeps_the_data_and_loosens_uniqueness_to_verified(
    database_url,
) -> None:
    """0005_account_privacy on a database with accounts and tokens: they stay, and
    from then on only verified accounts reserve a username or a NIK."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from aspirasi_core.storage.tables import accounts, auth_tokens

    before = ScriptDirectory.from_config(make_config()).get_revision("0005_account_privacy")
    upgrade(database_url, target=str(before.down_revision))
    engine = make_engine(database_url)

    def account(n: int, username: str, nik: bytes, verified: bool) -> dict:
        return {
            "email": f"user{n}@example.org",
            "username": username,
            "full_name": "X",
            "role": "user",
            "created_at": T0,
            "password_hash": "h",
            "nik_index": nik,
            "email_verified_at": T0 if verified else None,
        }

    try:
        with engine.begin() as conn:
            conn.execute(insert(accounts).values(account(1, "ani", b"1" * 32, True)))
            conn.execute(insert(accounts).values(account(2, "budi", b"2" * 32, False)))
            conn.execute(
                insert(auth_tokens).values(
                    account_id=1,
                    purpose="session",
                    token_hash=b"t" * 32,
                    created_at=T0,
                    expires_at=T0 + timedelta(days=1),
                    auth_version=1,
                )
            )
        upgrade(database_url)
        assert current(database_url) == {CORE_HEAD}
        assert _diff(engine) == []
        with engine.begin() as conn:
            assert conn.execute(
                select(accounts.c.username).order_by(accounts.c.id)
            ).scalars().all() == [
                "ani",
                "budi",
            ]
            assert conn.execute(select(auth_tokens.c.login_id)).scalars().all() == [None]
            # Unverified accounts may share a verified account's username and NIK...
            conn.execute(insert(accounts).values(account(3, "ani", b"1" * 32, False)))
            conn.execute(insert(accounts).values(account(4, "budi", b"2" * 32, False)))
        # ...but two verified accounts may not.
        for clash in (account(5, "ani", b"5" * 32, True), account(6, "eka", b"1" * 32, True)):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(insert(accounts).values(clash))
    finally:
        engine.dispose()


def test_migrations_are_frozen_in_time() -> None:
    """A migration never imports the application (a masker, a service): what it
    does to a database must not change when the application does."""
    import ast
    from pathlib import Path

    import aspirasi_core.storage as storage

    versions = Path(storage.__file__).parent / "migrations" / "versions"
    found = sorted(versions.glob("*.py"))
    assert len(found) >= 7
    for script in found:
        tree = ast.parse(script.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] == "aspirasi_core" for n in names), script.name


def test_milestones_are_backfilled_from_the_log(database_url) -> None:
    """0008_milestones: every message gets the milestones its log records (the
    last forward or re-forward, the start, the final status) and nothing else;
    downgrading drops them again."""
    from alembic import command
    from sqlalchemy import text

    from aspirasi_core.storage.tables import messages

    upgrade(database_url, target="0005_account_privacy")
    engine = make_engine(database_url)
    day = timedelta(days=1)
    #: message id → status and its log (action, to_status, days after T0)
    history = {
        1: ("submitted", [("submit", "submitted", 0)]),
        2: (
            "in_progress",
            [
                ("submit", "submitted", 0),
                ("forward", "forwarded", 1),
                ("reforward", "forwarded", 2),
                ("start", "in_progress", 4),
                ("progress", "in_progress", 5),
            ],
        ),
        3: (
            "done",
            [
                ("submit", "submitted", 0),
                ("forward", "forwarded", 1),
                ("start", "in_progress", 2),
                ("reply", "done", 7),
            ],
        ),
        4: ("rejected", [("submit", "submitted", 0), ("reject", "rejected", 3)]),
        5: ("withdrawn", [("submit", "submitted", 0), ("withdraw", "withdrawn", 1)]),
    }
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, username, full_name, role, created_at,"
                    " password_hash) VALUES (1, 'ani@example.org', 'ani', 'Ani', 'user', :t, 'x')"
                ),
                {"t": T0},
            )
            for mid, (status, log) in history.items():
                conn.execute(
                    text(
                        "INSERT INTO messages (id, ticket, author_id, subject, body, status,"
                        " created_at, updated_at) VALUES (:id, :ticket, 1, 's', 'b', :st, :t, :t)"
                    ),
                    {"id": mid, "ticket": f"T-{mid}", "st": status, "t": T0},
                )
                for action, to_status, days in log:
                    conn.execute(
                        text(
                            "INSERT INTO message_log (message_id, action, to_status, note, at)"
                            " VALUES (:m, :a, :s, '', :t)"
                        ),
                        {"m": mid, "a": action, "s": to_status, "t": T0 + days * day},
                    )
        upgrade(engine)
        assert _diff(engine) == []
        m = messages
        with engine.connect() as conn:
            rows = conn.execute(
                select(m.c.id, m.c.forwarded_at, m.c.started_at, m.c.closed_at).order_by(m.c.id)
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, None, None, None),
            (2, T0 + 2 * day, T0 + 4 * day, None),
            (3, T0 + day, T0 + 2 * day, T0 + 7 * day),
            (4, None, None, T0 + 3 * day),
            (5, None, None, T0 + day),
        ]
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # As upgrade() does: the batch rebuild of messages drops the old copy.
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            with conn.begin():
                command.downgrade(make_config(conn), "0005_account_privacy")
        columns = {c["name"] for c in inspect(engine).get_columns("messages")}
        assert not columns & {"forwarded_at", "started_at", "closed_at"}
    finally:
        engine.dispose()


def test_sop_missed_is_backfilled_from_the_milestones(database_url) -> None:
    """0012_sop_kept: a started message gets ``sop_missed`` when a stage ended at
    or after the deadline the core computes from the stage's start (the
    settings' days or the sub-category's own, the super admin's days off), as
    the evaluator's report counted it before; downgrading drops it again."""
    from datetime import date
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from alembic import command
    from sqlalchemy import text

    from aspirasi_core.domain.sop import WorkingCalendar
    from aspirasi_core.storage.tables import messages

    upgrade(database_url, target="0010_followups")
    engine = make_engine(database_url)
    hour, day = timedelta(hours=1), timedelta(days=1)
    monday = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 WITA
    later = monday + 7 * day  # Monday 10 March; Tuesday 11 is a day off
    #: id → (status, subcategory with 5 confirm days?, forwarded, started, closed)
    rows = {
        1: ("done", False, monday, monday + day, monday + 2 * day),  # kept
        2: ("done", False, monday, monday + 3 * day, monday + 4 * day),  # confirmed Thursday
        3: ("done", False, monday, monday + day, monday + 22 * day),  # replied 3 weeks on
        4: ("in_progress", True, monday, monday + 3 * day, None),  # 5 days to confirm
        5: ("in_progress", False, monday, monday + 3 * day, None),  # confirmed Thursday
        6: ("forwarded", False, monday, None, None),
        7: ("done", False, later, later + 3 * day, later + 4 * day),  # Thursday, after a day off
        8: ("done", False, None, monday, monday + day),  # no forward recorded
        9: ("done", False, monday, monday + 2 * day + 14 * hour, monday + 3 * day),  # 23:00 Wed
        10: ("done", False, monday, monday + 2 * day + 15 * hour, monday + 3 * day),  # midnight
    }
    settings = SimpleNamespace(
        sop_confirm_days=2, sop_reply_days=10, sop_holiday_country="ID", timezone="Asia/Makassar"
    )
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, username, full_name, role, created_at,"
                    " password_hash) VALUES (1, 'ani@example.org', 'ani', 'Ani', 'user', :t, 'x')"
                ),
                {"t": T0},
            )
            category = conn.execute(select(categories.c.id).limit(1)).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO subcategories (id, category_id, code, name, sop_confirm_days)"
                    " VALUES (1, :c, 'lambat', 'Lambat', 5), (2, :c, 'biasa', 'Biasa', NULL)"
                ),
                {"c": category},
            )
            conn.execute(
                text("INSERT INTO days_off (day, name, created_at) VALUES (:d, 'Cuti', :t)"),
                {"d": date(2025, 3, 11), "t": T0},
            )
            for mid, (status, slow, forwarded, started, closed) in rows.items():
                conn.execute(
                    text(
                        "INSERT INTO messages (id, ticket, author_id, subject, body, status,"
                        " created_at, updated_at, subcategory_id, forwarded_at, started_at,"
                        " closed_at) VALUES (:id, :ticket, 1, 's', 'b', :st, :t, :t, :sub,"
                        " :f, :s, :c)"
                    ),
                    {
                        "id": mid,
                        "ticket": f"T-{mid}",
                        "st": status,
                        "t": T0,
                        "sub": 1 if slow else 2,
                        "f": forwarded,
                        "s": started,
                        "c": closed,
                    },
                )
        upgrade(engine, settings=settings)
        assert _diff(engine) == []
        m = messages
        with engine.connect() as conn:
            got = dict(conn.execute(select(m.c.id, m.c.sop_missed).order_by(m.c.id)).all())
        # The plain way: the core's own deadline of each stage.
        calendar = WorkingCalendar(
            timezone=ZoneInfo("Asia/Makassar"), days_off=frozenset({date(2025, 3, 11)})
        )
        plain = {}
        for mid, (status, slow, forwarded, started, closed) in rows.items():
            missed = False
            if status in ("in_progress", "done"):
                if forwarded is None or started is None:
                    missed = status == "done"
                else:
                    missed = started >= calendar.due_at(forwarded, 5 if slow else 2)
            if status == "done" and not missed:
                missed = closed >= calendar.due_at(started, 10)
            plain[mid] = missed
        assert got == plain
        assert [mid for mid, missed in got.items() if missed] == [2, 3, 5, 8, 10]
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            with conn.begin():
                command.downgrade(make_config(conn), "0010_followups")
        assert "sop_missed" not in {c["name"] for c in inspect(engine).get_columns("messages")}
    finally:
        engine.dispose()


def test_location_columns_come_empty_and_go_again(database_url) -> None:
    """0013_location: the messages sent before have no location; downgrading drops
    the columns and the regency index."""
    from alembic import command
    from sqlalchemy import text

    from aspirasi_core.storage.tables import messages

    upgrade(database_url, target="0010_followups")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, username, full_name, role, created_at,"
                    " password_hash) VALUES (1, 'ani@example.org', 'ani', 'Ani', 'user', :t, 'x')"
                ),
                {"t": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO messages (id, ticket, author_id, subject, body, status,"
                    " created_at, updated_at) VALUES (1, 'T-1', 1, 's', 'b', 'submitted', :t, :t)"
                ),
                {"t": T0},
            )
        upgrade(engine)
        assert _diff(engine) == []
        m = messages
        located = (m.c.regency_code, m.c.district_code, m.c.latitude, m.c.longitude)
        with engine.begin() as conn:
            assert conn.execute(select(*located)).one() == (None, None, None, None)
            conn.execute(
                m.update().values(
                    regency_code="64.72", district_code="64.72.06", latitude=-0.5, longitude=117.1
                )
            )
            assert conn.execute(select(*located)).one() == ("64.72", "64.72.06", -0.5, 117.1)
        assert "ix_messages_regency_code_id" in {
            i["name"] for i in inspect(engine).get_indexes("messages")
        }
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            with conn.begin():
                command.downgrade(make_config(conn), "0010_followups")
        inspector = inspect(engine)
        columns = {c["name"] for c in inspector.get_columns("messages")}
        assert not columns & {"regency_code", "district_code", "latitude", "longitude"}
        assert "ix_messages_regency_code_id" not in {
            i["name"] for i in inspector.get_indexes("messages")
        }
        with engine.connect() as conn:
            assert conn.execute(text("SELECT ticket FROM messages")).scalar_one() == "T-1"
    finally:
        engine.dispose()


def test_pending_email_and_replaced_ratings_come_empty_and_go_again(database_url) -> None:
    """0014_pending_email: accounts have no pending address and no rating was
    replaced yet; downgrading drops the column and the table, keeping the rest."""
    from alembic import command
    from sqlalchemy import text

    from aspirasi_core.storage.tables import accounts

    upgrade(database_url, target="0013_location")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, username, full_name, role, created_at,"
                    " password_hash) VALUES (1, 'ani@example.org', 'ani', 'Ani', 'user', :t, 'x')"
                ),
                {"t": T0},
            )
        upgrade(engine)
        assert _diff(engine) == []
        with engine.begin() as conn:
            assert conn.execute(select(accounts.c.pending_email)).scalar_one() is None
            assert conn.execute(text("SELECT count(*) FROM replaced_ratings")).scalar_one() == 0
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            with conn.begin():
                command.downgrade(make_config(conn), "0013_location")
        inspector = inspect(engine)
        assert "pending_email" not in {c["name"] for c in inspector.get_columns("accounts")}
        assert "replaced_ratings" not in inspector.get_table_names()
        with engine.connect() as conn:
            assert (
                conn.execute(text("SELECT email FROM accounts")).scalar_one() == "ani@example.org"
            )
    finally:
        engine.dispose()
