"""SOP deadlines on real messages: each stage's clock, lateness announced once,
the super admin's days off moving open deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from aspirasi_core.domain.errors import Conflict, Invalid, NotAllowed
from aspirasi_core.domain.events import MessageOverdue, StatusChanged
from aspirasi_core.domain.model import Status
from aspirasi_core.services import SubmitInput
from aspirasi_core.storage.tables import messages

from .world import World

pytestmark = pytest.mark.anyio

# The world's clock starts on Monday 2 Nov 2026, 09:00 WITA (01:00 UTC).
WITA_MIDNIGHT_UTC = 16  # 00:00 WITA is 16:00 UTC the day before


def end_of(day: int, month: int = 11) -> datetime:
    """The exclusive deadline instant after ``day`` (local): next midnight WITA in UTC."""
    return datetime(2026, month, day, WITA_MIDNIGHT_UTC, 0, tzinfo=UTC)


async def submit(world: World, who: str = "ani", subject: str = "Jalan rusak"):
    return await world.app.messages.submit(world.ctx(who), SubmitInput(subject, "Berlubang."))


def fwd(world: World, sub: str = "infrastruktur", agency: str = "pupr") -> dict[str, Any]:
    return dict(
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories[sub],
        agency_id=world.agencies[agency],
        note="",
    )


async def test_each_stage_has_its_own_clock(world: World) -> None:
    app = world.app
    msg = await submit(world)
    # Triage: 3 working days (Tue 3, Wed 4, Thu 5 Nov).
    assert msg.due_at == end_of(5)
    assert msg.stage_started_at == world.clock.now()
    world.clock.advance(days=1)  # Tuesday
    forwarded = await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    # Confirm: 2 working days from Tuesday (Wed 4, Thu 5).
    assert forwarded.due_at == end_of(5)
    changed = [e for e in world.recorder.after if isinstance(e, StatusChanged)]
    assert changed[-1].due_at == forwarded.due_at
    world.clock.advance(days=3)  # Friday 6 Nov
    started = await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    # Reply: 10 working days from Friday: 9..13, 16..20 Nov.
    assert started.due_at == end_of(20)
    world.clock.advance(days=3)
    progressed = await app.messages.act(
        world.ctx("op_pupr"), msg.id, "progress", note="Sedang dikerjakan"
    )
    assert progressed.due_at == started.due_at  # a progress update does not move the clock
    assert progressed.stage_started_at == started.stage_started_at
    done = await app.messages.act(world.ctx("op_pupr"), msg.id, "reply", answer="Sudah diperbaiki.")
    assert done.due_at is None and done.stage_started_at is None
    assert not done.is_overdue(world.clock.now())


async def test_a_sub_category_sets_its_own_days_and_refuses_bad_ones(world: World) -> None:
    app = world.app
    root = world.ctx("root")
    lahan = world.subcategories["permasalahan-lahan"]
    updated = await app.admin.update_entry(
        root, "subcategory", lahan, sop_confirm_days="4", sop_reply_days=20
    )
    assert (updated.sop_confirm_days, updated.sop_reply_days) == (4, 20)
    msg = await submit(world)
    forwarded = await app.messages.act(
        world.ctx("admin"), msg.id, "forward", **fwd(world, "permasalahan-lahan")
    )
    assert forwarded.due_at == end_of(6)  # Tue..Fri
    with pytest.raises(Invalid) as caught:
        await app.admin.update_entry(root, "subcategory", lahan, sop_reply_days="0")
    assert caught.value.errors[0].field == "sop_reply_days"
    # Blank resets to the default.
    cleared = await app.admin.update_entry(root, "subcategory", lahan, sop_confirm_days="")
    assert cleared.sop_confirm_days is None and cleared.sop_reply_days == 20


async def test_reforwarding_restarts_the_confirm_clock(world: World) -> None:
    app = world.app
    msg = await submit(world)
    first = await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    world.clock.advance(days=2)  # Wednesday
    again = await app.messages.act(
        world.ctx("admin"), msg.id, "forward", **fwd(world, agency="dinkes")
    )
    assert again.due_at == end_of(6)  # Thu 5, Fri 6
    assert again.due_at != first.due_at


async def test_lateness_is_announced_once_per_deadline(world: World) -> None:
    app = world.app
    msg = await submit(world)
    assert await app.sop.sweep() == 0  # not late yet
    world.clock.current = end_of(5)  # the very instant the triage deadline passes
    assert await app.sop.sweep() == 1
    overdue = [e for e in world.recorder.in_transaction if isinstance(e, MessageOverdue)]
    assert [(e.message_id, e.stage, e.status) for e in overdue] == [
        (msg.id, "triage", Status.SUBMITTED)
    ]
    assert await app.sop.sweep() == 0  # announced already
    admin_notes = await app.notifications.list(world.ctx("admin"))
    assert any(n.kind == "message_overdue_triage" for n in admin_notes.items)
    op_notes = await app.notifications.list(world.ctx("op_pupr"))
    assert not any(n.kind.startswith("message_overdue") for n in op_notes.items)
    # Forwarding starts a new deadline, which is announced again when it passes,
    # this time to the agency's operators as well (and no other agency's).
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    world.clock.advance(days=10)
    assert await app.sop.sweep() == 1
    op_notes = await app.notifications.list(world.ctx("op_pupr"))
    assert [n.kind for n in op_notes.items if n.kind.startswith("message_overdue")] == [
        "message_overdue_confirm"
    ]
    other = await app.notifications.list(world.ctx("op_dinkes"))
    assert not any(n.kind.startswith("message_overdue") for n in other.items)


async def test_final_messages_are_never_late(world: World) -> None:
    app = world.app
    msg = await submit(world)
    await app.messages.act(world.ctx("ani"), msg.id, "withdraw")
    world.clock.advance(days=30)
    assert await app.sop.sweep() == 0


async def test_days_off_move_open_deadlines_and_are_for_super_admins(world: World) -> None:
    app = world.app
    msg = await submit(world)
    root = world.ctx("root")
    with pytest.raises(NotAllowed):
        await app.sop.add_day_off(world.ctx("admin"), "2026-11-04", "Cuti bersama")
    day = await app.sop.add_day_off(root, "2026-11-04", "Cuti bersama")
    stored = world.app.deps.db.run_sync(
        lambda uow: uow.connection.execute(
            select(messages.c.due_at).where(messages.c.id == msg.id)
        ).scalar_one(),
        write=False,
    )
    assert stored == end_of(6)  # Wednesday is off: Tue 3, Thu 5, Fri 6
    with pytest.raises(Conflict):
        await app.sop.add_day_off(root, date(2026, 11, 4), "Again")
    with pytest.raises(Invalid):
        await app.sop.add_day_off(root, "4 Nov", "Bad")
    # exactly YYYY-MM-DD (issue 20): no spaces, no basic or week spelling, no number
    for loose in (" 2026-11-05", "2026-11-05 ", "20261105", "2026-W45-4", 20261105):
        with pytest.raises(Invalid) as bad:
            await app.sop.add_day_off(root, loose, "Bad")
        assert [e.code for e in bad.value.errors] == ["bad_date"], loose
    with pytest.raises(Invalid) as far:
        await app.sop.add_day_off(root, "0001-01-01", "Bad")
    assert [e.code for e in far.value.errors] == ["date_range"]
    assert [d.day for d in await app.sop.days_off(root, 2026)] == [date(2026, 11, 4)]
    with pytest.raises(Invalid):
        await app.sop.days_off(root, 99999)
    await app.sop.remove_day_off(root, day.id)
    again = await app.queries.message(world.ctx("admin"), msg.id)
    assert again.message.due_at == end_of(5)
    assert await app.sop.days_off(root) == []


async def test_recompute_fills_deadlines_of_messages_from_before_the_sop(world: World) -> None:
    app = world.app
    msg = await submit(world)
    db = app.deps.db
    db.run_sync(
        lambda uow: uow.connection.execute(
            messages.update().where(messages.c.id == msg.id).values(due_at=None)
        ),
        write=True,
    )
    assert app.sop.recompute_sync() == 1
    assert (await app.queries.message(world.ctx("admin"), msg.id)).message.due_at == end_of(5)
    assert app.sop.recompute_sync() == 0


async def test_back_office_lists_filter_overdue_and_sort_by_deadline(world: World) -> None:
    from aspirasi_core.services import BackofficeQuery

    app = world.app
    admin = world.ctx("admin")
    first = await submit(world, subject="Pertama")  # triage due end of Thu 5
    world.clock.advance(days=1)
    second = await submit(world, subject="Kedua")  # Tuesday: due end of Fri 6
    world.clock.advance(days=1)
    third = await submit(world, subject="Ketiga")  # Wednesday: due end of Mon 9
    await app.messages.act(admin, third.id, "forward", **fwd(world))  # confirm: Thu 5, Fri 6
    closed = await submit(world, subject="Ditolak")
    await app.messages.act(admin, closed.id, "reject", reason="Bukan wewenang")
    by_due = await app.queries.backoffice(admin, BackofficeQuery(sort="due"), limit=2)
    # Equal deadlines (second and third) keep the order of their ids across pages.
    assert [m.id for m in by_due.items] == [first.id, second.id]
    rest = await app.queries.backoffice(
        admin, BackofficeQuery(sort="due"), cursor=by_due.next_cursor, limit=2
    )
    assert [m.id for m in rest.items] == [third.id] and rest.next_cursor is None
    world.clock.current = end_of(6)  # Saturday 00:00 WITA: first, second and third are late
    late = await app.queries.backoffice(admin, BackofficeQuery(overdue=True))
    assert {m.id for m in late.items} == {first.id, second.id, third.id}
    world.clock.current = end_of(5)
    late = await app.queries.backoffice(admin, BackofficeQuery(overdue="1", sort="due"))
    assert [m.id for m in late.items] == [first.id]
    # An operator sees only its agency's, whichever the order.
    op = await app.queries.backoffice(world.ctx("op_pupr"), BackofficeQuery(sort="due"))
    assert [m.id for m in op.items] == [third.id]
    assert (
        await app.queries.backoffice(world.ctx("op_dinkes"), BackofficeQuery(sort="due"))
    ).items == ()
    with pytest.raises(Invalid):
        await app.queries.backoffice(admin, BackofficeQuery(sort="oldest"))
    with pytest.raises(Invalid):
        await app.queries.backoffice(admin, BackofficeQuery(sort="due"), cursor="bm9wZQ")
    with pytest.raises(Invalid):
        await app.queries.backoffice(admin, BackofficeQuery(overdue="maybe"))


async def test_tracking_shows_when_the_next_step_is_due(world: World) -> None:
    from aspirasi_core.services import Context

    msg = await submit(world)
    tracked = await world.app.queries.track(Context(), "6472045504910001")
    assert [(t.ticket, t.due_at) for t in tracked] == [(msg.ticket, end_of(5))]


def stored_missed(world: World, message_id: int) -> bool:
    """``messages.sop_missed`` as stored (not as ``act()`` returned it)."""
    return bool(
        world.app.deps.db.run_sync(
            lambda uow: uow.execute(
                select(messages.c.sop_missed).where(messages.c.id == message_id)
            ).scalar_one(),
            write=False,
        )
    )


async def test_a_stage_the_agency_ends_late_marks_the_message(world: World) -> None:
    """``act()`` records whether the agency kept its deadlines (the evaluator's
    "completed within the SOP"), with the move: late to confirm, late to reply,
    on time; a return and a new forward start afresh."""
    app = world.app
    op, admin = world.ctx("op_pupr"), world.ctx("admin")
    on_time, late_confirm, late_reply = [await submit(world) for _ in range(3)]
    for msg in (on_time, late_confirm, late_reply):
        await app.messages.act(admin, msg.id, "forward", **fwd(world))  # due: end of Wed 4
    started = await app.messages.act(op, on_time.id, "start")
    assert started.sop_missed is False and not stored_missed(world, on_time.id)
    await app.messages.act(op, late_reply.id, "start")
    world.clock.advance(days=2, hours=15)  # Thursday 5 Nov, 00:00 WITA: the deadline itself
    late = await app.messages.act(op, late_confirm.id, "start")
    assert late.sop_missed is True and stored_missed(world, late_confirm.id)
    done = await app.messages.act(op, on_time.id, "reply", answer="Sudah.")
    assert done.sop_missed is False and not stored_missed(world, on_time.id)
    world.clock.advance(days=20)  # past the reply deadline (the end of Mon 16 Nov)
    replied = await app.messages.act(op, late_reply.id, "reply", answer="Terlambat.")
    assert replied.sop_missed is True and stored_missed(world, late_reply.id)
    # The late confirmation stays against the message through its agency's reply…
    assert (await app.messages.act(op, late_confirm.id, "reply", answer="Ya.")).sop_missed
    # …but a message returned and forwarded to another agency starts afresh.
    again = await submit(world)
    await app.messages.act(admin, again.id, "forward", **fwd(world))
    world.clock.advance(days=10)
    await app.messages.act(op, again.id, "start")
    assert stored_missed(world, again.id)
    await app.messages.act(op, again.id, "return", reason="Bukan kewenangan kami.")
    assert stored_missed(world, again.id)
    await app.messages.act(admin, again.id, "forward", **fwd(world, agency="dinkes"))
    assert not stored_missed(world, again.id)
    await app.messages.act(world.ctx("op_dinkes"), again.id, "start")
    assert not stored_missed(world, again.id)


async def test_a_reopened_message_keeps_its_misses_and_gets_a_new_deadline(world: World) -> None:
    """Oversight's reopening restarts the reply clock: the reply after it is
    judged by the new deadline, and what was missed before stays missed."""
    app = world.app
    op = world.ctx("op_pupr")
    kept = await world.drive(Status.DONE)
    assert not stored_missed(world, kept.id)
    await app.messages.rate(world.ctx("ani"), kept.id, 1, "Belum diperbaiki.")
    world.clock.advance(days=30)  # the first deadlines are long gone; the new one is not
    reopened = await app.messages.act(world.ctx("admin"), kept.id, "reopen", reason="Belum.")
    assert reopened.sop_missed is False
    world.clock.advance(days=1)
    await app.messages.act(op, kept.id, "reply", answer="Sudah, foto terlampir.")
    assert not stored_missed(world, kept.id)
    # The same story with a reply after the new deadline.
    slow = await world.drive(Status.DONE)
    await app.messages.rate(world.ctx("ani"), slow.id, 2, "Lambat.")
    await app.messages.act(world.ctx("admin"), slow.id, "reopen", reason="Belum.")
    world.clock.advance(days=30)
    await app.messages.act(op, slow.id, "reply", answer="Akhirnya.")
    assert stored_missed(world, slow.id)
