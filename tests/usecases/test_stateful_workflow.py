"""Random actors drive random actions through the real use cases (SQLite).

The expected outcome of every step comes from an independent reading of
SPEC.md encoded here, not from the policy or workflow modules."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import anyio.from_thread
import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from aspirasi_core.domain.errors import (
    Conflict,
    DomainError,
    IllegalTransition,
    NotAllowed,
    NotFound,
)
from aspirasi_core.security.crypto import Crypto
from aspirasi_core.services import BackofficeQuery, SubmitInput
from aspirasi_core.storage import create_database, upgrade

from .world import SECRET, build_world

CITIZENS = ("ani", "budi")
STAFF = ("admin", "op_pupr", "op_dinkes", "root")
ACTORS = CITIZENS + STAFF
AGENCY_OF = {"op_pupr": "pupr", "op_dinkes": "dinkes"}
ACTIONS = ("withdraw", "forward", "reject", "start", "progress", "reply", "rate")


def expected(action: str, actor: str, m: dict, target_agency: str | None) -> bool:
    """SPEC.md, read independently."""
    status, owner, agency = m["status"], m["owner"], m["agency"]
    if status == "withdrawn":
        return False
    is_admin = actor in ("admin", "root")
    handles = actor == "root" or (actor in AGENCY_OF and AGENCY_OF[actor] == agency)
    if action == "withdraw":
        return actor == owner and status == "submitted"
    if action == "forward":
        if not is_admin:
            return False
        return status == "submitted" or (status == "forwarded" and target_agency != agency)
    if action == "reject":
        return is_admin and status == "submitted"
    if action == "start":
        return handles and status == "forwarded"
    if action in ("progress", "reply"):
        return handles and status == "in_progress"
    if action == "rate":
        return actor == owner and status == "done" and not m["rated"]
    raise AssertionError(action)


def role_may(actor: str, action: str) -> bool:
    """Whether the actor's role may take ``action`` on some message at all (the
    use case refuses the others with 403 before it looks at the message)."""
    if action == "rate":
        return True  # not a status move: checked on the message
    if action == "withdraw":
        return actor in CITIZENS or actor == "root"
    if action in ("forward", "reject"):
        return actor in ("admin", "root")
    return actor == "root" or actor in AGENCY_OF


def can_read(actor: str, m: dict) -> bool:
    if m["status"] == "withdrawn":
        return False
    if actor == m["owner"] or actor in ("admin", "root"):
        return True
    return actor in AGENCY_OF and AGENCY_OF[actor] == m["agency"]


def could_read_before(actor: str, m: dict) -> bool:
    """Whether ``actor`` could read the message in one of its states so far."""
    return any(can_read(actor, {**m, "status": s, "agency": a}) for s, a in m["states"])


class Workflow(RuleBasedStateMachine):
    messages = Bundle("messages")

    def __init__(self) -> None:
        super().__init__()
        self._tmp = tempfile.TemporaryDirectory()
        tmp = Path(self._tmp.name)
        self.portal_cm = anyio.from_thread.start_blocking_portal()
        self.portal = self.portal_cm.__enter__()
        url = f"sqlite:///{tmp / 'w.db'}"
        upgrade(url)
        db = create_database(url, Crypto(SECRET))
        self.world = self.portal.call(lambda: build_world(db, tmp))
        self.model: dict[int, dict] = {}

    def teardown(self) -> None:
        self.world.app.deps.db.dispose()
        self.portal_cm.__exit__(None, None, None)
        self._tmp.cleanup()

    def call(self, fn, *args):
        return self.portal.call(fn, *args)

    @rule(target=messages, who=st.sampled_from(CITIZENS), confidential=st.booleans())
    def submit(self, who: str, confidential: bool) -> int:
        msg = self.call(
            self.world.app.messages.submit,
            self.world.ctx(who),
            SubmitInput("subject", "body", confidential=confidential),
        )
        self.model[msg.id] = {
            "status": "submitted",
            "owner": who,
            "agency": None,
            "rated": False,
            "states": [("submitted", None)],
        }
        return msg.id

    @rule(
        mid=messages,
        actor=st.sampled_from(ACTORS),
        action=st.sampled_from(ACTIONS),
        agency=st.sampled_from(("pupr", "dinkes")),
    )
    def act(self, mid: int, actor: str, action: str, agency: str) -> None:
        w = self.world
        m = self.model[mid]
        ok = expected(action, actor, m, agency)
        ctx = w.ctx(actor)
        msgs = w.app.messages
        fields: dict[str, Any] = {
            "withdraw": {},
            "forward": dict(
                category_id=w.categories["aduan"],
                subcategory_id=w.subcategories["infrastruktur"],
                agency_id=w.agencies[agency],
            ),
            "reject": {"reason": "reason"},
            "start": {},
            "progress": {"note": "note"},
            "reply": {"answer": "answer"},
        }.get(action, {})
        try:
            if action == "rate":
                self.call(msgs.rate, ctx, mid, 4, "")
            else:
                self.call(lambda *a: msgs.act(*a, **fields), ctx, mid, action)
        except (NotAllowed, NotFound, IllegalTransition, Conflict) as exc:
            assert not ok, f"{actor} {action} on {m} refused: {exc!r}"
            if not role_may(actor, action):
                # Refused for the role, whatever the message: tells nothing about it.
                assert isinstance(exc, NotAllowed) and exc.code == "forbidden", exc
            elif not can_read(actor, m):
                if could_read_before(actor, m):
                    # It changed since the actor could see it: "it changed", which
                    # tells the actor nothing it did not know.
                    assert getattr(exc, "code", None) == "message_changed", exc
                else:
                    assert isinstance(exc, NotFound), (
                        f"{actor} learnt of a message outside its scope: {exc!r}"
                    )
            return
        assert ok, f"{actor} was allowed to {action} a message in {m}"
        new_status = {
            "withdraw": "withdrawn",
            "forward": "forwarded",
            "reject": "rejected",
            "start": "in_progress",
            "progress": "in_progress",
            "reply": "done",
            "rate": m["status"],
        }[action]
        m["status"] = new_status
        if action == "forward":
            m["agency"] = agency
        if action == "rate":
            m["rated"] = True
        m["states"].append((m["status"], m["agency"]))

    @rule(mid=messages, actor=st.sampled_from(ACTORS))
    def read(self, mid: int, actor: str) -> None:
        m = self.model[mid]
        try:
            detail = self.call(self.world.app.queries.message, self.world.ctx(actor), mid)
        except NotFound:
            assert not can_read(actor, m), f"{actor} could not read {m}"
            return
        except DomainError as exc:  # pragma: no cover - would be a bug
            raise AssertionError(exc) from exc
        assert can_read(actor, m), f"{actor} read a message outside its scope: {m}"
        assert str(detail.message.status) == m["status"]
        assert (detail.rating is not None) == m["rated"]

    @invariant()
    def lists_agree_with_the_model(self) -> None:
        if not self.model:
            return
        w = self.world
        listed = {
            m.id
            for m in self.call(
                lambda: w.app.queries.backoffice(w.ctx("admin"), BackofficeQuery(), limit=100)
            ).items
        }
        alive = {i for i, m in self.model.items() if m["status"] != "withdrawn"}
        assert listed == alive
        for citizen in CITIZENS:
            mine = {
                m.id
                for m in self.call(
                    lambda c=citizen: w.app.queries.my_messages(w.ctx(c), limit=100)
                ).items
            }
            assert mine == {i for i in alive if self.model[i]["owner"] == citizen}
        public = {m.id for m in self.call(lambda: w.app.queries.public(limit=100)).items}
        assert public <= alive


Workflow.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestWorkflow = Workflow.TestCase
