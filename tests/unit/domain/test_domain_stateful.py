"""A Hypothesis state machine over the pure domain: workflow + policy + rating.

The expected outcome of every step comes from SPEC.md, encoded here on its own
(the table and the "who moves it on" column), never from the policy module: the
test fails when the code and this reading of the spec disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import event as note_event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from aspirasi_core.domain.errors import (
    Conflict,
    IllegalTransition,
    NotAllowed,
    NotFound,
)
from aspirasi_core.domain.model import Action, Actor, Message, Status
from aspirasi_core.domain.policy import MessageScope, PermissionDecl, build_policy
from aspirasi_core.domain.workflow import Classification, check_can_rate, transition

S, A = Status, Action

# -- the spec, restated -------------------------------------------------------------

SPEC_TABLE: dict[tuple[Status, Action], Status] = {
    (S.SUBMITTED, A.FORWARD): S.FORWARDED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.FORWARDED, A.REFORWARD): S.FORWARDED,
    (S.FORWARDED, A.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.PROGRESS): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.REPLY): S.DONE,
    # Issue 22: "not our authority" back to the admin; reopening after a poor rating.
    (S.FORWARDED, A.RETURN): S.SUBMITTED,
    (S.IN_PROGRESS, A.RETURN): S.SUBMITTED,
    (S.DONE, A.REOPEN): S.IN_PROGRESS,
}
FINAL_SPEC = {S.DONE, S.REJECTED, S.WITHDRAWN}
CLASSIFY = {A.FORWARD, A.REFORWARD, A.REJECT}
HANDLE = {A.START, A.PROGRESS, A.REPLY, A.RETURN}
OVERSEE = {A.REOPEN}

# Role names as the spec spells them (SPEC.md, "Accounts have one level").
USER, ADMIN, OPERATOR, SUPER = "user", "admin", "operator", "super_admin"
LAND_SUBCATEGORY = 7

CITIZEN_1 = Actor(account_id=1, role=USER)
CITIZEN_2 = Actor(account_id=2, role=USER)
ADMIN_1 = Actor(account_id=10, role=ADMIN)
OPERATOR_1 = Actor(account_id=21, role=OPERATOR, agency_id=1)
OPERATOR_2 = Actor(account_id=22, role=OPERATOR, agency_id=2)
SUPER_1 = Actor(account_id=30, role=SUPER)
# Land-issue monitor: an operator of Biro Perekonomian (agency 3) with the plugin permission.
MONITOR = Actor(
    account_id=40, role=OPERATOR, agency_id=3, permissions=frozenset({"land_issue.monitor"})
)
# Accounts that must never get anywhere.
INACTIVE_ADMIN = Actor(account_id=11, role=ADMIN, active=False)
UNVERIFIED_OPERATOR_1 = Actor(account_id=23, role=OPERATOR, agency_id=1, verified=False)

CITIZENS = (CITIZEN_1, CITIZEN_2)
ACTORS = (
    CITIZEN_1,
    CITIZEN_2,
    ADMIN_1,
    OPERATOR_1,
    OPERATOR_2,
    SUPER_1,
    MONITOR,
    INACTIVE_ADMIN,
    UNVERIFIED_OPERATOR_1,
)
LAND_SCOPE = MessageScope("land_issue", subcategory_ids=frozenset({LAND_SUBCATEGORY}))

POLICY = build_policy(
    extra_permissions=[
        PermissionDecl("land_issue.monitor", "Land-dispute monitor", frozenset(), grantable=True)
    ]
)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MAX_MESSAGES = 5
# For the guided rule: the moves the spec offers, weighted towards the way to ``done``.
LEANING: dict[Status, list[Action]] = {
    S.SUBMITTED: [A.FORWARD, A.FORWARD, A.FORWARD, A.REJECT, A.WITHDRAW],
    S.FORWARDED: [A.START, A.START, A.REFORWARD],
    S.IN_PROGRESS: [A.PROGRESS, A.REPLY, A.REPLY],
}
CLASSIFICATIONS = st.builds(
    Classification,
    category_id=st.sampled_from([1, 2]),
    subcategory_id=st.sampled_from([5, LAND_SUBCATEGORY]),
    agency_id=st.sampled_from([1, 2, 3]),
)


def scopes_of(actor: Actor) -> tuple[MessageScope, ...]:
    return (LAND_SCOPE,) if "land_issue.monitor" in actor.permissions else ()


def spec_may_act(actor: Actor, m: Model, action: Action) -> bool:
    """SPEC.md "who moves it on", plus "a super admin holds every permission"."""
    if not (actor.active and actor.verified):
        return False  # "An unverified account can do nothing but …"
    if action in CLASSIFY or action in OVERSEE:
        return actor.role in (ADMIN, SUPER)
    if action in HANDLE:
        # "operator of that agency"
        return actor.role == SUPER or (
            actor.role == OPERATOR and m.agency_id is not None and actor.agency_id == m.agency_id
        )
    if action is A.WITHDRAW:
        return actor.account_id == m.author_id  # "only … by its owner"
    # SUBMIT: citizens send messages ("a super admin holds every permission"); it is
    # no move on an existing message, so the table refuses it anyway.
    return actor.role in (USER, SUPER)


def spec_may_read(actor: Actor, m: Model) -> bool:
    if m.status is S.WITHDRAWN or not (actor.active and actor.verified):
        return False
    if actor.account_id == m.author_id or actor.role in (ADMIN, SUPER):
        return True
    if actor.role == OPERATOR and m.agency_id is not None and actor.agency_id == m.agency_id:
        return True
    return "land_issue.monitor" in actor.permissions and m.subcategory_id == LAND_SUBCATEGORY


@attrs.define
class Model:
    author_id: int
    status: Status = S.SUBMITTED
    agency_id: int | None = None
    category_id: int | None = None
    subcategory_id: int | None = None
    ratings: int = 0
    moves: int = 0
    reopened: bool = False


class DomainMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []
        self.models: list[Model] = []
        self.now = T0
        self.steps = 0

    def _tick(self) -> datetime:
        self.steps += 1
        self.now += timedelta(minutes=7)
        return self.now

    # -- rules ---------------------------------------------------------------------

    @initialize()
    def first_messages(self) -> None:
        for author in CITIZENS:
            self.submit(author, confidential=False, anonymous=False)

    def submit(self, author: Actor, confidential: bool, anonymous: bool) -> None:
        n = len(self.messages) + 1
        now = self._tick()
        self.messages.append(
            Message(
                id=n,
                ticket=f"ASP-{n:06d}",
                author_id=author.account_id,
                subject=f"Pesan {n}",
                body="…",
                status=S.SUBMITTED,
                confidential=confidential,
                anonymous=anonymous,
                created_at=now,
                updated_at=now,
            )
        )
        self.models.append(Model(author_id=author.account_id))

    @precondition(lambda self: len(self.messages) < MAX_MESSAGES)
    @rule(author=st.sampled_from(CITIZENS))
    def submit_more(self, author: Actor) -> None:
        self.submit(author, confidential=False, anonymous=True)

    @rule(
        data=st.data(),
        actor=st.sampled_from(ACTORS),
        action=st.sampled_from(list(Action)),
        cls=CLASSIFICATIONS,
        note=st.sampled_from(["", "catatan"]),
    )
    def act(self, data, actor, action, cls, note) -> None:
        """Anyone tries anything on any message."""
        i = data.draw(st.integers(min_value=0, max_value=len(self.messages) - 1), label="message")
        self._apply(i, actor, action, cls, note)

    @rule(data=st.data(), cls=CLASSIFICATIONS)
    def act_guided(self, data, cls) -> None:
        """Mostly a move the spec table offers, mostly by someone the spec allows, on an
        open message: random tries alone rarely get deep into the workflow."""
        open_ = [i for i, m in enumerate(self.models) if m.status not in FINAL_SPEC]
        i = data.draw(st.sampled_from(open_ or range(len(self.models))), label="message")
        m = self.models[i]
        if m.status in LEANING and data.draw(st.integers(0, 2), label="mostly an offered move"):
            action = data.draw(st.sampled_from(LEANING[m.status]), label="action")
        else:  # any action, mostly by someone who could do it if the table allowed it
            action = data.draw(st.sampled_from(list(Action)), label="action")
        allowed = [a for a in ACTORS if spec_may_act(a, m, action)]
        if allowed and data.draw(st.integers(0, 4), label="mostly an allowed actor"):
            actor = data.draw(st.sampled_from(allowed), label="actor")
        else:
            actor = data.draw(st.sampled_from(ACTORS), label="actor")
        self._apply(i, actor, action, cls, "")

    def _apply(self, i: int, actor: Actor, action: Action, cls: Classification, note: str) -> None:
        msg, m = self.messages[i], self.models[i]
        agency, category, subcategory = cls.agency_id, cls.category_id, cls.subcategory_id
        snapshot = attrs.asdict(msg, recurse=False)
        now = self._tick()
        permitted = spec_may_act(actor, m, action)
        in_table = (m.status, action) in SPEC_TABLE

        try:
            new, event = transition(msg, action, actor, now, POLICY, note=note, classification=cls)
        except (NotAllowed, NotFound) as exc:
            assert not permitted, f"{actor} refused {action} on {m}: {exc!r}"
            if actor.role == OPERATOR and actor.active and actor.verified and action in HANDLE:
                # IDOR rule: another agency's message does not exist for this operator
                assert isinstance(exc, NotFound), exc
            if actor.role == SUPER and action is A.WITHDRAW:
                assert isinstance(exc, NotFound), exc
            if actor.role == USER and actor.verified and action is A.WITHDRAW:
                assert isinstance(exc, NotFound), exc
        except IllegalTransition as exc:
            assert permitted and not in_table, f"{actor} {action} on {m}: {exc!r}"
            assert (exc.status, exc.action) == (str(m.status), str(action))
        except Conflict as exc:
            assert permitted and in_table, exc
            assert action is A.REFORWARD and agency == m.agency_id, exc
            assert exc.code == "same_agency"
        else:
            assert permitted and in_table, f"{actor} did {action} on {m}"
            note_event(f"accepted {m.status}->{action}")
            assert not (action is A.REFORWARD and agency == m.agency_id)
            target = SPEC_TABLE[(m.status, action)]
            assert new.status is target
            assert (event.from_status, event.to_status) == (m.status, target)
            assert event.actor_id == actor.account_id
            assert event.message_id == msg.id and event.action is action and event.at == now
            assert event.previous_agency_id == m.agency_id
            assert event.note == note and event.author_id == m.author_id
            if action in (A.FORWARD, A.REFORWARD):
                m.agency_id, m.category_id, m.subcategory_id = agency, category, subcategory
            if action is A.RETURN:
                m.agency_id = None
            if action is A.REOPEN:
                m.reopened = True
            assert (new.agency_id, new.category_id, new.subcategory_id) == (
                m.agency_id,
                m.category_id,
                m.subcategory_id,
            )
            assert event.agency_id == m.agency_id
            m.status = target
            m.moves += 1
            self.messages[i] = new
        # the input message is never changed, whatever happened
        assert attrs.asdict(msg, recurse=False) == snapshot

    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def rate(self, data, actor) -> None:
        i = data.draw(st.integers(min_value=0, max_value=len(self.messages) - 1), label="message")
        self._rate(i, actor)

    @rule(data=st.data())
    def rate_own(self, data) -> None:
        i = data.draw(st.integers(min_value=0, max_value=len(self.messages) - 1), label="message")
        owner = next(c for c in CITIZENS if c.account_id == self.models[i].author_id)
        self._rate(i, owner)

    def _rate(self, i: int, actor: Actor) -> None:
        msg, m = self.messages[i], self.models[i]
        owner_ok = actor.active and actor.verified and actor.account_id == m.author_id
        try:
            check_can_rate(msg, actor, POLICY, already_rated=m.ratings > 0)
        except (NotAllowed, NotFound):
            assert not owner_ok
        except Conflict as exc:
            assert owner_ok
            if m.status is not S.DONE:
                assert exc.code == "rating_not_done"
            else:
                assert m.ratings > 0 and exc.code == "rating_exists"
        else:
            assert owner_ok and m.status is S.DONE and m.ratings == 0
            note_event("rated")
            m.ratings += 1

    # -- invariants ------------------------------------------------------------------

    def teardown(self) -> None:
        note_event(f"messages done: {sum(m.status is S.DONE for m in self.models)}")
        note_event(f"steps: {self.steps // 10 * 10}+")

    @invariant()
    def model_matches_messages(self) -> None:
        for msg, m in zip(self.messages, self.models, strict=True):
            assert msg.status is m.status
            assert msg.agency_id == m.agency_id
            assert msg.subcategory_id == m.subcategory_id
            assert msg.category_id == m.category_id
            assert msg.author_id == m.author_id

    @invariant()
    def ratings_only_when_done_and_at_most_once(self) -> None:
        for m in self.models:
            assert m.ratings <= 1
            if m.ratings:
                # A rated message is done, or was reopened after its rating.
                assert m.status is S.DONE or m.reopened

    @invariant()
    def reading(self) -> None:
        for msg, m in zip(self.messages, self.models, strict=True):
            for actor in ACTORS:
                readable = POLICY.can_read(actor, msg, scopes_of(actor))
                assert readable == spec_may_read(actor, m), (actor, m)
                if msg.status is S.WITHDRAWN:
                    assert not readable
                    # not even with a scope that names every status
                    assert not POLICY.can_read(actor, msg, [MessageScope("all")])
                if actor.role == OPERATOR and actor.agency_id != msg.agency_id:
                    # a monitor may read land disputes of other agencies, nothing else
                    assert not readable or (
                        actor is MONITOR and msg.subcategory_id == LAND_SUBCATEGORY
                    )
                    assert not POLICY.can_read(actor, msg)
                if actor.role == USER and actor.account_id != msg.author_id:
                    assert not readable


DomainMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestDomainMachine = DomainMachine.TestCase
