"""Super-admin use cases."""

from __future__ import annotations

import pytest

from aspirasi_core.domain.errors import Conflict, Invalid, NotAllowed, NotFound, Unauthenticated
from aspirasi_core.domain.model import Role
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import Context, StaffInput
from aspirasi_core.services.admin import AccountChanges

from .world import World

pytestmark = pytest.mark.anyio


def staff(**kw) -> StaffInput:
    values = dict(
        email="op3@example.org",
        username="op3",
        full_name="Op Tiga",
        password="op3-long-password",
        role=Role.OPERATOR,
        agency_id=None,
    )
    values.update(kw)
    return StaffInput(**values)  # type: ignore[arg-type]


async def test_only_super_admins_manage(world: World) -> None:
    for who in ("admin", "op_pupr", "ani"):
        with pytest.raises(NotAllowed):
            await world.app.admin.create_entry(world.ctx(who), "agency", code="x", name="X")
        with pytest.raises(NotAllowed):
            await world.app.admin.list_accounts(world.ctx(who))


async def test_create_operator_needs_an_agency(world: World) -> None:
    root = world.ctx("root")
    with pytest.raises(Invalid) as exc:
        await world.app.admin.create_staff(root, staff())
    assert exc.value.errors[0].code == "agency_required"
    with pytest.raises(Invalid):
        await world.app.admin.create_staff(
            root, staff(role="user", agency_id=world.agencies["pupr"])
        )
    with pytest.raises(Invalid):
        await world.app.admin.create_staff(root, staff(role="super_admin"))
    with pytest.raises(Invalid) as taken:
        await world.app.admin.create_staff(
            root, staff(email="ani@example.org", agency_id=world.agencies["pupr"])
        )
    assert taken.value.errors[0].code == "email_taken"
    op = await world.app.admin.create_staff(root, staff(agency_id=world.agencies["pupr"]))
    assert op.role == Role.OPERATOR and op.verified and op.agency_id == world.agencies["pupr"]


async def test_changing_role_or_agency_kills_sessions(world: World) -> None:
    app = world.app
    session = await app.accounts.login(Context(), "op_pupr", "op_pupr-long-password")
    moved = await app.admin.update_account(
        world.ctx("root"),
        world.accounts["op_pupr"].id,
        AccountChanges(agency_id=world.agencies["dinkes"]),
    )
    assert moved.agency_id == world.agencies["dinkes"]
    assert await app.accounts.authenticate(session.token, TokenPurpose.SESSION) is None
    promoted = await app.admin.update_account(
        world.ctx("root"), moved.id, AccountChanges(role=Role.ADMIN)
    )
    assert promoted.role == Role.ADMIN and promoted.agency_id is None
    with pytest.raises(Invalid):
        await app.admin.update_account(
            world.ctx("root"), world.accounts["ani"].id, AccountChanges(role=Role.ADMIN)
        )
    with pytest.raises(Conflict):
        await app.admin.update_account(
            world.ctx("root"), world.accounts["root"].id, AccountChanges(is_active=False)
        )
    with pytest.raises(NotFound):
        await app.admin.update_account(world.ctx("root"), 999999, AccountChanges(is_active=False))


async def test_directory(world: World) -> None:
    root = world.ctx("root")
    admin_svc = world.app.admin
    agency = await admin_svc.create_entry(root, "agency", code="Dishub", name="Dinas Perhubungan")
    assert agency.code == "dishub"
    with pytest.raises(Invalid):
        await admin_svc.create_entry(root, "agency", code="dishub", name="again")
    with pytest.raises(Invalid):
        await admin_svc.create_entry(root, "agency", code="bad code!", name="x")
    with pytest.raises(Invalid):  # not a yes/no: nothing changes
        await admin_svc.update_entry(root, "agency", agency.id, is_active="maybe")  # type: ignore[arg-type]
    assert agency.id in [a.id for a in await admin_svc.agencies()]
    closed = await admin_svc.update_entry(root, "agency", agency.id, is_active="false")  # type: ignore[arg-type]
    assert not closed.is_active  # the word "false" is no, not a truthy string
    assert agency.id not in [a.id for a in await admin_svc.agencies()]
    assert agency.id in [a.id for a in await admin_svc.agencies(root, include_inactive=True)]
    cat = world.categories["aduan"]
    sub = await admin_svc.create_entry(
        root, "subcategory", category_id=cat, code="banjir", name="Banjir"
    )
    with pytest.raises(Invalid):
        await admin_svc.create_entry(
            root, "subcategory", category_id=cat, code="banjir", name="Banjir lagi"
        )
    with pytest.raises(Invalid):
        await admin_svc.create_entry(root, "subcategory", category_id=424242, code="x", name="X")
    await admin_svc.update_entry(root, "subcategory", sub.id, is_active=False)
    assert sub.id not in [s.id for s in await admin_svc.subcategories(cat)]
    page = await admin_svc.list_accounts(root, role="operator")
    assert {a.username for a in page.items} == {"op_pupr", "op_pupr2", "op_dinkes"}


async def test_the_staff_directory_offers_the_active_entries_to_the_back_office(
    world: World,
) -> None:
    root = world.ctx("root")
    admin_svc = world.app.admin
    sub = world.subcategories["pembangunan"]
    await admin_svc.update_entry(root, "subcategory", sub, is_active=False)
    await admin_svc.update_entry(root, "agency", world.agencies["dinkes"], is_active=False)
    for who in ("admin", "op_pupr", "root"):
        found = await admin_svc.staff_directory(world.ctx(who))
        assert {c.id for c in found.categories} == set(world.categories.values())
        assert sub not in {s.id for s in found.subcategories}
        assert world.subcategories["infrastruktur"] in {s.id for s in found.subcategories}
        assert [a.id for a in found.agencies] == [world.agencies["pupr"]]
    every = await admin_svc.staff_directory(world.ctx("op_pupr"), include_inactive=True)
    assert {s.id: s.is_active for s in every.subcategories}[sub] is False
    assert {a.id: a.is_active for a in every.agencies} == {
        world.agencies["pupr"]: True,
        world.agencies["dinkes"]: False,
    }
    with pytest.raises(NotAllowed):
        await admin_svc.staff_directory(world.ctx("ani"))
    with pytest.raises(Unauthenticated):
        await admin_svc.staff_directory(Context())


class _DefaultGrants:
    """Grants its permission to new operators of the agency ``pupr``."""

    from aspirasi_core import hookimpl

    @hookimpl
    def aspirasi_register_permissions(self):
        from aspirasi_core.domain.policy import PermissionDecl

        return [PermissionDecl("roads.watch", "Watch roads", grantable=True)]

    @hookimpl
    def aspirasi_default_permissions(self, role, agency_code):
        if role == Role.OPERATOR and agency_code == "pupr":
            return ["roads.watch", "not.grantable"]
        return None


async def test_new_staff_get_the_default_grants_of_plugins(database, tmp_path) -> None:
    from .world import build_world

    world = await build_world(database, tmp_path, plugins=(_DefaultGrants(),))
    assert "roads.watch" in world.accounts["op_pupr"].permissions
    assert "not.grantable" not in world.accounts["op_pupr"].permissions
    assert "roads.watch" not in world.accounts["op_dinkes"].permissions
    assert "roads.watch" not in world.accounts["admin"].permissions
    # The super admin can take it away like any other grant.
    root = world.ctx("root")
    changed = await world.app.admin.update_account(
        root, world.accounts["op_pupr"].id, AccountChanges(permissions=())
    )
    assert "roads.watch" not in changed.permissions


async def test_an_invitation_lets_its_owner_set_the_first_password_once(world: World) -> None:
    root = world.ctx("root")
    invited = await world.app.admin.invite_staff(
        root,
        StaffInput(
            email="Sari.Dewi+kerja@example.org",
            username="",
            full_name="Sari Dewi",
            role=Role.OPERATOR,
            agency_id=world.agencies["pupr"],
        ),
    )
    assert invited.awaiting_password and not invited.must_change_password
    assert invited.username == "sari.dewi.kerja" and invited.verified
    [token] = world.recorder.tokens("StaffInvited")
    # no password: nobody logs in, whatever they type
    for typed in ("", "anything-at-all"):
        with pytest.raises((Invalid, Unauthenticated)):
            await world.app.accounts.login(Context(), invited.username, typed, purpose="session")
    with pytest.raises(Invalid):
        await world.app.accounts.accept_invitation(Context(), token, "short", "short")
    # a reset token is no invitation, and the reverse
    with pytest.raises(Invalid):
        await world.app.accounts.reset_password(
            Context(), token, "sari-own-secret-77", "sari-own-secret-77"
        )
    done = await world.app.accounts.accept_invitation(
        Context(), token, "sari-own-secret-77", "sari-own-secret-77"
    )
    assert not done.awaiting_password
    with pytest.raises(Invalid):
        await world.app.accounts.accept_invitation(
            Context(), token, "sari-other-secret-8", "sari-other-secret-8"
        )
    result = await world.app.accounts.login(
        Context(), invited.username, "sari-own-secret-77", purpose="session"
    )
    assert result.account.id == invited.id
    # a second invitation for an account with a password is refused
    with pytest.raises(Conflict):
        await world.app.admin.resend_invitation(root, invited.id)


async def test_an_invitation_expires_and_a_new_one_voids_the_old(world: World) -> None:
    root = world.ctx("root")
    invited = await world.app.admin.invite_staff(
        root, StaffInput(email="adm2@example.org", username="", full_name="Adm", role=Role.ADMIN)
    )
    [first] = world.recorder.tokens("StaffInvited")
    await world.app.admin.resend_invitation(root, invited.id)
    second = world.recorder.tokens("StaffInvited")[-1]
    with pytest.raises(Invalid):  # the older link died with the new one
        await world.app.accounts.accept_invitation(
            Context(), first, "adm2-long-pass", "adm2-long-pass"
        )
    world.clock.advance(days=8)
    with pytest.raises(Invalid):
        await world.app.accounts.accept_invitation(
            Context(), second, "adm2-long-pass", "adm2-long-pass"
        )


async def test_a_temporary_password_must_be_changed_and_the_change_clears_it(
    world: World,
) -> None:
    root = world.ctx("root")
    made = await world.app.admin.create_staff(
        root, staff(agency_id=world.agencies["pupr"], must_change_password=True)
    )
    assert made.must_change_password
    result = await world.app.accounts.login(
        Context(), "op3", "op3-long-password", purpose="session"
    )
    assert result.account.must_change_password
    await world.app.accounts.change_password(
        Context(actor=result.account.actor()),
        "op3-long-password",
        "op3-own-password-9",
        "op3-own-password-9",
    )
    after = world.app.deps.db.run_sync(lambda uow: uow.accounts.get(made.id))
    assert not after.must_change_password
