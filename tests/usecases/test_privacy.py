"""Anonymous means anonymous: what every reader gets of the sender of an
anonymous message through the core's reads, the audited reveal, and the
audit entries of staff reads of a sender."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from aspirasi_core.domain.audit import AuditAction
from aspirasi_core.domain.errors import Conflict, Invalid, NotAllowed, NotFound
from aspirasi_core.services import AuditQuery, BackofficeQuery, SubmitInput, Upload
from aspirasi_core.services.admin import AccountChanges

from .test_queries import LandMonitor
from .world import World, build_world

pytestmark = pytest.mark.anyio

STAFF = ("admin", "op_dinkes", "root")


def fwd(world: World, agency: str = "dinkes", sub: str = "infrastruktur") -> dict[str, Any]:
    return dict(
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories[sub],
        agency_id=world.agencies[agency],
    )


def jpeg() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 90, 0)).save(buf, "JPEG")
    return buf.getvalue()


async def seed(world: World) -> dict[str, int]:
    """budi sends one signed and one anonymous message to the same agency; the
    anonymous one is confirmed and updated (a log with staff entries too)."""
    app = world.app
    signed = await app.messages.submit(world.ctx("budi"), SubmitInput("Jalan", "Rusak"))
    await app.messages.act(world.ctx("admin"), signed.id, "forward", **fwd(world))
    hidden = await app.messages.submit(
        world.ctx("budi"),
        SubmitInput(
            "Pungli di puskesmas",
            "Diminta bayar.",
            anonymous=True,
            attachment=Upload("KTP Budi Santoso.jpg", jpeg()),
        ),
    )
    await app.messages.act(world.ctx("admin"), hidden.id, "forward", **fwd(world))
    await app.messages.act(world.ctx("op_dinkes"), hidden.id, "start")
    await app.messages.act(world.ctx("op_dinkes"), hidden.id, "progress", note="Sedang diperiksa.")
    return {"signed": signed.id, "hidden": hidden.id}


def ids_in(value: Any) -> set[int]:
    """Every account id a read model carries about people (authors, log actors)."""
    found: set[int] = set()
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            item = getattr(value, field.name)
            if field.name in ("author_id", "actor_id", "account_id") and isinstance(item, int):
                found.add(item)
            elif field.name == "author" and item is not None:
                found.add(item.id)
            else:
                found |= ids_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= ids_in(item)
    return found


async def test_no_staff_reader_gets_anything_of_the_anonymous_sender(world: World) -> None:
    ids = await seed(world)
    budi = world.accounts["budi"]
    q = world.app.queries
    for who in STAFF:
        ctx = world.ctx(who)
        detail = await q.message(ctx, ids["hidden"])
        assert detail.author is None, who
        assert detail.sender_hidden, who
        assert detail.message.author_id is None, who
        submit_entry = detail.log[0]
        assert submit_entry.action == "submit" and submit_entry.actor_id is None, who
        assert budi.id not in ids_in(detail), who
        assert budi.id not in ids_in(await q.message_log(ctx, ids["hidden"])), who
        # the staff entries keep their actor
        assert world.accounts["op_dinkes"].id in {e.actor_id for e in detail.log}
        (attachment,) = detail.message.attachments
        assert "budi" not in attachment.filename.lower(), attachment.filename
        # the same sender's signed message names them: nothing above may match it
        signed = await q.message(ctx, ids["signed"])
        assert signed.author is not None and signed.author.id == budi.id
        assert not signed.sender_hidden


async def test_the_lists_carry_no_sender_of_anonymous_messages(database, tmp_path) -> None:
    world = await build_world(database, tmp_path, plugins=(LandMonitor(),))
    ids = await seed(world)
    budi = world.accounts["budi"]
    app = world.app
    for who in STAFF:
        page = await app.queries.backoffice(world.ctx(who), BackofficeQuery())
        by_id = {m.id: m for m in page.items}
        assert by_id[ids["hidden"]].author_id is None, who
        assert by_id[ids["signed"]].author_id == budi.id, who
        logs = await app.queries.logs(world.ctx(who), [ids["hidden"], ids["signed"]])
        assert budi.id not in ids_in(logs[ids["hidden"]]), who
        assert budi.id in ids_in(logs[ids["signed"]]), who
    # a land-dispute monitor (a plugin scope) reads the same way
    land = await app.messages.submit(
        world.ctx("budi"), SubmitInput("Sengketa lahan", "Isi", anonymous=True)
    )
    await app.messages.act(
        world.ctx("admin"), land.id, "forward", **fwd(world, "pupr", "permasalahan-lahan")
    )
    await app.admin.update_account(
        world.ctx("root"),
        world.accounts["op_pupr"].id,
        AccountChanges(permissions=("test.monitor",)),
    )
    monitor = world.ctx("op_pupr")
    (row,) = (await app.queries.scoped(monitor, "land")).items
    assert row.id == land.id and row.author_id is None
    logs = await app.queries.logs(monitor, [land.id, ids["hidden"]])
    assert list(logs) == [land.id]  # not a message the monitor may read
    assert budi.id not in ids_in(logs[land.id]) and logs[land.id][0].action == "submit"
    assert budi.id not in ids_in(await app.queries.message(monitor, land.id))


async def test_the_sender_still_sees_their_own_message_as_theirs(world: World) -> None:
    ids = await seed(world)
    budi = world.accounts["budi"]
    own = await world.app.queries.message(world.ctx("budi"), ids["hidden"])
    assert own.author is not None and own.author.id == budi.id and not own.sender_hidden
    assert own.message.author_id == budi.id and own.log[0].actor_id == budi.id
    mine = await world.app.queries.my_messages(world.ctx("budi"))
    assert {m.author_id for m in mine.items} == {budi.id}
    with pytest.raises(NotFound):
        await world.app.queries.message(world.ctx("ani"), ids["hidden"])


async def test_staff_reads_of_a_sender_are_audited_and_nothing_else(world: World) -> None:
    ids = await seed(world)
    app = world.app
    budi = world.accounts["budi"]
    await app.queries.message(world.ctx("budi"), ids["signed"])  # the sender: no entry
    await app.queries.message(world.ctx("op_dinkes"), ids["hidden"])  # no sender shown
    await app.queries.backoffice(world.ctx("admin"), BackofficeQuery())
    await app.queries.public()
    assert (await app.audit.list(world.ctx("root"))).items == ()
    await app.queries.message(world.ctx("op_dinkes", client_ip="192.0.2.4"), ids["signed"])
    (entry,) = (await app.audit.list(world.ctx("root"))).items
    assert entry.action == AuditAction.MESSAGE_SENDER_READ
    assert entry.actor_id == world.accounts["op_dinkes"].id and entry.client_ip == "192.0.2.4"
    assert entry.subject_account_id == budi.id and entry.subject_message_id == ids["signed"]


async def test_the_super_admin_reveals_an_anonymous_sender_with_a_reason(world: World) -> None:
    ids = await seed(world)
    app = world.app
    budi = world.accounts["budi"]
    root = world.ctx("root", client_ip="192.0.2.9")
    revealed = await app.privacy.reveal_sender(
        root, ids["hidden"], "Court order 12/2026 asks for the sender."
    )
    assert revealed.account_id == budi.id and revealed.username == "budi"
    assert revealed.email == budi.email and revealed.full_name == budi.full_name
    assert revealed.nik_masked == budi.nik_masked and revealed.ticket
    (entry,) = (
        await app.audit.list(
            world.ctx("root"), AuditQuery(action=AuditAction.MESSAGE_SENDER_REVEAL)
        )
    ).items
    assert entry.id == revealed.audit_id
    assert entry.actor_id == world.accounts["root"].id and entry.client_ip == "192.0.2.9"
    assert entry.subject_account_id == budi.id and entry.subject_message_id == ids["hidden"]
    assert entry.reason == "Court order 12/2026 asks for the sender."
    # the reveal shows the sender in its answer only: normal reads stay anonymous
    assert (await app.queries.message(world.ctx("root"), ids["hidden"])).author is None


async def test_the_reveal_is_refused_without_the_permission_or_a_reason(world: World) -> None:
    ids = await seed(world)
    app = world.app
    for who in ("admin", "op_dinkes", "budi"):
        with pytest.raises((NotAllowed, NotFound)):
            await app.privacy.reveal_sender(world.ctx(who), ids["hidden"], "A good reason here.")
    root = world.ctx("root")
    for reason in ("", "   ", "short", 42, "x" * 2001):
        with pytest.raises(Invalid) as caught:
            await app.privacy.reveal_sender(root, ids["hidden"], reason)  # type: ignore[arg-type]
        assert caught.value.errors[0].field == "reason"
    with pytest.raises(Conflict) as conflict:
        await app.privacy.reveal_sender(root, ids["signed"], "The sender is named anyway.")
    assert conflict.value.code == "message_not_anonymous"
    for missing in (0, 10**9, "abc"):
        with pytest.raises((NotFound, Invalid)):
            await app.privacy.reveal_sender(root, missing, "Looking for nothing.")  # type: ignore[arg-type]
    assert (await app.audit.list(root)).items == ()


async def test_a_citizens_account_page_is_audited(world: World) -> None:
    app = world.app
    ani = world.accounts["ani"]
    await app.admin.get_account(world.ctx("root"), world.accounts["admin"].id)  # staff: no entry
    assert (await app.audit.list(world.ctx("root"))).items == ()
    await app.admin.get_account(world.ctx("root"), ani.id)
    (entry,) = (await app.audit.list(world.ctx("root"))).items
    assert entry.action == AuditAction.ACCOUNT_READ and entry.subject_account_id == ani.id
