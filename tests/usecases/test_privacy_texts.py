"""Privacy of the texts around a message (issue 18): internal notes stay with the
staff, tracking by NIK shows the minimum, personal data typed into a message is
masked in public, and notifications follow the current access rules."""

from __future__ import annotations

from typing import Any

import pytest

from aspirasi_core.domain.errors import Invalid, NotFound
from aspirasi_core.domain.events import StatusChanged
from aspirasi_core.domain.model import Status, Visibility
from aspirasi_core.services import BackofficeQuery, Context, SubmitInput, Upload

from .test_messages import pdf_bytes
from .world import NIKS, World

pytestmark = pytest.mark.anyio

NOTE = "Untuk instansi: pelapor sering mengadu, cek dulu."


def fwd(world: World, agency: str = "pupr", **kw) -> dict[str, Any]:
    return dict(
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories["infrastruktur"],
        agency_id=world.agencies[agency],
        **kw,
    )


async def submitted(world: World, who: str = "ani", **kw) -> int:
    kw.setdefault("subject", "Jalan rusak")
    kw.setdefault("body", "Jalan berlubang di KM 5.")
    return (await world.app.messages.submit(world.ctx(who), SubmitInput(**kw))).id


async def notes_seen(world: World, who: str, message_id: int) -> list[str]:
    detail = await world.app.queries.message(world.ctx(who), message_id)
    log = await world.app.queries.message_log(world.ctx(who), message_id)
    assert [e.note for e in detail.log] == [e.note for e in log]
    return [e.note for e in log if e.note]


# --------------------------------------------------------------------------- texts for the sender


async def test_the_forwarding_note_is_internal_by_default(world: World) -> None:
    mid = await submitted(world)
    await world.app.messages.act(world.ctx("admin"), mid, "forward", **fwd(world, note=NOTE))
    assert await notes_seen(world, "ani", mid) == []
    for staff in ("admin", "op_pupr"):
        assert await notes_seen(world, staff, mid) == [NOTE]
    entry = (await world.app.queries.message_log(world.ctx("op_pupr"), mid))[-1]
    assert entry.note_visibility is Visibility.INTERNAL
    # Re-forwarding too; the new agency's operators read both notes, the sender none.
    await world.app.messages.act(
        world.ctx("admin"), mid, "forward", **fwd(world, "dinkes", note="Salah instansi.")
    )
    assert await notes_seen(world, "ani", mid) == []
    assert await notes_seen(world, "op_dinkes", mid) == [NOTE, "Salah instansi."]


async def test_a_note_chosen_for_the_sender_reaches_the_sender(world: World) -> None:
    mid = await submitted(world)
    await world.app.messages.act(
        world.ctx("admin"),
        mid,
        "forward",
        **fwd(world, note="Diteruskan ke PUPR.", visibility="sender"),
    )
    assert await notes_seen(world, "ani", mid) == ["Diteruskan ke PUPR."]
    [event] = [e for e in world.recorder.after if isinstance(e, StatusChanged)]
    assert event.note_visibility is Visibility.SENDER


async def test_defaults_and_choices_of_the_other_texts(world: World) -> None:
    app = world.app
    rejected = await submitted(world)
    await app.messages.act(
        world.ctx("admin"), rejected, "reject", reason="Bukan kewenangan provinsi."
    )
    assert await notes_seen(world, "ani", rejected) == ["Bukan kewenangan provinsi."]
    quiet = await submitted(world)
    await app.messages.act(
        world.ctx("admin"), quiet, "reject", reason="Spam berulang.", visibility="internal"
    )
    assert await notes_seen(world, "ani", quiet) == []
    assert await notes_seen(world, "admin", quiet) == ["Spam berulang."]

    mid = await submitted(world)
    await app.messages.act(world.ctx("admin"), mid, "forward", **fwd(world))
    op = world.ctx("op_pupr")
    await app.messages.act(op, mid, "start", note="Kami tangani.")
    await app.messages.act(op, mid, "progress", note="Survei lokasi selesai.")
    await app.messages.act(
        op, mid, "progress", note="Kontraktor lambat, tegur.", visibility="internal"
    )
    assert await notes_seen(world, "ani", mid) == ["Kami tangani.", "Survei lokasi selesai."]
    assert await notes_seen(world, "op_pupr", mid) == [
        "Kami tangani.",
        "Survei lokasi selesai.",
        "Kontraktor lambat, tegur.",
    ]
    log = await app.queries.message_log(op, mid)
    assert [e.note_visibility for e in log if e.note] == [
        Visibility.SENDER,
        Visibility.SENDER,
        Visibility.INTERNAL,
    ]


async def test_an_internal_reply_and_its_file_stay_with_the_staff(world: World) -> None:
    app = world.app
    mid = await submitted(world)
    await app.messages.act(world.ctx("admin"), mid, "forward", **fwd(world))
    op = world.ctx("op_pupr")
    await app.messages.act(op, mid, "start")
    await app.messages.act(
        op,
        mid,
        "reply",
        answer="Jawaban internal.",
        attachment=Upload("jawaban.pdf", pdf_bytes()),
        visibility="internal",
    )
    staff = await app.queries.message(op, mid)
    assert staff.reply is not None and staff.reply.visibility is Visibility.INTERNAL
    assert staff.reply.attachment is not None
    owner = await app.queries.message(world.ctx("ani"), mid)
    assert owner.message.status is Status.DONE
    assert owner.reply is None
    assert "Jawaban internal." not in [e.note for e in owner.log]
    with pytest.raises(NotFound):
        await app.queries.attachment(world.ctx("ani"), mid, staff.reply.attachment.id)
    name, _, _ = await app.queries.attachment(op, mid, staff.reply.attachment.id)
    assert name == "jawaban.pdf"


async def test_a_reply_for_the_sender_is_the_default(world: World) -> None:
    app = world.app
    mid = await submitted(world)
    await app.messages.act(world.ctx("admin"), mid, "forward", **fwd(world))
    await app.messages.act(world.ctx("op_pupr"), mid, "start")
    await app.messages.act(world.ctx("op_pupr"), mid, "reply", answer="Sudah diperbaiki.")
    owner = await app.queries.message(world.ctx("ani"), mid)
    assert owner.reply is not None and owner.reply.answer == "Sudah diperbaiki."
    assert owner.reply.visibility is Visibility.SENDER


@pytest.mark.parametrize("bad", ["public", "", 1, True, ["sender"]])
async def test_an_unknown_visibility_is_refused_and_nothing_changes(world: World, bad) -> None:
    mid = await submitted(world)
    with pytest.raises(Invalid) as refused:
        await world.app.messages.act(
            world.ctx("admin"), mid, "forward", **fwd(world, visibility=bad)
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("visibility", "visibility_unknown")
    ]
    with pytest.raises(Invalid):
        await world.app.messages.act(world.ctx("admin"), mid, "reject", reason="x", visibility=bad)
    detail = await world.app.queries.message(world.ctx("admin"), mid)
    assert detail.message.status is Status.SUBMITTED and len(detail.log) == 1


# --------------------------------------------------------------------------- tracking


async def test_tracking_shows_the_minimum(world: World) -> None:
    app = world.app
    admin, op = world.ctx("admin"), world.ctx("op_pupr")
    waiting = await submitted(world, subject="Belum diteruskan")
    public = await submitted(world, subject="Jalan rusak, HP 0812-3456-7890")
    await app.messages.act(admin, public, "forward", **fwd(world, note=NOTE, visibility="sender"))
    await app.messages.act(op, public, "start", note="Kami tangani.")
    await app.messages.act(op, public, "progress", note="Survei selesai.")
    await app.messages.act(op, public, "reply", answer="Jawaban lengkap untuk pelapor.")
    rejected = await submitted(world, subject="Ditolak saja")
    await app.messages.act(admin, rejected, "reject", reason="Alasan penolakan.")
    hidden = await submitted(world, subject="Rahasia", confidential=True)
    await app.messages.act(admin, hidden, "forward", **fwd(world))
    anonymous = await submitted(world, subject="Tanpa nama", anonymous=True)
    await app.messages.act(admin, anonymous, "forward", **fwd(world))

    tracked = await app.queries.track(Context(), NIKS[0])
    tickets = {
        (await app.queries.message(admin, i)).message.ticket: name
        for i, name in (
            (waiting, "waiting"),
            (public, "public"),
            (rejected, "rejected"),
            (hidden, "hidden"),
            (anonymous, "anonymous"),
        )
    }
    by_name = {tickets[t.ticket]: t for t in tracked}
    assert set(by_name) == {"waiting", "public", "rejected"}  # never confidential or anonymous
    # a subject only for a message on the public list, masked as the list shows it
    assert by_name["public"].subject == "Jalan rusak, HP 0812*****890"
    assert by_name["waiting"].subject is None and by_name["rejected"].subject is None
    # the dated status steps, and nothing staff wrote
    steps = [(e.from_status, e.to_status) for e in by_name["public"].log]
    assert steps == [
        (None, Status.SUBMITTED),
        (Status.SUBMITTED, Status.FORWARDED),
        (Status.FORWARDED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.DONE),
    ]
    assert all(e.at is not None for e in by_name["public"].log)
    shown = repr(tracked)
    for text in (NOTE, "Kami tangani.", "Survei selesai.", "Jawaban lengkap", "Alasan penolakan"):
        assert text not in shown
    assert by_name["waiting"].due_at is not None  # the SOP deadline


# --------------------------------------------------------------------------- masking in public

PII_BODY = (
    "Saya Ani, NIK 6472045504910001, WA 0812-3456-7890, e-mail ani.warga@gmail.com."
    " Kejadian 08.12.2024 pukul 10.30, kerugian Rp 1.500.000."
)


async def test_personal_data_is_masked_in_public_and_cannot_be_searched_for(
    world: World,
) -> None:
    app = world.app
    mid = await submitted(world, subject="Pungli, hubungi 0812 3456 7890", body=PII_BODY)
    await app.messages.act(world.ctx("admin"), mid, "forward", **fwd(world))
    [shown] = (await app.queries.public()).items
    assert shown.subject == "Pungli, hubungi 0812*****890"
    assert shown.body == (
        "Saya Ani, NIK 6472********0001, WA 0812*****890, e-mail a***@***.com."
        " Kejadian 08.12.2024 pukul 10.30, kerugian Rp 1.500.000."
    )
    # searching must not confirm a guessed value, whole or in part
    for probe in ("6472045504910001", "04550491", "3456-7890", "3456 7890", "ani.warga", "gmail"):
        assert (await app.queries.public(text=probe)).items == (), probe
    for visible in ("6472", "0812*", "Rp 1.500.000", "pungli"):
        assert [m.id for m in (await app.queries.public(text=visible)).items] == [mid]
    # the owner and the staff with access read the original
    for who in ("ani", "admin", "op_pupr"):
        detail = await app.queries.message(world.ctx(who), mid)
        assert detail.message.body == PII_BODY
    staff_search = await app.queries.backoffice(
        world.ctx("admin"), BackofficeQuery(text="6472045504910001")
    )
    assert [m.id for m in staff_search.items] == [mid]


# --------------------------------------------------------------------------- notifications


async def test_notifications_follow_the_current_access_rules(world: World) -> None:
    app = world.app
    mid = await submitted(world, subject="Pungli di puskesmas")
    await app.messages.act(world.ctx("admin"), mid, "forward", **fwd(world))
    [before] = (await app.notifications.list(world.ctx("op_pupr"))).items
    assert before.message_id == mid and before.params["subject"] == "Pungli di puskesmas"
    await app.messages.act(world.ctx("admin"), mid, "forward", **fwd(world, "dinkes"))
    [after] = (await app.notifications.list(world.ctx("op_pupr"))).items
    assert after.id == before.id
    assert after.message_id is None  # no link to a message one cannot open
    assert "Pungli di puskesmas" not in repr(after)
    assert after.params.get("ticket") == before.params["ticket"]
    # the agency that has it now reads its notification in full
    [dinkes] = (await app.notifications.list(world.ctx("op_dinkes"))).items
    assert dinkes.message_id == mid and dinkes.params["subject"] == "Pungli di puskesmas"
    # the admins still see it: they read every message
    admin = (await app.notifications.list(world.ctx("admin"))).items
    assert all(n.params.get("subject") == "Pungli di puskesmas" for n in admin)
