"""The message status machine (domain/workflow.py) against the table in SPEC.md."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from aspirasi_core.domain import workflow
from aspirasi_core.domain.errors import (
    Conflict,
    IllegalTransition,
    NotAllowed,
    NotFound,
)
from aspirasi_core.domain.events import StatusChanged
from aspirasi_core.domain.model import Action, Actor, Role, Status
from aspirasi_core.domain.workflow import (
    Classification,
    WorkflowDefinitionError,
    check_can_rate,
    check_definition,
    check_version,
    transition,
)

S, A = Status, Action

# The workflow of SPEC.md, written out again here (not imported) so a change to
# the code's table shows up as a failing test.
SPEC_TABLE: dict[tuple[Status, Action], Status] = {
    (S.SUBMITTED, A.FORWARD): S.FORWARDED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.FORWARDED, A.REFORWARD): S.FORWARDED,
    (S.FORWARDED, A.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.PROGRESS): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.REPLY): S.DONE,
    # Issue 22: the agency returns a misrouted message; oversight reopens a done one.
    (S.FORWARDED, A.RETURN): S.SUBMITTED,
    (S.IN_PROGRESS, A.RETURN): S.SUBMITTED,
    (S.DONE, A.REOPEN): S.IN_PROGRESS,
}
SPEC_FINAL = {S.REJECTED, S.WITHDRAWN}
SPEC_CLOSED = {S.DONE, S.REJECTED, S.WITHDRAWN}
ALL_PAIRS = list(itertools.product(Status, Action))
ALLOWED_PAIRS = [p for p in ALL_PAIRS if p in SPEC_TABLE]
ILLEGAL_PAIRS = [p for p in ALL_PAIRS if p not in SPEC_TABLE]
NON_OWNER_ALLOWED = [p for p in ALLOWED_PAIRS if p[1] is not A.WITHDRAW]
NON_OWNER_ILLEGAL = [p for p in ILLEGAL_PAIRS if p[1] is not A.WITHDRAW]

NOW = datetime(2026, 2, 3, 10, 30, tzinfo=UTC)
CLS_AGENCY_2 = Classification(category_id=2, subcategory_id=7, agency_id=2)


def permitted_actor(actors: dict[str, Actor], action: Action) -> Actor:
    """An actor the role policy lets do ``action`` on a message of citizen 1 in agency 1."""
    if action in (A.FORWARD, A.REFORWARD, A.REJECT, A.REOPEN):
        return actors["admin"]
    if action in (A.START, A.PROGRESS, A.REPLY, A.RETURN):
        return actors["op1"]
    return actors["citizen"]  # WITHDRAW (owner) and SUBMIT (citizens)


def _id(pair: tuple[Status, Action]) -> str:
    return f"{pair[0]}-{pair[1]}"


# -- the table itself ---------------------------------------------------------


def test_table_is_exactly_the_spec() -> None:
    assert dict(workflow.TRANSITIONS) == SPEC_TABLE
    assert set(workflow.FINAL) == SPEC_FINAL
    assert set(workflow.CLOSED) == SPEC_CLOSED
    assert workflow.INITIAL is S.SUBMITTED


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions(status: Status) -> None:
    expected = {a for (s, a) in SPEC_TABLE if s == status}
    assert workflow.allowed_actions(status) == expected


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=_id)
def test_target_of(pair: tuple[Status, Action]) -> None:
    status, action = pair
    if pair in SPEC_TABLE:
        assert workflow.target_of(status, action) is SPEC_TABLE[pair]
    else:
        with pytest.raises(IllegalTransition) as info:
            workflow.target_of(status, action)
        assert info.value.status == str(status)
        assert info.value.action == str(action)


# -- every allowed pair ---------------------------------------------------------


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=_id)
def test_allowed_transition_gives_target_and_event(pair, policy, actors, make_message) -> None:
    status, action = pair
    agency = None if status is S.SUBMITTED else 1
    cat = None if status is S.SUBMITTED else 1
    sub = None if status is S.SUBMITTED else 5
    msg = make_message(status=status, agency_id=agency, category_id=cat, subcategory_id=sub)
    actor = permitted_actor(actors, action)
    classification = CLS_AGENCY_2 if action in (A.FORWARD, A.REFORWARD) else None

    new, event = transition(
        msg, action, actor, NOW, policy, note="catatan", classification=classification
    )

    target = SPEC_TABLE[pair]
    assert new.status is target
    assert new.updated_at == NOW
    assert new.version == msg.version + 1  # every move counts one change
    assert isinstance(event, StatusChanged)
    assert event == StatusChanged(
        message_id=msg.id,
        ticket=msg.ticket,
        author_id=msg.author_id,
        action=action,
        from_status=status,
        to_status=target,
        actor_id=actor.account_id,
        agency_id=new.agency_id,
        previous_agency_id=agency,
        note="catatan",
        at=NOW,
        category_id=new.category_id,
        subcategory_id=new.subcategory_id,
    )
    if classification is not None:
        assert (event.category_id, event.subcategory_id) == (2, 7)
        assert (new.category_id, new.subcategory_id, new.agency_id) == (2, 7, 2)
        assert event.agency_id == 2
        # The last forward is the milestone.
        assert (new.forwarded_at, new.started_at, new.closed_at) == (NOW, None, None)
    else:
        # Nothing but the status, the time, the version and the milestone the
        # move reaches (if any) changes.
        milestone = {
            A.START: {"started_at": NOW},
            A.REPLY: {"closed_at": NOW},
            A.REJECT: {"closed_at": NOW},
            A.WITHDRAW: {"closed_at": NOW},
            # Back with the admin: no agency any more.
            A.RETURN: {"agency_id": None},
            A.REOPEN: {"closed_at": None},
        }.get(action, {})
        assert new == attrs.evolve(
            msg, status=target, updated_at=NOW, version=msg.version + 1, **milestone
        )
        assert event.agency_id == (None if action is A.RETURN else agency)


@pytest.mark.parametrize("pair", NON_OWNER_ALLOWED, ids=_id)
def test_super_admin_may_make_every_non_owner_move(pair, policy, actors, make_message) -> None:
    status, action = pair
    msg = make_message(status=status, agency_id=1, category_id=1, subcategory_id=5)
    classification = CLS_AGENCY_2 if action in (A.FORWARD, A.REFORWARD) else None
    new, event = transition(
        msg, action, actors["super"], NOW, policy, classification=classification
    )
    assert new.status is SPEC_TABLE[pair]
    assert event.actor_id == actors["super"].account_id


# -- every illegal pair ------------------------------------------------------------


@pytest.mark.parametrize("pair", ILLEGAL_PAIRS, ids=_id)
def test_illegal_pair_raises_illegal_transition(pair, policy, actors, make_message) -> None:
    status, action = pair
    msg = make_message(status=status, agency_id=1, category_id=1, subcategory_id=5)
    actor = permitted_actor(actors, action)
    with pytest.raises(IllegalTransition) as info:
        transition(msg, action, actor, NOW, policy, classification=CLS_AGENCY_2)
    exc = info.value
    assert exc.status == str(status)
    assert exc.action == str(action)
    assert exc.code == "illegal_transition"
    assert isinstance(exc, Conflict)
    text = str(exc)
    assert f"'{status}'" in text
    assert f"'{action}'" in text


@pytest.mark.parametrize("pair", NON_OWNER_ILLEGAL, ids=_id)
def test_illegal_pair_also_for_super_admin(pair, policy, actors, make_message) -> None:
    status, action = pair
    msg = make_message(status=status, agency_id=1)
    with pytest.raises(IllegalTransition):
        transition(msg, action, actors["super"], NOW, policy, classification=CLS_AGENCY_2)


def test_withdraw_only_while_submitted(policy, actors, make_message) -> None:
    for status in Status:
        msg = make_message(status=status)
        if status is S.SUBMITTED:
            new, _ = transition(msg, A.WITHDRAW, actors["citizen"], NOW, policy)
            assert new.status is S.WITHDRAWN
        else:
            with pytest.raises(IllegalTransition):
                transition(msg, A.WITHDRAW, actors["citizen"], NOW, policy)


def test_reply_impossible_until_in_progress(policy, actors, make_message) -> None:
    for status in (S.SUBMITTED, S.FORWARDED):
        msg = make_message(status=status, agency_id=1)
        with pytest.raises(IllegalTransition):
            transition(msg, A.REPLY, actors["op1"], NOW, policy)


# -- forwarding ------------------------------------------------------------------


def test_forward_carries_the_classification(policy, actors, make_message) -> None:
    msg = make_message()
    cls = Classification(category_id=2, subcategory_id=9, agency_id=4)
    new, event = transition(
        msg, A.FORWARD, actors["admin"], NOW, policy, note="ke DLH", classification=cls
    )
    assert (new.category_id, new.subcategory_id, new.agency_id) == (2, 9, 4)
    assert new.status is S.FORWARDED
    assert event.agency_id == 4
    assert event.previous_agency_id is None
    assert event.note == "ke DLH"


def test_reforward_to_other_agency(policy, actors, make_message) -> None:
    msg = make_message(status=S.FORWARDED, agency_id=1, category_id=1, subcategory_id=5)
    new, event = transition(
        msg, A.REFORWARD, actors["admin"], NOW, policy, classification=CLS_AGENCY_2
    )
    assert new.status is S.FORWARDED
    assert (new.category_id, new.subcategory_id, new.agency_id) == (2, 7, 2)
    assert (event.previous_agency_id, event.agency_id) == (1, 2)
    assert (event.from_status, event.to_status) == (S.FORWARDED, S.FORWARDED)


def test_reforward_to_same_agency_is_a_conflict(policy, actors, make_message) -> None:
    msg = make_message(status=S.FORWARDED, agency_id=2, category_id=1, subcategory_id=5)
    with pytest.raises(Conflict) as info:
        transition(msg, A.REFORWARD, actors["admin"], NOW, policy, classification=CLS_AGENCY_2)
    assert info.value.code == "same_agency"
    assert not isinstance(info.value, IllegalTransition)


@pytest.mark.parametrize("action", [A.FORWARD, A.REFORWARD])
def test_forwarding_needs_a_classification(action, policy, actors, make_message) -> None:
    status = S.SUBMITTED if action is A.FORWARD else S.FORWARDED
    msg = make_message(status=status, agency_id=None if action is A.FORWARD else 1)
    with pytest.raises(ValueError, match="classification"):
        transition(msg, action, actors["admin"], NOW, policy)


def test_classification_is_ignored_by_non_forwarding_moves(policy, actors, make_message) -> None:
    """An operator cannot move a message to another agency through start/progress/reply."""
    msg = make_message(status=S.FORWARDED, agency_id=1, category_id=1, subcategory_id=5)
    new, event = transition(msg, A.START, actors["op1"], NOW, policy, classification=CLS_AGENCY_2)
    assert (new.category_id, new.subcategory_id, new.agency_id) == (1, 5, 1)
    assert event.agency_id == event.previous_agency_id == 1


# -- purity ----------------------------------------------------------------------


def test_input_message_is_not_mutated(policy, actors, make_message) -> None:
    msg = make_message()
    snapshot = attrs.asdict(msg, recurse=False)
    new, _ = transition(msg, A.FORWARD, actors["admin"], NOW, policy, classification=CLS_AGENCY_2)
    assert attrs.asdict(msg, recurse=False) == snapshot
    assert msg.status is S.SUBMITTED and msg.agency_id is None
    assert new is not msg
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        msg.status = S.DONE  # type: ignore[misc]


def test_event_and_classification_are_frozen(policy, actors, make_message) -> None:
    _, event = transition(
        make_message(), A.REJECT, actors["admin"], NOW, policy, note="tidak jelas"
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.note = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        CLS_AGENCY_2.agency_id = 3  # type: ignore[misc]


def test_a_whole_happy_path(policy, actors, make_message) -> None:
    msg = make_message()
    t = NOW
    steps = [
        (A.FORWARD, actors["admin"], Classification(1, 5, 1), S.FORWARDED),
        (A.REFORWARD, actors["admin"], CLS_AGENCY_2, S.FORWARDED),
        (A.START, actors["op2"], None, S.IN_PROGRESS),
        (A.PROGRESS, actors["op2"], None, S.IN_PROGRESS),
        (A.PROGRESS, actors["op2"], None, S.IN_PROGRESS),
        (A.REPLY, actors["op2"], None, S.DONE),
    ]
    for action, actor, cls, expected in steps:
        t += timedelta(hours=1)
        msg, event = transition(msg, action, actor, t, policy, classification=cls)
        assert msg.status is expected
        assert event.at == t
    # op1 lost the message with the re-forward.
    assert msg.agency_id == 2
    check_can_rate(msg, actors["citizen"], policy, already_rated=False)


def test_the_move_records_a_missed_agency_deadline(policy, actors, make_message) -> None:
    """transition() stores :func:`sop_missed_after` with the move: a start after
    the confirm deadline marks the message, the on-time reply keeps the mark, a
    re-forward would clear it."""
    msg = make_message(status=S.FORWARDED, agency_id=2, due_at=NOW)
    started, _ = transition(msg, A.START, actors["op2"], NOW, policy)
    assert started.sop_missed is True
    on_time = attrs.evolve(started, due_at=NOW + timedelta(days=10))
    done, _ = transition(on_time, A.REPLY, actors["op2"], NOW + timedelta(hours=1), policy)
    assert done.sop_missed is True
    early = make_message(status=S.FORWARDED, agency_id=2, due_at=NOW + timedelta(seconds=1))
    assert transition(early, A.START, actors["op2"], NOW, policy)[0].sop_missed is False
    reforwarded, _ = transition(
        attrs.evolve(msg, sop_missed=True),
        A.REFORWARD,
        actors["admin"],
        NOW,
        policy,
        classification=Classification(1, 5, 1),
    )
    assert reforwarded.sop_missed is False


# -- access is checked before the table ----------------------------------------------


def test_operator_of_other_agency_gets_not_found(policy, actors, make_message) -> None:
    msg = make_message(status=S.FORWARDED, agency_id=1)
    with pytest.raises(NotFound):
        transition(msg, A.START, actors["op2"], NOW, policy)
    # ...even when the move would be illegal anyway: nothing is revealed.
    with pytest.raises(NotFound):
        transition(msg, A.REPLY, actors["op2"], NOW, policy)


def test_citizen_cannot_forward(policy, actors, make_message) -> None:
    with pytest.raises(NotAllowed):
        transition(
            make_message(), A.FORWARD, actors["citizen"], NOW, policy, classification=CLS_AGENCY_2
        )


def test_other_citizen_cannot_withdraw(policy, actors, make_message) -> None:
    with pytest.raises(NotFound):
        transition(make_message(), A.WITHDRAW, actors["other_citizen"], NOW, policy)


def test_admin_cannot_withdraw_or_handle(policy, actors, make_message) -> None:
    with pytest.raises(NotAllowed):
        transition(make_message(), A.WITHDRAW, actors["admin"], NOW, policy)
    with pytest.raises(NotAllowed):
        transition(
            make_message(status=S.FORWARDED, agency_id=1), A.START, actors["admin"], NOW, policy
        )


@pytest.mark.parametrize("flag", ["verified", "active"])
def test_unverified_or_inactive_admin_cannot_move(flag, policy, make_message) -> None:
    actor = Actor(account_id=10, role=Role.ADMIN, **{flag: False})
    with pytest.raises(NotAllowed):
        transition(make_message(), A.REJECT, actor, NOW, policy)


# -- rating ---------------------------------------------------------------------


def test_rate_done_message_once_by_owner(policy, actors, make_message) -> None:
    msg = make_message(status=S.DONE, agency_id=1)
    assert check_can_rate(msg, actors["citizen"], policy, already_rated=False) is None
    with pytest.raises(Conflict) as info:
        check_can_rate(msg, actors["citizen"], policy, already_rated=True)
    assert info.value.code == "rating_exists"


@pytest.mark.parametrize("status", [s for s in Status if s is not S.DONE])
def test_rate_only_done(status, policy, actors, make_message) -> None:
    msg = make_message(status=status, agency_id=1)
    with pytest.raises(Conflict) as info:
        check_can_rate(msg, actors["citizen"], policy, already_rated=False)
    assert info.value.code == "rating_not_done"


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("other_citizen", NotFound),
        ("super", NotFound),
        ("admin", NotAllowed),
        ("op1", NotAllowed),
    ],
)
def test_rate_only_owner(who, error, policy, actors, make_message) -> None:
    msg = make_message(status=S.DONE, agency_id=1)
    with pytest.raises(error):
        check_can_rate(msg, actors[who], policy, already_rated=False)


@pytest.mark.parametrize("flag", ["verified", "active"])
def test_rate_needs_verified_active_owner(flag, policy, make_message) -> None:
    owner = Actor(account_id=1, role=Role.USER, **{flag: False})
    with pytest.raises(NotAllowed):
        check_can_rate(make_message(status=S.DONE), owner, policy, already_rated=False)


# -- check_definition --------------------------------------------------------------


def test_check_definition_accepts_the_real_table() -> None:
    check_definition(workflow.TRANSITIONS, workflow.INITIAL, workflow.FINAL)


def test_check_definition_rejects_exit_from_final() -> None:
    table = {**SPEC_TABLE, (S.REJECTED, A.REFORWARD): S.FORWARDED}
    with pytest.raises(WorkflowDefinitionError, match="final status rejected has an exit"):
        check_definition(table, S.SUBMITTED, SPEC_FINAL)


def test_check_definition_rejects_unreachable_status() -> None:
    # in_progress keeps its exits but nothing leads to it any more.
    table = {k: v for k, v in SPEC_TABLE.items() if k != (S.FORWARDED, A.START)}
    with pytest.raises(WorkflowDefinitionError, match="unreachable statuses: done, in_progress"):
        check_definition(table, S.SUBMITTED, SPEC_FINAL)


def test_check_definition_rejects_unreachable_final_status() -> None:
    table = {k: v for k, v in SPEC_TABLE.items() if k != (S.SUBMITTED, A.REJECT)}
    with pytest.raises(WorkflowDefinitionError, match="unreachable statuses: rejected"):
        check_definition(table, S.SUBMITTED, SPEC_FINAL)


def test_check_definition_rejects_non_final_without_exit() -> None:
    table = {k: v for k, v in SPEC_TABLE.items() if k[0] is not S.IN_PROGRESS}
    with pytest.raises(
        WorkflowDefinitionError, match="in_progress is neither final nor has an exit"
    ):
        check_definition(table, S.SUBMITTED, SPEC_FINAL)


def test_check_definition_rejects_status_missing_from_final() -> None:
    with pytest.raises(WorkflowDefinitionError, match="withdrawn is neither final"):
        check_definition(SPEC_TABLE, S.SUBMITTED, {S.REJECTED})


def test_check_definition_rejects_final_initial() -> None:
    with pytest.raises(WorkflowDefinitionError, match="initial"):
        check_definition(SPEC_TABLE, S.SUBMITTED, SPEC_FINAL | {S.SUBMITTED})


def test_workflow_definition_error_is_value_error() -> None:
    assert issubclass(WorkflowDefinitionError, ValueError)


def test_check_version_refuses_another_version_only_when_one_is_given(make_message) -> None:
    msg = attrs.evolve(make_message(status=S.FORWARDED), version=3)
    check_version(msg, None)
    check_version(msg, 3)
    for other in (2, 4):
        with pytest.raises(Conflict) as exc:
            check_version(msg, other)
        assert exc.value.code == "message_changed"
