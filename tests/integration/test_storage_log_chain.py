"""The storage side of the hash-chained log: migration 0011 chains the entries
already written exactly as the core would, and on PostgreSQL two transactions
that append to one message without holding its row cannot fork its chain."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests.racing import wait_for_lock_waiter

from aspirasi_core.domain.log_chain import GENESIS, ChainLink, entry_hash
from aspirasi_core.domain.model import LogEntry, Status
from aspirasi_core.services.log_chain import verify_chains
from aspirasi_core.storage import SqlDatabase, make_engine, upgrade
from aspirasi_core.storage.repositories import SqlLogChainRepository, SqlMessageRepository

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

ZONE = ZoneInfo("Asia/Makassar")


def test_the_migration_chains_the_entries_already_written(database_url) -> None:
    upgrade(database_url, target="0008_milestones")
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
            for mid in (1, 2, 3):
                conn.execute(
                    text(
                        "INSERT INTO messages (id, ticket, author_id, subject, body, status,"
                        " created_at, updated_at) VALUES (:id, :ticket, 1, 'S', 'B', 'submitted',"
                        " :t, :t)"
                    ),
                    {"id": mid, "ticket": f"T-{mid}", "t": T0},
                )
            entries = [
                (1, 2, "submit", None, "submitted", "", T0),
                (2, 1, "submit", None, "submitted", "", T0 + timedelta(microseconds=7)),
                (3, 2, "forward", "submitted", "forwarded", "Untuk — PUPR.", T0),
                (4, 2, "progress", "forwarded", "forwarded", "Survei.", T0 + timedelta(days=1)),
            ]
            for lid, mid, action, before, after, note, at in entries:
                conn.execute(
                    text(
                        "INSERT INTO message_log (id, message_id, actor_id, action, from_status,"
                        " to_status, note, at) VALUES (:id, :m, 1, :a, :f, :s, :n, :t)"
                    ),
                    {"id": lid, "m": mid, "a": action, "f": before, "s": after, "n": note, "t": at},
                )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, seq, prev_hash, entry_hash FROM message_log ORDER BY id")
            ).all()
            # The hashes the core's own serialisation gives, from scratch.
            prev: dict[int, str] = {}
            for (lid, mid, action, before, after, note, at), row in zip(entries, rows, strict=True):
                seq = 1 if mid not in prev else (2 if lid == 3 else 3)
                link = ChainLink(
                    f"T-{mid}",
                    seq,
                    prev.get(mid, GENESIS),
                    at,
                    1,
                    action,
                    before,
                    after,
                    note,
                    "internal",
                    None,
                )
                assert (row.id, row.seq, row.prev_hash) == (lid, seq, prev.get(mid, GENESIS))
                assert row.entry_hash == entry_hash(link)
                prev[mid] = row.entry_hash
            report = verify_chains(SqlLogChainRepository(conn), ZONE)
        # message 3 has no entry at all: reported, the others hold
        assert report.chains == 3 and report.entries == 4
        assert report.broken_chains == 1 and report.first_broken is not None
        assert (report.first_broken.ticket, report.first_broken.reason) == ("T-3", "empty")
    finally:
        engine.dispose()


def _entry(message_id: int, note: str) -> LogEntry:
    return LogEntry(
        message_id=message_id,
        actor_id=None,
        action="progress",
        from_status=Status.IN_PROGRESS,
        to_status=Status.IN_PROGRESS,
        note=note,
        at=datetime(2026, 1, 5, 3, 0, tzinfo=UTC),
    )


def test_two_writers_appending_without_the_lock_cannot_fork_a_chain(
    pg_database: SqlDatabase, make
) -> None:
    """The use cases hold the message's row while they append; a writer that did
    not would read the same head as another and try the same place: the unique
    index makes it wait for the first and then refuses it."""
    message = make.message(make.account().id, status=Status.IN_PROGRESS)
    pg_database.run_sync(lambda uow: uow.messages.add_log(_entry(message.id, "first")))
    engine = pg_database.engine
    first = engine.connect()
    first_tx = first.begin()
    first_pid = first.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    SqlMessageRepository(first).add_log(_entry(message.id, "A"))  # place 2, not committed
    failures: list[BaseException] = []

    def second() -> None:
        with engine.connect() as conn, conn.begin():
            try:
                SqlMessageRepository(conn).add_log(_entry(message.id, "B"))  # also reads place 1
            except IntegrityError as exc:
                failures.append(exc)
                raise

    worker = threading.Thread(target=lambda: _quietly(second))
    worker.start()
    try:
        assert wait_for_lock_waiter(engine, exclude_pid=first_pid)  # B waits on A's place 2
        first_tx.commit()
    finally:
        first.close()
        worker.join(30)
    assert not worker.is_alive()
    assert len(failures) == 1 and "uq_message_log_message_id_seq" in str(failures[0])
    log = pg_database.run_sync(lambda uow: uow.messages.log(message.id), write=False)
    assert [(e.seq, e.note) for e in log] == [(1, "first"), (2, "A")]
    assert log[1].entry_hash is not None
    report = pg_database.run_sync(lambda uow: verify_chains(uow.log_chain, ZONE), write=False)
    assert report.ok


def _quietly(fn) -> None:
    with contextlib.suppress(IntegrityError):  # recorded in ``failures``
        fn()
