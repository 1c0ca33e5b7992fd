"""The audit log's use cases: recording (in a transaction, on its own) and the
super admin's filtered list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aspirasi_core.domain.errors import Invalid, NotAllowed, Unauthenticated
from aspirasi_core.services import AuditQuery, Context, SubmitInput
from aspirasi_core.services.audit import record

from .world import World

pytestmark = pytest.mark.anyio


async def test_record_in_a_transaction_commits_and_rolls_back_with_it(world: World) -> None:
    app = world.app
    ani = world.accounts["ani"]
    ctx = world.ctx("root", client_ip="198.51.100.7")
    now = world.clock.now()

    def released(uow):  # the act and its entry, in one transaction
        return record(
            uow,
            ctx,
            "account.nik_release",
            at=now,
            subject_account_id=ani.id,
            reason="  The owner proved the NIK.  ",
            details={"ticket": 42},
        )

    entry_id = await app.deps.db.transaction(released)

    class Boom(Exception):
        pass

    def failed(uow):
        record(uow, ctx, "account.nik_release", at=now, subject_account_id=ani.id)
        raise Boom

    with pytest.raises(Boom):
        await app.deps.db.transaction(failed)
    page = await app.audit.list(world.ctx("root"))
    (entry,) = page.items
    assert entry.id == entry_id and entry.action == "account.nik_release"
    assert entry.actor_id == world.accounts["root"].id and entry.actor_username == "root"
    assert entry.subject_account_id == ani.id and entry.reason == "The owner proved the NIK."
    assert entry.client_ip == "198.51.100.7" and entry.details == {"ticket": "42"}
    assert entry.at == now


async def test_record_on_its_own_and_by_the_system(world: World) -> None:
    app = world.app
    first = await app.audit.record(world.ctx("admin"), "account.data_export")
    second = await app.audit.record(Context.system(), "account.delete", subject_account_id=None)
    page = await app.audit.list(world.ctx("root"))
    assert [e.id for e in page.items] == [second, first]
    assert page.items[0].actor_id is None and page.items[1].actor_username == "admin"


async def test_bad_action_names_and_reasons_are_refused(world: World) -> None:
    app = world.app
    for bad in ("read", "Account.Read", "account.", "account read", "a." + "x" * 70):
        with pytest.raises(ValueError):
            await app.audit.record(world.ctx("root"), bad)
    with pytest.raises(Invalid) as caught:
        await app.audit.record(world.ctx("root"), "account.read", reason="x" * 2001)
    assert caught.value.errors[0].field == "reason"
    with pytest.raises(ValueError):
        await app.audit.record(world.ctx("root"), "account.read", details={"k": "v" * 201})
    assert (await app.audit.list(world.ctx("root"))).items == ()


async def test_only_the_super_admin_reads_the_log(world: World) -> None:
    await world.app.audit.record(world.ctx("admin"), "account.read")
    for who in ("admin", "op_pupr", "ani"):
        with pytest.raises(NotAllowed):
            await world.app.audit.list(world.ctx(who))
    with pytest.raises(Unauthenticated):
        await world.app.audit.list(Context())


async def test_filters_by_actor_action_subject_ticket_and_dates(world: World) -> None:
    app = world.app
    ani, budi = world.accounts["ani"], world.accounts["budi"]
    message = await app.messages.submit(world.ctx("ani"), SubmitInput("Jalan", "Rusak"))
    start = world.clock.now()
    await app.audit.record(world.ctx("admin"), "account.read", subject_account_id=ani.id)
    world.clock.advance(days=1)
    await app.audit.record(
        world.ctx("op_pupr"),
        "message.sender_read",
        subject_account_id=ani.id,
        subject_message_id=message.id,
    )
    world.clock.advance(days=1)
    await app.audit.record(world.ctx("admin"), "account.read", subject_account_id=budi.id)
    root = world.ctx("root")

    async def actions(**query) -> list[str]:
        page = await app.audit.list(root, AuditQuery(**query))
        return [f"{e.actor_username}:{e.action}" for e in page.items]

    assert await actions(actor="admin") == ["admin:account.read", "admin:account.read"]
    assert await actions(actor="ADMIN@example.org") == await actions(actor="admin")
    assert await actions(actor=world.accounts["op_pupr"].id) == ["op_pupr:message.sender_read"]
    assert await actions(actor=str(world.accounts["op_pupr"].id)) == ["op_pupr:message.sender_read"]
    assert await actions(actor="nobody") == []
    assert await actions(action="message.sender_read") == ["op_pupr:message.sender_read"]
    assert await actions(subject_account_id=str(budi.id)) == ["admin:account.read"]
    assert await actions(subject_message_id=message.id) == ["op_pupr:message.sender_read"]
    assert await actions(ticket=message.ticket.lower()) == ["op_pupr:message.sender_read"]
    assert await actions(ticket="2611-NOPE") == []
    assert await actions(
        at_from=start + timedelta(hours=1), at_to=start + timedelta(days=1, hours=1)
    ) == ["op_pupr:message.sender_read"]
    for bad in (
        {"action": "DROP TABLE"},
        {"subject_account_id": "x"},
        {"subject_message_id": "-1"},
        {"at_from": start, "at_to": start},
    ):
        with pytest.raises(Invalid):
            await app.audit.list(root, AuditQuery(**bad))


async def test_pages_of_the_log(world: World) -> None:
    app = world.app
    for _ in range(7):
        await app.audit.record(world.ctx("admin"), "account.read")
    seen, cursor = [], None
    while True:
        page = await app.audit.list(world.ctx("root"), cursor=cursor, limit=3)
        seen.extend(e.id for e in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 7 == len(set(seen)) and seen == sorted(seen, reverse=True)
    with pytest.raises(Invalid):
        await app.audit.list(world.ctx("root"), cursor="nonsense")


def test_app_audit_record_takes_the_parameters_of_record() -> None:
    """One signature: ``app.audit.record`` is ``record`` in a transaction of its
    own, ``uow`` and ``at`` filled in."""
    import inspect

    from aspirasi_core.services.audit import AuditService

    inner = list(inspect.signature(record).parameters.values())
    outer = list(inspect.signature(AuditService.record).parameters.values())
    assert [(p.name, p.kind, p.default) for p in outer[1:]] == [
        (p.name, p.kind, p.default) for p in inner if p.name not in ("uow", "at")
    ]
