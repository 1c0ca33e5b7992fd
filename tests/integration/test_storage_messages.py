"""MessageRepository (one message at a time) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from aspirasi_core.domain.errors import Conflict
from aspirasi_core.domain.model import Action, LogEntry, Rating, Status
from aspirasi_core.services.ports import NewAttachment, NewMessage

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _attachment(message_id: int, kind: str = "message", name: str = "foto.jpg") -> NewAttachment:
    return NewAttachment(
        message_id=message_id,
        kind=kind,
        filename=name,
        content_type="image/jpeg" if name.endswith(".jpg") else "application/pdf",
        size=1234,
        storage_key=f"key-{name}",
        sha256="ab" * 32,
        created_at=T0,
    )


def test_add_get_and_get_by_ticket(database, make) -> None:
    author = make.account()
    new = NewMessage(
        ticket="ASP-000001",
        author_id=author.id,
        subject="Jalan rusak",
        body="Lubang besar di Jl. Juanda",
        confidential=True,
        anonymous=True,
        created_at=T0,
    )
    added = database.run_sync(lambda uow: uow.messages.add(new))
    assert added.status is Status.SUBMITTED and added.updated_at == T0

    def attach(uow):
        photo = uow.messages.add_attachment(_attachment(added.id))
        uow.messages.add_attachment(_attachment(added.id, "reply", "balasan.pdf"))
        pdf = uow.messages.add_attachment(_attachment(added.id, name="surat.pdf"))
        return photo, pdf

    photo, pdf = database.run_sync(attach)
    got = database.run_sync(lambda uow: uow.messages.get(added.id), write=False)
    assert got == attrs.evolve(added, attachments=(photo, pdf))
    assert got.created_at.tzinfo is UTC and got.confidential and got.anonymous
    assert database.run_sync(lambda uow: uow.messages.get_by_ticket("ASP-000001")) == got
    assert database.run_sync(lambda uow: uow.messages.get_by_ticket("ASP-404")) is None
    assert database.run_sync(lambda uow: uow.messages.get(added.id + 100)) is None
    assert database.run_sync(lambda uow: uow.messages.attachment(photo.id)) == photo
    assert database.run_sync(lambda uow: uow.messages.attachment(photo.id + 100)) is None
    assert photo.storage_key == "key-foto.jpg" and photo.sha256 == "ab" * 32


def test_a_ticket_collision_raises_and_the_transaction_goes_on(database, make) -> None:
    author = make.account()
    first = make.message(author.id)

    def script(uow):
        clash = NewMessage(
            ticket=first.ticket,
            author_id=author.id,
            subject="again",
            body="again",
            confidential=False,
            anonymous=False,
            created_at=T0,
        )
        with pytest.raises(Conflict) as caught:
            uow.messages.add(clash)
        assert caught.value.code == "duplicate_ticket"
        return uow.messages.add(attrs.evolve(clash, ticket="ASP-NEW"))

    second = database.run_sync(script)
    assert database.run_sync(lambda uow: uow.messages.get_by_ticket("ASP-NEW")) == second


def test_a_message_goes_in_with_its_first_log_entry_and_a_collision_writes_neither(
    database, make
) -> None:
    author = make.account()
    first = make.message(author.id)
    entry = LogEntry(
        message_id=0,
        actor_id=author.id,
        action=str(Action.SUBMIT),
        from_status=None,
        to_status=Status.SUBMITTED,
        note="",
        at=T0,
    )
    new = NewMessage(
        ticket=first.ticket,
        author_id=author.id,
        subject="Lampu jalan mati",
        body="Sudah seminggu",
        confidential=False,
        anonymous=False,
        created_at=T0,
    )

    def log_rows(uow) -> int:
        return uow.connection.exec_driver_sql("SELECT count(*) FROM message_log").scalar()

    before = database.run_sync(log_rows)

    def script(uow):
        with pytest.raises(Conflict):
            uow.messages.add(new, first_log=entry)
        assert log_rows(uow) == before  # the collision wrote no log entry
        return uow.messages.add(attrs.evolve(new, ticket="ASP-LOG"), first_log=entry)

    added = database.run_sync(script)
    [logged] = database.run_sync(lambda uow: uow.messages.log(added.id))
    assert logged.id > 0
    # The first link of the message's hash chain (on PostgreSQL written in the same
    # statement as the message; on SQLite by add_log): the same either way.
    assert logged.seq == 1
    assert logged.entry_hash is not None and len(logged.entry_hash) == 64
    assert attrs.evolve(logged, id=0, seq=None, entry_hash=None) == LogEntry(
        id=0,
        message_id=added.id,
        actor_id=author.id,
        action="submit",
        from_status=None,
        to_status=Status.SUBMITTED,
        note="",
        at=T0,
        agency_id=None,
    )
    assert database.run_sync(log_rows) == before + 1


def test_save_transition_is_compare_and_set_on_the_version(database, make) -> None:
    author = make.account()
    agency, other = make.agency(), make.agency()
    sub = make.subcategory()
    message = make.message(author.id)
    assert message.version == 1
    forwarded = attrs.evolve(
        message,
        status=Status.FORWARDED,
        category_id=sub.category_id,
        subcategory_id=sub.id,
        agency_id=agency.id,
        updated_at=T0 + timedelta(days=1),
        version=2,
    )
    assert database.run_sync(lambda uow: uow.messages.save_transition(forwarded, 1))
    assert database.run_sync(lambda uow: uow.messages.get(message.id)) == forwarded
    # A second admin acting on the stale version loses.
    rejected = attrs.evolve(message, status=Status.REJECTED, version=2)
    assert not database.run_sync(lambda uow: uow.messages.save_transition(rejected, 1))
    # So does one whose change leaves the status as it is (a re-forward): the
    # status alone could not tell.
    reforwarded = attrs.evolve(forwarded, agency_id=other.id, version=2)
    assert not database.run_sync(lambda uow: uow.messages.save_transition(reforwarded, 1))
    assert database.run_sync(lambda uow: uow.messages.get(message.id)) == forwarded
    missing = attrs.evolve(forwarded, id=message.id + 100, version=3)
    assert not database.run_sync(lambda uow: uow.messages.save_transition(missing, 2))


def test_bump_version_is_compare_and_set(database, make) -> None:
    message = make.message(make.account().id)
    assert database.run_sync(lambda uow: uow.messages.bump_version(message.id, 1))
    assert not database.run_sync(lambda uow: uow.messages.bump_version(message.id, 1))
    assert database.run_sync(lambda uow: uow.messages.get(message.id)).version == 2


def test_log_entries(database, make) -> None:
    author = make.account()
    admin = make.account(role="admin")
    agency = make.agency()
    first, second, quiet = make.message(author.id), make.message(author.id), make.message(author.id)

    def script(uow):
        entries = [
            uow.messages.add_log(
                LogEntry(first.id, author.id, Action.SUBMIT, None, Status.SUBMITTED, "", T0)
            ),
            uow.messages.add_log(
                LogEntry(second.id, None, Action.SUBMIT, None, Status.SUBMITTED, "", T0)
            ),
            uow.messages.add_log(
                LogEntry(
                    first.id,
                    admin.id,
                    Action.FORWARD,
                    Status.SUBMITTED,
                    Status.FORWARDED,
                    "ke Dinas PU",
                    T0 + timedelta(hours=2),
                    agency_id=agency.id,
                )
            ),
        ]
        return entries

    entries = database.run_sync(script)
    assert entries[2].from_status is Status.SUBMITTED and entries[2].agency_id == agency.id
    log = database.run_sync(lambda uow: uow.messages.log(first.id), write=False)
    assert log == [entries[0], entries[2]]
    assert log[1].at == T0 + timedelta(hours=2) and log[1].at.tzinfo is UTC
    assert log[0].from_status is None and log[0].actor_id == author.id
    logs = database.run_sync(lambda uow: uow.messages.logs_for([first.id, second.id, quiet.id]))
    assert logs == {first.id: [entries[0], entries[2]], second.id: [entries[1]], quiet.id: []}
    assert database.run_sync(lambda uow: uow.messages.logs_for([])) == {}


def test_reply_once_with_its_attachment(database, make) -> None:
    author, operator = make.account(), make.account(role="operator")
    message, bare = make.message(author.id), make.message(author.id)
    assert database.run_sync(lambda uow: uow.messages.reply(message.id)) is None

    def script(uow):
        pdf = uow.messages.add_attachment(_attachment(message.id, "reply", "balasan.pdf"))
        return uow.messages.add_reply(message.id, operator.id, "Sudah diperbaiki.", T0, pdf.id)

    reply = database.run_sync(script)
    assert reply.attachment is not None and reply.attachment.kind == "reply"
    assert database.run_sync(lambda uow: uow.messages.reply(message.id)) == reply
    # Reply attachments are not the message's own.
    assert database.run_sync(lambda uow: uow.messages.get(message.id)).attachments == ()

    plain = database.run_sync(
        lambda uow: uow.messages.add_reply(bare.id, operator.id, "Terima kasih.", T0, None)
    )
    assert plain.attachment is None
    assert database.run_sync(lambda uow: uow.messages.reply(bare.id)) == plain

    def twice(uow):
        with pytest.raises(Conflict) as caught:
            uow.messages.add_reply(bare.id, operator.id, "again", T0, None)
        assert caught.value.code == "reply_exists"
        return uow.messages.reply(bare.id)

    assert database.run_sync(twice) == plain


def test_rating_once(database, make) -> None:
    author = make.account()
    message = make.message(author.id, status=Status.DONE)
    assert database.run_sync(lambda uow: uow.messages.rating(message.id)) is None
    rating = Rating(message_id=message.id, stars=4, comment="Cepat", created_at=T0)
    database.run_sync(lambda uow: uow.messages.add_rating(rating))
    assert database.run_sync(lambda uow: uow.messages.rating(message.id)) == rating

    def twice(uow):
        with pytest.raises(Conflict) as caught:
            uow.messages.add_rating(attrs.evolve(rating, stars=1))
        assert caught.value.code == "rating_exists"
        uow.directory.add_agency("after-conflict", "Still usable")

    database.run_sync(twice)
    assert database.run_sync(lambda uow: uow.messages.rating(message.id)).stars == 4
    assert database.run_sync(lambda uow: uow.directory.agency_by_code("after-conflict"))
