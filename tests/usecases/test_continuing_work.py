"""Work that can continue (issue 22): an agency returns a misrouted message to the
admin, the sender and the agency exchange follow-ups, a poor rating opens an
oversight review that reopens the message with a new deadline."""

from __future__ import annotations

import pytest

from aspirasi_core.domain.errors import Conflict, IllegalTransition, Invalid, NotAllowed, NotFound
from aspirasi_core.domain.followups import ReviewOutcome, Side
from aspirasi_core.domain.model import Status
from aspirasi_core.domain.vocabulary import log_line

from .world import World

pytestmark = pytest.mark.anyio


async def test_an_operator_returns_a_misrouted_message_to_the_admins(world: World) -> None:
    app = world.app
    message = await world.drive(Status.IN_PROGRESS)
    with pytest.raises(Invalid) as missing:
        await app.messages.act(world.ctx("op_pupr"), message.id, "return", reason="  ")
    assert missing.value.errors[0].field == "reason"
    with pytest.raises(NotFound):  # another agency's operator does not even see it
        await app.messages.act(world.ctx("op_dinkes"), message.id, "return", reason="x")

    returned = await app.messages.act(
        world.ctx("op_pupr"), message.id, "return", reason="Bukan kewenangan kami."
    )

    assert returned.status is Status.SUBMITTED and returned.agency_id is None
    assert returned.due_at is not None and returned.due_at != message.due_at  # triage again
    log = await app.queries.message_log(world.ctx("admin"), message.id)
    last = log[-1]
    assert (last.action, last.note, last.agency_id) == (
        "return",
        "Bukan kewenangan kami.",
        world.agencies["pupr"],
    )
    assert log_line(last).text == "Returned to the admin by %(agency)s"
    notes = await app.notifications.list(world.ctx("admin"))
    assert notes.items[0].kind == "message_returned"
    # The sender sees the step, not the staff's reason (internal by default).
    own = await app.queries.message_log(world.ctx("ani"), message.id)
    assert own[-1].action == "return" and own[-1].note == ""
    # The operator has lost the message: acting again is a conflict, not a 404.
    with pytest.raises(Conflict) as gone:
        await app.messages.act(world.ctx("op_pupr"), message.id, "progress", note="x")
    assert gone.value.code == "message_changed"
    # The admin forwards it on to the right agency.
    again = await app.messages.act(
        world.ctx("admin"),
        message.id,
        "forward",
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories["infrastruktur"],
        agency_id=world.agencies["dinkes"],
    )
    assert again.status is Status.FORWARDED and again.agency_id == world.agencies["dinkes"]


async def test_a_citizen_cannot_return_and_a_submitted_message_cannot_be_returned(
    world: World,
) -> None:
    message = await world.drive(Status.FORWARDED)
    with pytest.raises(NotAllowed):
        await world.app.messages.act(world.ctx("ani"), message.id, "return", reason="x")
    fresh = await world.drive(Status.SUBMITTED)
    with pytest.raises((IllegalTransition, NotFound)):
        await world.app.messages.act(world.ctx("op_pupr"), fresh.id, "return", reason="x")


async def test_follow_ups_go_both_ways_while_the_message_is_open(world: World) -> None:
    app = world.app
    message = await world.drive(Status.IN_PROGRESS, anonymous=True)
    asked = await app.followups.post(world.ctx("op_pupr"), message.id, "Di RT berapa lubangnya?")
    assert asked.side is Side.STAFF and asked.agency_id == world.agencies["pupr"]
    # The sender is told (by mail, with notify_email) through the event.
    written = [e for e in world.recorder.in_transaction if e.name == "FollowupWritten"]
    assert [(e.message_id, e.author_id) for e in written] == [
        (message.id, world.accounts["ani"].id)
    ]
    answered = await app.followups.post(world.ctx("ani"), message.id, "RT 05, dekat masjid.")
    assert answered.side is Side.SENDER
    notes = await app.notifications.list(world.ctx("op_pupr2"))
    assert notes.items[0].kind == "followup_from_sender"

    staff_view = await app.followups.thread(world.ctx("op_pupr"), message.id)
    assert [f.body for f in staff_view] == ["Di RT berapa lubangnya?", "RT 05, dekat masjid."]
    assert staff_view[1].author_id is None  # the anonymous sender stays anonymous
    own_view = await app.followups.thread(world.ctx("ani"), message.id)
    assert own_view[1].author_id == world.accounts["ani"].id

    with pytest.raises(NotFound):  # another citizen, another agency
        await app.followups.post(world.ctx("budi"), message.id, "hai")
    with pytest.raises(NotFound):
        await app.followups.thread(world.ctx("op_dinkes"), message.id)
    with pytest.raises(Invalid):
        await app.followups.post(world.ctx("ani"), message.id, "   ")

    await app.messages.act(world.ctx("op_pupr"), message.id, "reply", answer="Sudah ditambal.")
    with pytest.raises(Conflict) as closed:
        await app.followups.post(world.ctx("ani"), message.id, "Terima kasih")
    assert closed.value.code == "followup_closed"


async def test_a_poor_rating_opens_a_review_that_reopens_the_message(world: World) -> None:
    app = world.app
    message = await world.drive(Status.DONE)
    await app.messages.rate(world.ctx("ani"), message.id, 1, "Belum diperbaiki sama sekali.")
    page = await app.reviews.list(world.ctx("admin"))
    assert [(r.message_id, r.stars, r.ticket) for r in page.items] == [
        (message.id, 1, message.ticket)
    ]
    assert (await app.notifications.list(world.ctx("admin"))).items[0].kind == "review_opened"
    with pytest.raises(NotAllowed):
        await app.reviews.list(world.ctx("op_pupr"))
    with pytest.raises(NotAllowed):
        await app.messages.act(world.ctx("op_pupr"), message.id, "reopen", reason="x")

    world.clock.advance(days=3)
    reopened = await app.messages.act(
        world.ctx("admin"), message.id, "reopen", reason="Warga melaporkan belum diperbaiki."
    )

    assert reopened.status is Status.IN_PROGRESS and reopened.closed_at is None
    assert reopened.due_at is not None and reopened.stage_started_at == world.clock.now()
    assert (await app.reviews.list(world.ctx("admin"))).items == ()
    closed = await app.reviews.list(world.ctx("admin"), open_only=False)
    assert closed.items[0].outcome is ReviewOutcome.REOPENED
    log = await app.queries.message_log(world.ctx("op_pupr"), message.id)
    assert log[-1].action == "reopen" and log[-1].agency_id == world.agencies["pupr"]
    notes = await app.notifications.list(world.ctx("op_pupr"))
    assert notes.items[0].kind == "message_reopened"
    # Reopening needs an open review: a second reopen after the next reply is refused.
    await app.messages.act(
        world.ctx("op_pupr"), message.id, "reply", answer="Sudah, foto terlampir."
    )
    with pytest.raises(Conflict) as none:
        await app.messages.act(world.ctx("admin"), message.id, "reopen", reason="lagi")
    assert none.value.code == "review_not_open"


async def test_a_good_rating_opens_no_review_and_a_review_can_be_dismissed(world: World) -> None:
    app = world.app
    good = await world.drive(Status.DONE)
    await app.messages.rate(world.ctx("ani"), good.id, 3)
    assert (await app.reviews.list(world.ctx("admin"))).items == ()
    poor = await world.drive(Status.DONE)
    await app.messages.rate(world.ctx("ani"), poor.id, 2)
    dismissed = await app.reviews.dismiss(world.ctx("admin"), poor.id)
    assert dismissed.outcome is ReviewOutcome.DISMISSED
    with pytest.raises(Conflict):
        await app.reviews.dismiss(world.ctx("admin"), poor.id)
    with pytest.raises(Conflict):
        await app.messages.act(world.ctx("admin"), poor.id, "reopen", reason="x")


async def test_log_lines_name_the_agency_and_a_progress_update_is_an_update(
    world: World,
) -> None:
    message = await world.drive(Status.IN_PROGRESS)
    await world.app.messages.act(world.ctx("op_pupr"), message.id, "progress", note="Survei")
    log = await world.app.queries.message_log(world.ctx("admin"), message.id)
    lines = [log_line(e) for e in log]
    assert [line.text for line in lines] == [
        "Submitted",
        "Forwarded to %(agency)s",
        "Confirmed by %(agency)s",
        "Progress update",
    ]
    assert lines[1].agency_id == world.agencies["pupr"]
    assert [line.moves for line in lines] == [True, True, True, False]
    assert log_line(log[1], name_agency=False).text == "Forwarded to the agency in charge"


async def test_rating_again_after_a_reopening_keeps_the_earlier_rating(world: World) -> None:
    """The rating of the first answer is not lost when the new answer is rated:
    whoever sees the rating (its sender, the agency's staff, the admins) sees the
    earlier one too, with its comment; others see neither."""
    app = world.app
    message = await world.drive(Status.DONE)
    first = await app.messages.rate(world.ctx("ani"), message.id, 1, "Belum diperbaiki.")
    world.clock.advance(days=1)
    await app.messages.act(world.ctx("admin"), message.id, "reopen", reason="Cek lagi.")
    await app.messages.act(world.ctx("op_pupr"), message.id, "reply", answer="Sudah ditambal.")
    # done again, not rated yet: the first rating is the one on record
    waiting = await app.queries.message(world.ctx("ani"), message.id)
    assert "rate" in waiting.actions and waiting.replaced_ratings == ()
    world.clock.advance(hours=2)
    second = await app.messages.rate(world.ctx("ani"), message.id, 4, "Sekarang sudah baik.")
    for reader in ("ani", "op_pupr", "admin"):
        d = await app.queries.message(world.ctx(reader), message.id)
        assert d.rating is not None and (d.rating.stars, d.rating.comment) == (4, second.comment)
        [earlier] = d.replaced_ratings
        assert (earlier.stars, earlier.comment) == (1, "Belum diperbaiki.")
        assert earlier.created_at == first.created_at
        assert earlier.replaced_at == second.created_at
    with pytest.raises(NotFound):
        await app.queries.message(world.ctx("op_dinkes"), message.id)
    # the sender's own copy of their data holds it too
    export = await app.data_rights.export(world.ctx("ani"))
    try:
        import json
        import zipfile

        with zipfile.ZipFile(export.file) as archive:
            data = json.loads(archive.read("data.json"))
    finally:
        export.file.close()
    [entry] = [m for m in data["messages"] if m["ticket"] == message.ticket]
    assert [(r["stars"], r["comment"]) for r in entry["replaced_ratings"]] == [
        (1, "Belum diperbaiki.")
    ]
