"""The role policy (domain/policy.py): permission table, scope rules, plugin declarations."""

from __future__ import annotations

import pytest

from aspirasi_core.domain.errors import NotAllowed, NotFound
from aspirasi_core.domain.model import Action, Actor, Role, Status
from aspirasi_core.domain.policy import (
    ACTION_PERMISSIONS,
    CORE_PERMISSIONS,
    MessageScope,
    Perm,
    PermissionDecl,
    PolicyError,
    RoleDecl,
    build_policy,
)

ALL_CORE = {
    Perm.MESSAGE_SUBMIT,
    Perm.MESSAGE_WITHDRAW,
    Perm.MESSAGE_RATE,
    Perm.MESSAGE_READ_OWN,
    Perm.MESSAGE_READ_ALL,
    Perm.MESSAGE_READ_AGENCY,
    Perm.MESSAGE_CLASSIFY,
    Perm.MESSAGE_HANDLE,
    Perm.BACKOFFICE,
    Perm.NOTIFICATIONS,
    Perm.ADMIN_MANAGE,
    Perm.AUDIT_READ,
    Perm.PRIVACY_REVEAL,
    Perm.OVERSIGHT,
}

# SPEC.md "Who uses it", restated as permissions.
EXPECTED_BY_ROLE: dict[str, set[str]] = {
    Role.USER: {
        Perm.MESSAGE_SUBMIT,
        Perm.MESSAGE_WITHDRAW,
        Perm.MESSAGE_RATE,
        Perm.MESSAGE_READ_OWN,
    },
    Role.ADMIN: {
        Perm.MESSAGE_READ_ALL,
        Perm.MESSAGE_CLASSIFY,
        Perm.BACKOFFICE,
        Perm.NOTIFICATIONS,
        Perm.OVERSIGHT,
    },
    Role.OPERATOR: {
        Perm.MESSAGE_READ_AGENCY,
        Perm.MESSAGE_HANDLE,
        Perm.BACKOFFICE,
        Perm.NOTIFICATIONS,
    },
    Role.SUPER_ADMIN: ALL_CORE,
}

STATUSES_VISIBLE = [s for s in Status if s is not Status.WITHDRAWN]

MONITOR_PERM = PermissionDecl(
    "land_issue.monitor", "See every land-dispute complaint", frozenset(), grantable=True
)
EVAL_ROLE = RoleDecl("evaluator_official", "Evaluator", staff=True)
EVAL_PERM = PermissionDecl(
    "evaluator.evaluate", "Evaluate agencies", frozenset({"evaluator_official"}), grantable=True
)


def allowed_set(policy, actor) -> set[str]:
    return {p for p in ALL_CORE if policy.allows(actor, p)}


# -- the permission table --------------------------------------------------------


def test_core_permission_names_are_all_declared() -> None:
    assert {p.name for p in CORE_PERMISSIONS} == ALL_CORE


@pytest.mark.parametrize("role", list(EXPECTED_BY_ROLE))
def test_permission_table_per_role(role, policy) -> None:
    actor = Actor(account_id=5, role=role, agency_id=1 if role == Role.OPERATOR else None)
    assert allowed_set(policy, actor) == EXPECTED_BY_ROLE[role]


@pytest.mark.parametrize("role", list(EXPECTED_BY_ROLE))
@pytest.mark.parametrize(
    "flags", [{"verified": False}, {"active": False}, {"verified": False, "active": False}]
)
def test_unverified_or_inactive_get_nothing(role, flags, policy) -> None:
    actor = Actor(account_id=5, role=role, agency_id=1, **flags)
    assert allowed_set(policy, actor) == set()


def test_unverified_or_inactive_ignore_granted_permissions() -> None:
    policy = build_policy(extra_permissions=[MONITOR_PERM])
    for flags in ({"verified": False}, {"active": False}):
        actor = Actor(5, Role.OPERATOR, 1, frozenset({"land_issue.monitor"}), **flags)
        assert not policy.allows(actor, "land_issue.monitor")


def test_no_actor_gets_nothing(policy) -> None:
    assert all(not policy.allows(None, p) for p in ALL_CORE)


def test_unknown_role_gets_nothing(policy) -> None:
    assert allowed_set(policy, Actor(account_id=5, role="ghost")) == set()


def test_unknown_permission_is_a_programming_error(policy, actors) -> None:
    with pytest.raises(KeyError):
        policy.allows(actors["admin"], "message.teleport")
    with pytest.raises(KeyError):
        policy.allows(actors["super"], "message.teleport")


def test_require(policy, actors) -> None:
    policy.require(actors["admin"], Perm.MESSAGE_CLASSIFY)
    with pytest.raises(NotAllowed) as info:
        policy.require(actors["citizen"], Perm.MESSAGE_CLASSIFY)
    assert info.value.code == "forbidden"
    assert info.value.params == {"permission": Perm.MESSAGE_CLASSIFY}
    with pytest.raises(NotAllowed):
        policy.require(None, Perm.MESSAGE_SUBMIT)


def test_roles_and_staff(policy) -> None:
    assert set(policy.roles) == {Role.SUPER_ADMIN, Role.ADMIN, Role.OPERATOR, Role.USER}
    assert policy.is_staff_role(Role.ADMIN)
    assert policy.is_staff_role(Role.OPERATOR)
    assert policy.is_staff_role(Role.SUPER_ADMIN)
    assert not policy.is_staff_role(Role.USER)
    assert not policy.is_staff_role("ghost")
    assert policy.roles[Role.OPERATOR].bound_to_agency
    assert not policy.roles[Role.ADMIN].bound_to_agency


def test_actor_is_staff() -> None:
    assert Actor(1, Role.ADMIN).is_staff
    assert Actor(1, Role.OPERATOR, 1).is_staff
    assert Actor(1, Role.SUPER_ADMIN).is_staff
    assert not Actor(1, Role.USER).is_staff


def test_core_grants_nothing_grantable(policy) -> None:
    assert policy.grantable() == frozenset()


# -- check_can_act: who may do which action on a message of citizen 1 in agency 1 ----------

OK = None
EXPECTED_ACT: dict[str, dict[Action, type[Exception] | None]] = {
    "citizen": {
        Action.SUBMIT: OK,
        Action.WITHDRAW: OK,
        Action.FORWARD: NotAllowed,
        Action.REFORWARD: NotAllowed,
        Action.REJECT: NotAllowed,
        Action.START: NotAllowed,
        Action.PROGRESS: NotAllowed,
        Action.REPLY: NotAllowed,
    },
    "other_citizen": {
        Action.SUBMIT: OK,
        Action.WITHDRAW: NotFound,
        Action.FORWARD: NotAllowed,
        Action.REFORWARD: NotAllowed,
        Action.REJECT: NotAllowed,
        Action.START: NotAllowed,
        Action.PROGRESS: NotAllowed,
        Action.REPLY: NotAllowed,
    },
    "admin": {
        Action.SUBMIT: NotAllowed,
        Action.WITHDRAW: NotAllowed,
        Action.FORWARD: OK,
        Action.REFORWARD: OK,
        Action.REJECT: OK,
        Action.START: NotAllowed,
        Action.PROGRESS: NotAllowed,
        Action.REPLY: NotAllowed,
    },
    "op1": {
        Action.SUBMIT: NotAllowed,
        Action.WITHDRAW: NotAllowed,
        Action.FORWARD: NotAllowed,
        Action.REFORWARD: NotAllowed,
        Action.REJECT: NotAllowed,
        Action.START: OK,
        Action.PROGRESS: OK,
        Action.REPLY: OK,
    },
    "op2": {
        Action.SUBMIT: NotAllowed,
        Action.WITHDRAW: NotAllowed,
        Action.FORWARD: NotAllowed,
        Action.REFORWARD: NotAllowed,
        Action.REJECT: NotAllowed,
        Action.START: NotFound,
        Action.PROGRESS: NotFound,
        Action.REPLY: NotFound,
    },
    "op_no_agency": {
        Action.SUBMIT: NotAllowed,
        Action.WITHDRAW: NotAllowed,
        Action.FORWARD: NotAllowed,
        Action.REFORWARD: NotAllowed,
        Action.REJECT: NotAllowed,
        Action.START: NotFound,
        Action.PROGRESS: NotFound,
        Action.REPLY: NotFound,
    },
    "super": {
        Action.SUBMIT: OK,
        Action.WITHDRAW: NotFound,
        Action.FORWARD: OK,
        Action.REFORWARD: OK,
        Action.REJECT: OK,
        Action.START: OK,
        Action.PROGRESS: OK,
        Action.REPLY: OK,
    },
}
ACT_CASES = [(who, a, e) for who, row in EXPECTED_ACT.items() for a, e in row.items()]


def test_every_action_has_a_permission() -> None:
    assert set(ACTION_PERMISSIONS) == set(Action)


@pytest.mark.parametrize(
    ("who", "action", "error"), ACT_CASES, ids=lambda v: str(getattr(v, "__name__", v))
)
def test_check_can_act(who, action, error, policy, actors, make_message) -> None:
    msg = make_message(status=Status.FORWARDED, agency_id=1)
    if error is None:
        assert policy.check_can_act(actors[who], msg, action) is None
    else:
        with pytest.raises(error) as info:
            policy.check_can_act(actors[who], msg, action)
        # NotFound must not be a NotAllowed (the web layer answers 404, not 403) and vice versa.
        assert type(info.value) is error
        if error is NotFound:
            assert info.value.code == "message_not_found"
        else:
            assert info.value.code == "forbidden"


@pytest.mark.parametrize("action", [Action.START, Action.PROGRESS, Action.REPLY])
def test_operator_not_found_on_message_without_agency(action, policy, actors, make_message) -> None:
    msg = make_message(status=Status.SUBMITTED, agency_id=None)
    for who in ("op1", "op_no_agency"):
        with pytest.raises(NotFound):
            policy.check_can_act(actors[who], msg, action)


def test_super_admin_owner_actions_on_own_message(policy, actors, make_message) -> None:
    msg = make_message(author_id=actors["super"].account_id)
    policy.check_can_act(actors["super"], msg, Action.WITHDRAW)
    policy.check_permission_on(actors["super"], msg, Perm.MESSAGE_RATE)


@pytest.mark.parametrize("perm", [Perm.MESSAGE_WITHDRAW, Perm.MESSAGE_RATE, Perm.MESSAGE_READ_OWN])
def test_owner_permissions_on_others_messages(perm, policy, actors, make_message) -> None:
    msg = make_message(status=Status.DONE, agency_id=1)
    policy.check_permission_on(actors["citizen"], msg, perm)
    for who in ("other_citizen", "super"):
        with pytest.raises(NotFound):
            policy.check_permission_on(actors[who], msg, perm)
    with pytest.raises(NotAllowed):
        policy.check_permission_on(actors["admin"], msg, perm)


@pytest.mark.parametrize("flags", [{"verified": False}, {"active": False}])
@pytest.mark.parametrize("action", list(Action))
def test_unverified_or_inactive_owner_cannot_act(flags, action, policy, make_message) -> None:
    for role, agency in (
        (Role.USER, None),
        (Role.OPERATOR, 1),
        (Role.ADMIN, None),
        (Role.SUPER_ADMIN, None),
    ):
        actor = Actor(account_id=1, role=role, agency_id=agency, **flags)
        with pytest.raises(NotAllowed):
            policy.check_can_act(actor, make_message(agency_id=1), action)


def test_no_actor_cannot_act(policy, make_message) -> None:
    with pytest.raises(NotAllowed):
        policy.check_can_act(None, make_message(), Action.WITHDRAW)


# -- can_read --------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES_VISIBLE)
def test_can_read_by_role(status, policy, actors, make_message) -> None:
    msg = make_message(status=status, agency_id=1)
    expected = {
        "citizen": True,
        "other_citizen": False,
        "admin": True,
        "op1": True,
        "op2": False,
        "op_no_agency": False,
        "super": True,
    }
    assert {who: policy.can_read(a, msg) for who, a in actors.items()} == expected


def test_operators_do_not_read_unforwarded_messages(policy, actors, make_message) -> None:
    msg = make_message(agency_id=None)
    assert not policy.can_read(actors["op1"], msg)
    # agency None on both sides must not count as "same agency"
    assert not policy.can_read(actors["op_no_agency"], msg)


def test_withdrawn_visible_to_no_one_not_even_the_owner(policy, actors, make_message) -> None:
    msg = make_message(status=Status.WITHDRAWN, agency_id=1, subcategory_id=7)
    everything = MessageScope("all")
    withdrawn_too = MessageScope("w", statuses=frozenset(Status))
    for who, actor in actors.items():
        assert not policy.can_read(actor, msg, [everything, withdrawn_too]), who


def test_can_read_none_actor(policy, make_message) -> None:
    assert not policy.can_read(None, make_message(), [MessageScope("all")])


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPER_ADMIN, Role.OPERATOR])
@pytest.mark.parametrize("flags", [{"verified": False}, {"active": False}])
def test_unverified_or_inactive_staff_read_nothing(role, flags, policy, make_message) -> None:
    actor = Actor(account_id=50, role=role, agency_id=1, **flags)
    msg = make_message(status=Status.FORWARDED, agency_id=1, subcategory_id=7)
    assert not policy.can_read(actor, msg)
    assert not policy.can_read(actor, msg, [MessageScope("all")])


def test_inactive_owner_reads_nothing(policy, make_message) -> None:
    assert not policy.can_read(Actor(1, Role.USER, active=False), make_message())


def test_unverified_owner_reads_nothing(policy, make_message) -> None:
    assert not policy.can_read(Actor(1, Role.USER, verified=False), make_message())


# -- MessageScope ---------------------------------------------------------------------


def _scoped_message(make_message, **kw):
    base = {"status": Status.FORWARDED, "category_id": 2, "subcategory_id": 7, "agency_id": 1}
    base.update(kw)
    return make_message(**base)


def test_scope_with_no_fields_matches_every_visible_message(make_message) -> None:
    scope = MessageScope("all")
    for status in STATUSES_VISIBLE:
        assert scope.matches(make_message(status=status))
    assert not scope.matches(make_message(status=Status.WITHDRAWN))


@pytest.mark.parametrize(
    ("field", "msg_field", "inside", "outside"),
    [
        ("category_ids", "category_id", 2, 1),
        ("subcategory_ids", "subcategory_id", 7, 5),
        ("agency_ids", "agency_id", 1, 2),
    ],
)
def test_scope_each_id_field(field, msg_field, inside, outside, make_message) -> None:
    scope = MessageScope("s", **{field: frozenset({inside, 99})})
    assert scope.matches(_scoped_message(make_message, **{msg_field: inside}))
    assert not scope.matches(_scoped_message(make_message, **{msg_field: outside}))
    assert not scope.matches(_scoped_message(make_message, **{msg_field: None}))
    # an empty set matches nothing
    empty = MessageScope("e", **{field: frozenset()})
    assert not empty.matches(_scoped_message(make_message, **{msg_field: inside}))


def test_scope_statuses(make_message) -> None:
    scope = MessageScope("s", statuses=frozenset({Status.IN_PROGRESS, Status.DONE}))
    assert scope.matches(_scoped_message(make_message, status=Status.DONE))
    assert scope.matches(_scoped_message(make_message, status=Status.IN_PROGRESS))
    assert not scope.matches(_scoped_message(make_message, status=Status.FORWARDED))


def test_scope_fields_are_anded(make_message) -> None:
    scope = MessageScope(
        "land",
        category_ids=frozenset({2}),
        subcategory_ids=frozenset({7}),
        agency_ids=frozenset({1, 2}),
        statuses=frozenset({Status.FORWARDED}),
    )
    assert scope.matches(_scoped_message(make_message))
    assert not scope.matches(_scoped_message(make_message, category_id=1))
    assert not scope.matches(_scoped_message(make_message, subcategory_id=8))
    assert not scope.matches(_scoped_message(make_message, agency_id=3))
    assert not scope.matches(_scoped_message(make_message, status=Status.DONE))


def test_can_read_through_scopes(make_message) -> None:
    policy = build_policy(extra_permissions=[MONITOR_PERM])
    monitor = Actor(40, Role.OPERATOR, agency_id=3, permissions=frozenset({"land_issue.monitor"}))
    land = MessageScope("land", subcategory_ids=frozenset({7}))
    other = MessageScope("roads", subcategory_ids=frozenset({8}))
    msg7 = _scoped_message(make_message, subcategory_id=7, agency_id=1)
    msg5 = _scoped_message(make_message, subcategory_id=5, agency_id=1)
    assert policy.can_read(monitor, msg7, [land])
    assert policy.can_read(monitor, msg7, [other, land])
    assert not policy.can_read(monitor, msg7, [other])
    assert not policy.can_read(monitor, msg7)
    assert not policy.can_read(monitor, msg5, [land])
    # a scope gives reading, never acting
    with pytest.raises(NotFound):
        policy.check_can_act(monitor, msg7, Action.REPLY)


# -- build_policy --------------------------------------------------------------------


def test_build_policy_with_plugins() -> None:
    policy = build_policy(extra_roles=[EVAL_ROLE], extra_permissions=[EVAL_PERM, MONITOR_PERM])
    official = Actor(60, "evaluator_official")
    assert policy.allows(official, "evaluator.evaluate")
    assert not policy.allows(official, "land_issue.monitor")
    assert allowed_set(policy, official) == set()
    assert policy.is_staff_role("evaluator_official")
    assert policy.grantable() == frozenset({"evaluator.evaluate", "land_issue.monitor"})
    sup = Actor(30, Role.SUPER_ADMIN)
    assert policy.allows(sup, "evaluator.evaluate")
    assert policy.allows(sup, "land_issue.monitor")
    for role in (Role.ADMIN, Role.OPERATOR, Role.USER):
        assert not policy.allows(Actor(5, role, 1), "land_issue.monitor")
    # the core table is untouched
    for role, expected in EXPECTED_BY_ROLE.items():
        assert allowed_set(policy, Actor(5, role, 1)) == expected


def test_build_policy_does_not_leak_between_calls() -> None:
    build_policy(extra_roles=[EVAL_ROLE], extra_permissions=[EVAL_PERM])
    plain = build_policy()
    assert "evaluator_official" not in plain.roles
    assert "evaluator.evaluate" not in plain.permissions


def test_non_staff_plugin_role() -> None:
    policy = build_policy(extra_roles=[RoleDecl("guest", "Guest", staff=False)])
    assert not policy.is_staff_role("guest")


def test_granted_permission() -> None:
    policy = build_policy(extra_permissions=[MONITOR_PERM])
    granted = Actor(41, Role.OPERATOR, 3, frozenset({"land_issue.monitor"}))
    plain = Actor(42, Role.OPERATOR, 3)
    assert policy.allows(granted, "land_issue.monitor")
    assert not policy.allows(plain, "land_issue.monitor")
    # a grant adds, it does not take away the role's own permissions
    assert allowed_set(policy, granted) == EXPECTED_BY_ROLE[Role.OPERATOR]


def test_a_stray_grant_of_a_core_permission_gives_nothing(policy, make_message) -> None:
    # Only grantable (plugin) permissions count when held by one account.
    reader = Actor(43, Role.USER, permissions=frozenset({Perm.MESSAGE_READ_ALL, Perm.ADMIN_MANAGE}))
    assert not policy.can_read(reader, make_message(author_id=1))
    assert not policy.allows(reader, Perm.ADMIN_MANAGE)


@pytest.mark.parametrize(
    ("roles", "perms", "match"),
    [
        ([RoleDecl(Role.ADMIN, "again")], [], "role 'admin' is declared twice"),
        ([EVAL_ROLE, EVAL_ROLE], [], "role 'evaluator_official' is declared twice"),
        (
            [],
            [PermissionDecl(Perm.MESSAGE_RATE, "again")],
            "permission 'message.rate' is declared twice",
        ),
        ([], [MONITOR_PERM, MONITOR_PERM], "permission 'land_issue.monitor' is declared twice"),
        ([], [EVAL_PERM], r"unknown roles \['evaluator_official'\]"),
        (
            [],
            [PermissionDecl("x.y", "d", frozenset({Role.ADMIN, "ghost"}))],
            r"unknown roles \['ghost'\]",
        ),
    ],
)
def test_build_policy_refusals(roles, perms, match) -> None:
    with pytest.raises(PolicyError, match=match):
        build_policy(extra_roles=roles, extra_permissions=perms)
    assert issubclass(PolicyError, ValueError)


def test_plugin_permission_may_name_core_roles() -> None:
    perm = PermissionDecl("x.notify", "d", frozenset({Role.ADMIN}))
    policy = build_policy(extra_permissions=[perm])
    assert policy.allows(Actor(10, Role.ADMIN), "x.notify")
    assert not policy.allows(Actor(21, Role.OPERATOR, 1), "x.notify")


def test_a_permission_can_bring_another_one() -> None:
    from aspirasi_core.domain.model import Actor
    from aspirasi_core.domain.policy import PermissionDecl, PolicyError, build_policy

    policy = build_policy(
        extra_permissions=[
            PermissionDecl(
                "x.evaluate", "Evaluate", grantable=True, implies=frozenset({Perm.OVERSIGHT})
            )
        ]
    )
    holder = Actor(account_id=9, role=Role.OPERATOR, permissions=frozenset({"x.evaluate"}))
    plain = Actor(account_id=8, role=Role.OPERATOR)
    assert policy.allows(holder, Perm.OVERSIGHT) and not policy.allows(plain, Perm.OVERSIGHT)
    assert not policy.allows(holder, Perm.MESSAGE_CLASSIFY)
    with pytest.raises(PolicyError):
        build_policy(extra_permissions=[PermissionDecl("x.y", "Y", implies=frozenset({"nope"}))])
