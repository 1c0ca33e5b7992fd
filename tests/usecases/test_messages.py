"""Message use cases: the workflow of SPEC.md on a real database."""

from __future__ import annotations

import io
from typing import Any

import anyio
import pytest
from PIL import Image

from aspirasi_core.domain.errors import (
    Conflict,
    IllegalTransition,
    Invalid,
    NotAllowed,
    NotFound,
    Unauthenticated,
)
from aspirasi_core.domain.model import Status
from aspirasi_core.services import Context, SubmitInput, Upload

from .world import World

pytestmark = pytest.mark.anyio


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def fwd(
    world: World, agency: str = "pupr", sub: str = "infrastruktur", cat: str = "aduan"
) -> dict[str, Any]:
    return dict(
        category_id=world.categories[cat],
        subcategory_id=world.subcategories[sub],
        agency_id=world.agencies[agency],
        note="see to it",
    )


async def test_the_whole_workflow(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(
        world.ctx("ani"),
        SubmitInput(
            "Jalan rusak",
            "Jalan di depan pasar berlubang.",
            attachment=Upload("foto.JPG", jpeg_bytes()),
        ),
    )
    assert msg.status is Status.SUBMITTED and msg.ticket and len(msg.attachments) == 1
    assert msg.attachments[0].content_type == "image/jpeg"
    # admins are notified in-app
    assert await app.notifications.unread_count(world.ctx("admin")) == 1
    # operators see nothing yet
    with pytest.raises(NotFound):
        await app.queries.message(world.ctx("op_pupr"), msg.id)

    forwarded = await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    assert forwarded.status is Status.FORWARDED and forwarded.agency_id == world.agencies["pupr"]
    assert await app.notifications.unread_count(world.ctx("op_pupr")) == 1
    assert await app.notifications.unread_count(world.ctx("op_dinkes")) == 0

    # the reply is impossible until in progress
    with pytest.raises(IllegalTransition) as exc:
        await app.messages.act(world.ctx("op_pupr"), msg.id, "reply", answer="done")
    assert "forwarded" in str(exc.value) and "reply" in str(exc.value)

    # the other agency's operator cannot even see it
    with pytest.raises(NotFound):
        await app.messages.act(world.ctx("op_dinkes"), msg.id, "start")

    started = await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    assert started.status is Status.IN_PROGRESS
    await app.messages.act(world.ctx("op_pupr"), msg.id, "progress", note="Tim sudah survei.")
    done = await app.messages.act(
        world.ctx("op_pupr"),
        msg.id,
        "reply",
        answer="Sudah diperbaiki.",
        attachment=Upload("jawaban.pdf", pdf_bytes()),
    )
    assert done.status is Status.DONE

    detail = await app.queries.message(world.ctx("ani"), msg.id)
    assert detail.reply is not None and detail.reply.answer == "Sudah diperbaiki."
    assert detail.reply.attachment is not None
    assert detail.reply.attachment.content_type == "application/pdf"
    assert [e.action for e in detail.log] == ["submit", "forward", "start", "progress", "reply"]
    assert [e.to_status for e in detail.log] == [
        Status.SUBMITTED,
        Status.FORWARDED,
        Status.IN_PROGRESS,
        Status.IN_PROGRESS,
        Status.DONE,
    ]
    assert "rate" in detail.actions

    rating = await app.messages.rate(world.ctx("ani"), msg.id, 5, "Cepat!")
    assert rating.stars == 5
    with pytest.raises(Conflict) as again:
        await app.messages.rate(world.ctx("ani"), msg.id, 4, "")
    assert again.value.code == "rating_exists"
    detail = await app.queries.message(world.ctx("ani"), msg.id)
    assert detail.rating is not None and "rate" not in detail.actions

    # every step produced an event after commit, in order
    names = [e.name for e in world.recorder.after]
    assert names == [
        "MessageSubmitted",
        "StatusChanged",
        "StatusChanged",
        "StatusChanged",
        "StatusChanged",
        "MessageRated",
    ]


async def test_attachments_are_served_only_to_readers(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(
        world.ctx("ani"), SubmitInput("s", "b", attachment=Upload("x.jpg", jpeg_bytes()))
    )
    att = msg.attachments[0]
    name, ctype, data = await app.queries.attachment(world.ctx("ani"), msg.id, att.id)
    assert ctype == "image/jpeg" and data[:3] == b"\xff\xd8\xff" and name.endswith(".jpg")
    for other in ("budi", "op_pupr"):
        with pytest.raises(NotFound):
            await app.queries.attachment(world.ctx(other), msg.id, att.id)
    await app.queries.attachment(world.ctx("admin"), msg.id, att.id)


async def test_a_bad_attachment_leaves_nothing_behind(world: World, tmp_path) -> None:
    before = world.count("messages"), world.count("attachments"), world.count("outbox")
    with pytest.raises(Invalid) as exc:
        await world.app.messages.submit(
            world.ctx("ani"),
            SubmitInput("s", "b", attachment=Upload("x.jpg", b"GIF89a not a jpeg")),
        )
    assert exc.value.errors[0].code == "file_type"
    assert (world.count("messages"), world.count("attachments"), world.count("outbox")) == before
    files = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert files == []


async def test_a_vetoed_submission_removes_its_stored_file(database, tmp_path) -> None:
    from aspirasi_core import hookimpl

    from .world import build_world

    class Veto:
        @hookimpl
        def aspirasi_validate_submission(self, actor, draft):
            raise NotAllowed("Quiet hours.", code="quiet_hours")

    world = await build_world(database, tmp_path, plugins=(Veto(),))
    with pytest.raises(NotAllowed):
        await world.app.messages.submit(
            world.ctx("ani"), SubmitInput("s", "b", attachment=Upload("x.jpg", jpeg_bytes()))
        )
    assert world.count("messages") == 0
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []


async def test_a_cancellation_after_the_commit_keeps_the_committed_file(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request is cancelled while the committed transaction's thread returns:
    the message exists, so its file must too (the attachment sweep promotes it)."""
    db = world.app.deps.db
    real = db.transaction

    async def committed_then_cancelled(fn, *, write=True):  # type: ignore[no-untyped-def]
        result = await real(fn, write=write)
        if write:
            raise anyio.get_cancelled_exc_class()()
        return result

    monkeypatch.setattr(db, "transaction", committed_then_cancelled)
    with pytest.raises(anyio.get_cancelled_exc_class()):
        await world.app.messages.submit(
            world.ctx("ani"), SubmitInput("s", "b", attachment=Upload("x.jpg", jpeg_bytes()))
        )
    monkeypatch.undo()
    assert world.count("messages") == 1
    (key,) = db.run_sync(
        lambda uow: uow.messages.storage_keys_in(
            [p.name for p in world.app.deps.files.root.rglob("*") if p.is_file()]  # type: ignore[attr-defined]
        ),
        write=False,
    )
    assert world.app.deps.files.exists(key)  # type: ignore[attr-defined]


async def test_submission_input_is_validated(world: World) -> None:
    ctx = world.ctx("ani")
    for data, field, code in [
        (SubmitInput("", "body"), "subject", "required"),
        (SubmitInput("   ", "body"), "subject", "required"),
        (SubmitInput("s" * 201, "body"), "subject", "too_long"),
        (SubmitInput("subject", ""), "body", "required"),
        (SubmitInput("subject", "b" * 5001), "body", "too_long"),
        (SubmitInput("subject\x00", "body"), "subject", "bad_characters"),
    ]:
        with pytest.raises(Invalid) as exc:
            await world.app.messages.submit(ctx, data)
        assert {(e.field, e.code) for e in exc.value.errors} == {(field, code)}
    assert world.count("messages") == 0
    with pytest.raises(Unauthenticated):
        await world.app.messages.submit(Context(), SubmitInput("s", "b"))
    with pytest.raises(NotAllowed):
        await world.app.messages.submit(world.ctx("op_pupr"), SubmitInput("s", "b"))


async def test_withdraw_only_while_submitted_and_only_by_the_owner(world: World) -> None:
    app = world.app
    m1 = await app.messages.submit(world.ctx("ani"), SubmitInput("one", "b"))
    m2 = await app.messages.submit(world.ctx("ani"), SubmitInput("two", "b"))
    with pytest.raises(NotFound):
        await app.messages.act(world.ctx("budi"), m1.id, "withdraw")
    with pytest.raises(NotAllowed):
        await app.messages.act(world.ctx("admin"), m1.id, "withdraw")
    gone = await app.messages.act(world.ctx("ani"), m1.id, "withdraw")
    assert gone.status is Status.WITHDRAWN
    await app.messages.act(world.ctx("admin"), m2.id, "forward", **fwd(world))
    with pytest.raises(IllegalTransition):
        await app.messages.act(world.ctx("ani"), m2.id, "withdraw")
    # withdrawn is gone from every list and page, even for its owner
    mine = await app.queries.my_messages(world.ctx("ani"))
    assert [m.id for m in mine.items] == [m2.id]
    with pytest.raises(NotFound):
        await app.queries.message(world.ctx("ani"), m1.id)
    with pytest.raises(NotFound):
        await app.queries.message(world.ctx("admin"), m1.id)
    office = await app.queries.backoffice(world.ctx("admin"), _q())
    assert m1.id not in [m.id for m in office.items]


def _q(**kw):
    from aspirasi_core.services import BackofficeQuery

    return BackofficeQuery(**kw)


async def test_forward_validation_and_reforward(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    admin = world.ctx("admin")
    bad = dict(
        category_id=world.categories["aspirasi"],
        subcategory_id=world.subcategories["infrastruktur"],
        agency_id=world.agencies["pupr"],
    )
    with pytest.raises(Invalid) as exc:
        await app.messages.act(admin, msg.id, "forward", **bad)
    assert exc.value.errors[0].field == "subcategory_id"
    with pytest.raises(Invalid):
        await app.messages.act(
            admin,
            msg.id,
            "forward",
            category_id=world.categories["aduan"],
            subcategory_id=world.subcategories["infrastruktur"],
            agency_id=99999,
        )
    with pytest.raises(Invalid):
        await app.messages.act(
            admin, msg.id, "forward", category_id="x", subcategory_id=None, agency_id=-1
        )  # type: ignore[arg-type]
    # An operator's role may not forward at all: refused before the message is
    # looked at (so it says nothing about the message).
    with pytest.raises(NotAllowed):
        await app.messages.act(world.ctx("op_pupr"), msg.id, "forward", **fwd(world))
    with pytest.raises(NotAllowed):  # the owner sees it but may not forward it
        await app.messages.act(world.ctx("ani"), msg.id, "forward", **fwd(world))
    assert (await app.queries.message(admin, msg.id)).message.status is Status.SUBMITTED

    await app.messages.act(admin, msg.id, "forward", **fwd(world, "pupr"))
    with pytest.raises(Conflict):
        await app.messages.act(admin, msg.id, "forward", **fwd(world, "pupr"))
    moved = await app.messages.act(admin, msg.id, "forward", **fwd(world, "dinkes"))
    assert moved.agency_id == world.agencies["dinkes"]
    log = await app.queries.message_log(admin, msg.id)
    assert [e.action for e in log] == ["submit", "forward", "reforward"]
    # pupr lost it, dinkes has it
    with pytest.raises(NotFound):
        await app.queries.message(world.ctx("op_pupr"), msg.id)
    await app.queries.message(world.ctx("op_dinkes"), msg.id)
    await app.messages.act(world.ctx("op_dinkes"), msg.id, "start")
    with pytest.raises(IllegalTransition):
        await app.messages.act(admin, msg.id, "forward", **fwd(world, "pupr"))


async def test_reject_needs_a_reason_and_is_final(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    with pytest.raises(Invalid):
        await app.messages.act(world.ctx("admin"), msg.id, "reject", reason="  ")
    rejected = await app.messages.act(
        world.ctx("admin"), msg.id, "reject", reason="Bukan kewenangan provinsi."
    )
    assert rejected.status is Status.REJECTED
    log = await app.queries.message_log(world.ctx("ani"), msg.id)
    assert log[-1].note == "Bukan kewenangan provinsi."
    with pytest.raises(IllegalTransition):
        await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))


async def test_rating_rules(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    with pytest.raises(Conflict) as exc:
        await app.messages.rate(world.ctx("ani"), msg.id, 5, "")
    assert exc.value.code == "rating_not_done"
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    await app.messages.act(world.ctx("op_pupr"), msg.id, "reply", answer="ok")
    for stars in (0, 6, "x", None, True, 2.5):
        with pytest.raises(Invalid):
            await app.messages.rate(world.ctx("ani"), msg.id, stars, "")
    with pytest.raises(NotFound):
        await app.messages.rate(world.ctx("budi"), msg.id, 3, "")
    with pytest.raises(Invalid):
        await app.messages.rate(world.ctx("ani"), msg.id, 3, "c" * 1001)
    await app.messages.rate(world.ctx("ani"), msg.id, "4", "ok")


async def test_progress_needs_a_note_and_the_right_status(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    with pytest.raises(IllegalTransition):
        await app.messages.act(world.ctx("op_pupr"), msg.id, "progress", note="note")
    await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    with pytest.raises(Invalid):
        await app.messages.act(world.ctx("op_pupr"), msg.id, "progress", note="")
    with pytest.raises(Invalid):
        await app.messages.act(
            world.ctx("op_pupr"),
            msg.id,
            "reply",
            answer="ok",
            attachment=Upload("x.jpg", jpeg_bytes()),
        )
    assert (
        await app.queries.message(world.ctx("admin"), msg.id)
    ).message.status is Status.IN_PROGRESS


async def test_concurrent_starts_have_one_winner(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    outcomes: list[object] = []

    async def start(name: str) -> None:
        try:
            outcomes.append(await app.messages.act(world.ctx(name), msg.id, "start"))
        except (Conflict, IllegalTransition) as exc:
            outcomes.append(exc)

    async with anyio.create_task_group() as tg:
        for name in ("op_pupr", "op_pupr2", "op_pupr", "op_pupr2"):
            tg.start_soon(start, name)
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1
    log = await app.queries.message_log(world.ctx("admin"), msg.id)
    assert [e.action for e in log].count("start") == 1


async def test_concurrent_submissions_all_land(world: World) -> None:
    app = world.app

    async def submit(i: int) -> None:
        await app.messages.submit(world.ctx("ani" if i % 2 else "budi"), SubmitInput(f"s{i}", "b"))

    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(submit, i)
    assert world.count("messages") == 30
    assert world.count("message_log") == 30


async def test_notifications_belong_to_their_owner(world: World) -> None:
    app = world.app
    await app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    page = await app.notifications.list(world.ctx("admin"))
    assert len(page.items) == 1 and page.items[0].kind == "message_submitted"
    assert page.items[0].params["ticket"]
    nid = page.items[0].id
    with pytest.raises(NotFound):
        await app.notifications.mark_read(world.ctx("op_pupr"), nid)
    await app.notifications.mark_read(world.ctx("admin"), nid)
    assert await app.notifications.unread_count(world.ctx("admin")) == 0
    with pytest.raises(Invalid):
        await app.notifications.mark_read(world.ctx("admin"), "abc")  # type: ignore[arg-type]
