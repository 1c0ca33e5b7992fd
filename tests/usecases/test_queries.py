"""Reads: public list, tracking by NIK, back-office lists, scopes, pagination."""

from __future__ import annotations

from typing import Any

import pytest

from aspirasi_core import hookimpl
from aspirasi_core.domain.errors import Invalid, NotAllowed, NotFound, Unauthenticated
from aspirasi_core.domain.model import Status
from aspirasi_core.domain.policy import MessageScope
from aspirasi_core.services import BackofficeQuery, Context, SubmitInput

from .world import NIKS, World, build_world

pytestmark = pytest.mark.anyio


def fwd(
    world: World, agency: str = "pupr", sub: str = "infrastruktur", cat: str = "aduan"
) -> dict[str, Any]:
    return dict(
        category_id=world.categories[cat],
        subcategory_id=world.subcategories[sub],
        agency_id=world.agencies[agency],
    )


async def seed(world: World) -> dict[str, int]:
    app = world.app
    ids: dict[str, int] = {}
    ids["submitted"] = (
        await app.messages.submit(world.ctx("ani"), SubmitInput("menunggu", "b"))
    ).id
    ids["forwarded"] = (
        await app.messages.submit(world.ctx("ani"), SubmitInput("diteruskan", "b"))
    ).id
    await app.messages.act(world.ctx("admin"), ids["forwarded"], "forward", **fwd(world))
    ids["confidential"] = (
        await app.messages.submit(world.ctx("ani"), SubmitInput("rahasia", "b", confidential=True))
    ).id
    await app.messages.act(world.ctx("admin"), ids["confidential"], "forward", **fwd(world))
    ids["rejected"] = (await app.messages.submit(world.ctx("budi"), SubmitInput("ditolak", "b"))).id
    await app.messages.act(world.ctx("admin"), ids["rejected"], "reject", reason="tidak jelas")
    ids["withdrawn"] = (
        await app.messages.submit(world.ctx("budi"), SubmitInput("ditarik", "b"))
    ).id
    await app.messages.act(world.ctx("budi"), ids["withdrawn"], "withdraw")
    ids["dinkes"] = (
        await app.messages.submit(world.ctx("budi"), SubmitInput("kesehatan", "b", anonymous=True))
    ).id
    await app.messages.act(world.ctx("admin"), ids["dinkes"], "forward", **fwd(world, "dinkes"))
    ids["land"] = (
        await app.messages.submit(world.ctx("budi"), SubmitInput("sengketa lahan", "b"))
    ).id
    await app.messages.act(
        world.ctx("admin"), ids["land"], "forward", **fwd(world, "dinkes", "permasalahan-lahan")
    )
    return ids


async def test_public_list_shows_only_handled_open_messages(world: World) -> None:
    ids = await seed(world)
    page = await world.app.queries.public()
    shown = {m.id for m in page.items}
    assert shown == {ids["forwarded"], ids["dinkes"], ids["land"]}
    assert not any(hasattr(m, "author_id") for m in page.items)
    found = await world.app.queries.public(text="LAHAN")
    assert [m.id for m in found.items] == [ids["land"]]
    assert (await world.app.queries.public(text="%")).items == ()


async def test_tracking_by_nik(world: World) -> None:
    ids = await seed(world)
    tracked = await world.app.queries.track(Context(), NIKS[0])
    # the confidential message is not tracked at all
    assert [t.status for t in tracked] == [Status.FORWARDED, Status.SUBMITTED]
    assert tracked[0].subject == "diteruskan"
    assert tracked[1].subject is None  # not on the public list (yet)
    assert [e.to_status for e in tracked[0].log] == [Status.SUBMITTED, Status.FORWARDED]
    budi = await world.app.queries.track(Context(), NIKS[1])
    assert ids["withdrawn"] and all(t.subject != "ditarik" for t in budi)
    # neither the withdrawn nor the anonymous one
    assert sorted(t.status for t in budi) == [Status.FORWARDED, Status.REJECTED]
    assert {t.subject for t in budi} == {"sengketa lahan", None}
    assert await world.app.queries.track(Context(), NIKS[3]) == []
    with pytest.raises(Invalid):
        await world.app.queries.track(Context(), "not-a-nik")


async def test_backoffice_scopes_and_filters(world: World) -> None:
    ids = await seed(world)
    q = world.app.queries
    admin = {m.id for m in (await q.backoffice(world.ctx("admin"), BackofficeQuery())).items}
    assert admin == set(ids.values()) - {ids["withdrawn"]}
    pupr = {m.id for m in (await q.backoffice(world.ctx("op_pupr"), BackofficeQuery())).items}
    assert pupr == {ids["forwarded"], ids["confidential"]}
    # an operator cannot widen its view with a filter
    other = await q.backoffice(
        world.ctx("op_pupr"), BackofficeQuery(agency_id=world.agencies["dinkes"])
    )
    assert other.items == ()
    rejected = await q.backoffice(world.ctx("admin"), BackofficeQuery(status="rejected"))
    assert [m.id for m in rejected.items] == [ids["rejected"]]
    by_text = await q.backoffice(world.ctx("admin"), BackofficeQuery(text="kesehatan"))
    assert [m.id for m in by_text.items] == [ids["dinkes"]]
    for bad in ("withdrawn", "nonsense"):
        with pytest.raises(Invalid):
            await q.backoffice(world.ctx("admin"), BackofficeQuery(status=bad))
    for who in ("ani", None):
        with pytest.raises((NotAllowed, Unauthenticated)):
            await q.backoffice(world.ctx(who), BackofficeQuery())


async def test_anonymous_sender_hidden_from_every_staff_reader(world: World) -> None:
    ids = await seed(world)
    seen_by_operator = await world.app.queries.message(world.ctx("op_dinkes"), ids["dinkes"])
    assert seen_by_operator.author is None
    seen_by_admin = await world.app.queries.message(world.ctx("admin"), ids["dinkes"])
    assert seen_by_admin.author is None and seen_by_admin.sender_hidden
    seen_by_owner = await world.app.queries.message(world.ctx("budi"), ids["dinkes"])
    assert seen_by_owner.author is not None


async def test_keyset_pages_cover_everything_once(world: World) -> None:
    app = world.app
    for i in range(23):
        await app.messages.submit(world.ctx("ani"), SubmitInput(f"m{i}", "b"))
    seen: list[int] = []
    cursor = None
    while True:
        page = await app.queries.my_messages(world.ctx("ani"), cursor=cursor, limit=5)
        seen.extend(m.id for m in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 23 and len(set(seen)) == 23 and seen == sorted(seen, reverse=True)
    for bad in ("garbage", "djE6LTE", "!!"):
        with pytest.raises(Invalid):
            await app.queries.my_messages(world.ctx("ani"), cursor=bad)
    with pytest.raises(Invalid):
        await app.queries.my_messages(world.ctx("ani"), limit=0)


class LandMonitor:
    """A scope plugin like land_issue: holders of land.monitor see land disputes."""

    @hookimpl
    def aspirasi_visibility_scopes(self, actor, directory):
        if "test.monitor" not in actor.permissions:
            return []
        sub = directory.subcategory_id("aduan", "permasalahan-lahan")
        return [MessageScope(name="land", subcategory_ids=frozenset({sub}))]

    @hookimpl
    def aspirasi_register_permissions(self):
        from aspirasi_core.domain.policy import PermissionDecl

        return [PermissionDecl("test.monitor", "monitor land", grantable=True)]


async def test_visibility_scope_lets_a_monitor_read_but_not_act(database, tmp_path) -> None:
    from aspirasi_core.services.admin import AccountChanges

    world = await build_world(database, tmp_path, plugins=(LandMonitor(),))
    ids = await seed(world)
    app = world.app
    with pytest.raises(NotFound):
        await app.queries.message(world.ctx("op_pupr"), ids["land"])
    await app.admin.update_account(
        world.ctx("root"),
        world.accounts["op_pupr"].id,
        AccountChanges(permissions=("test.monitor",)),
    )
    monitor = world.ctx("op_pupr")
    detail = await app.queries.message(monitor, ids["land"])
    assert detail.actions == frozenset()
    page = await app.queries.scoped(monitor, "land")
    assert [m.id for m in page.items] == [ids["land"]]
    with pytest.raises(NotFound):
        await app.messages.act(monitor, ids["land"], "start")
    with pytest.raises(NotAllowed):
        await app.queries.scoped(world.ctx("op_dinkes"), "land")
    with pytest.raises(Invalid):
        await app.admin.update_account(
            world.ctx("root"),
            world.accounts["op_pupr"].id,
            AccountChanges(permissions=("made.up",)),
        )
