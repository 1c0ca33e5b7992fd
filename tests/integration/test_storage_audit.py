"""The audit log's storage: append, filtered keyset list, the 0003 migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import delete, inspect

from aspirasi_core.services.ports import AuditFilter, NewAuditEntry
from aspirasi_core.storage import current, make_engine, upgrade
from aspirasi_core.storage.migrate import make_config
from aspirasi_core.storage.tables import accounts

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_entries_are_listed_newest_first_filtered_and_keyset_paginated(database, make) -> None:
    staff = make.account(role="admin")
    other = make.account(role="admin")
    citizen = make.account()
    message = make.message(citizen.id)
    entries = [
        NewAuditEntry(
            at=T0 + timedelta(minutes=i),
            action="message.sender_read" if i % 2 else "account.read",
            actor_id=staff.id if i < 4 else other.id,
            subject_account_id=citizen.id,
            subject_message_id=message.id if i % 2 else None,
            reason=f"r{i}",
            client_ip="203.0.113.9",
            details={"n": str(i)},
        )
        for i in range(6)
    ]
    ids = database.run_sync(lambda uow: [uow.audit.add(e) for e in entries])
    assert ids == sorted(ids)

    def listed(flt: AuditFilter, before: int | None = None, limit: int = 10) -> list:
        return database.run_sync(
            lambda uow: uow.audit.list(flt, before_id=before, limit=limit), write=False
        )

    everything = listed(AuditFilter())
    assert [e.id for e in everything] == ids[::-1]
    newest = everything[0]
    assert newest.actor_id == other.id and newest.actor_username == other.username
    assert newest.message_ticket == message.ticket and newest.subject_message_id == message.id
    assert newest.reason == "r5" and newest.client_ip == "203.0.113.9"
    assert newest.details == {"n": "5"} and newest.at == T0 + timedelta(minutes=5)
    assert [e.reason for e in listed(AuditFilter(actor_id=staff.id))] == ["r3", "r2", "r1", "r0"]
    assert [e.reason for e in listed(AuditFilter(action="account.read"))] == ["r4", "r2", "r0"]
    assert [e.reason for e in listed(AuditFilter(subject_message_id=message.id))] == [
        "r5",
        "r3",
        "r1",
    ]
    window = AuditFilter(at_from=T0 + timedelta(minutes=1), at_to=T0 + timedelta(minutes=3))
    assert [e.reason for e in listed(window)] == ["r2", "r1"]
    assert listed(AuditFilter(subject_account_id=staff.id)) == []
    first = listed(AuditFilter(), limit=4)
    rest = listed(AuditFilter(), before=first[-1].id, limit=4)
    assert [e.id for e in first + rest] == ids[::-1]


def test_removing_an_account_keeps_its_audit_entries(database, make) -> None:
    citizen = make.account()
    staff = make.account(role="admin")
    database.run_sync(
        lambda uow: uow.audit.add(
            NewAuditEntry(
                at=T0, action="account.read", actor_id=staff.id, subject_account_id=citizen.id
            )
        )
    )
    database.run_sync(
        lambda uow: uow.connection.execute(delete(accounts).where(accounts.c.id == citizen.id))
    )
    (entry,) = database.run_sync(
        lambda uow: uow.audit.list(AuditFilter(), before_id=None, limit=5), write=False
    )
    assert entry.subject_account_id is None and entry.actor_id == staff.id


def test_0003_adds_the_audit_log_to_a_database_in_use_and_goes_back(database_url) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, target="0002_sop")
        assert "audit_log" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert "audit_log" in inspect(engine).get_table_names()
        with engine.begin() as conn:
            command.downgrade(make_config(conn), "0002_sop")
        assert "audit_log" not in inspect(engine).get_table_names()
        assert current(engine) == {"0002_sop"}
    finally:
        engine.dispose()


def test_0003_renames_the_attachments_of_existing_anonymous_messages(database_url) -> None:
    from sqlalchemy import text

    engine = make_engine(database_url)
    try:
        upgrade(engine, target="0002_sop")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, username, full_name, role, created_at,"
                    " password_hash) VALUES (1, 'b@x.test', 'budi', 'Budi', 'user', :t, 'h')"
                ),
                {"t": T0},
            )
            for mid, anonymous in ((1, True), (2, False)):
                conn.execute(
                    text(
                        "INSERT INTO messages (id, ticket, author_id, subject, body, status,"
                        " confidential, anonymous, created_at, updated_at) VALUES"
                        " (:id, :ticket, 1, 's', 'b', 'submitted', :no, :anon, :t, :t)"
                    ),
                    {"id": mid, "ticket": f"T-{mid}", "no": False, "anon": anonymous, "t": T0},
                )
            rows = [
                (1, 1, "message", "KTP Budi Santoso.jpg", "image/jpeg"),
                (2, 1, "message", "Surat budi.pdf", "application/pdf"),
                (3, 1, "reply", "jawaban dinas.pdf", "application/pdf"),
                (4, 2, "message", "foto budi.jpg", "image/jpeg"),
            ]
            for aid, mid, kind, name, content_type in rows:
                conn.execute(
                    text(
                        "INSERT INTO attachments (id, message_id, kind, filename, content_type,"
                        " size, storage_key, created_at) VALUES"
                        " (:id, :mid, :kind, :name, :ct, 1, :key, :t)"
                    ),
                    {
                        "id": aid,
                        "mid": mid,
                        "kind": kind,
                        "name": name,
                        "ct": content_type,
                        "key": f"k{aid}",
                        "t": T0,
                    },
                )
        upgrade(engine)
        with engine.connect() as conn:
            names = dict(conn.execute(text("SELECT id, filename FROM attachments")).all())
        assert names == {
            1: "lampiran.jpg",
            2: "lampiran.pdf",
            3: "jawaban dinas.pdf",  # the agency's reply keeps its name
            4: "foto budi.jpg",  # a signed message keeps its name
        }
    finally:
        engine.dispose()
