"""The pieces of the one transition use case (:meth:`MessageService.act
<aspirasi_core.services.messages.MessageService.act>`): what each action of the
workflow table takes, the checks before a change, and the change itself.

Every status move goes through :func:`apply`: the pure
:func:`~aspirasi_core.domain.workflow.transition`, the SOP clock, the veto hook,
the compare-and-set write of the message (with its milestones), the log entry
and the event, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from ..domain.errors import Invalid, NotFound
from ..domain.events import StatusChanged
from ..domain.followups import ReviewOutcome, check_review_open
from ..domain.model import (
    DEFAULT_VISIBILITY,
    Action,
    Actor,
    LogEntry,
    Message,
    Role,
    Visibility,
)
from ..domain.validation import LIMITS, Collector, check_id, check_visibility, clean_text
from ..domain.workflow import Classification, check_version, message_changed, transition
from .core import CoreDeps, EventRecorder
from .ports import UnitOfWork
from .sop import SopService


@attrs.frozen
class Step:
    """What an action takes besides the message: the text the staff write with
    it (``text``: the field's name, its length limit, whether it is required),
    whether it classifies the message (forward, re-forward: ``category_id``,
    ``subcategory_id``, ``agency_id``) and whether it takes a file
    (``attachment``, the reply's PDF)."""

    text: str | None = None
    limit: str = "note"
    required: bool = False
    classifies: bool = False
    attachment: bool = False

    @property
    def fields(self) -> frozenset[str]:
        """The keyword fields the action accepts."""
        names: set[str] = set()
        if self.text is not None:
            names |= {self.text, "visibility"}
        if self.classifies:
            names |= {"category_id", "subcategory_id", "agency_id"}
        if self.attachment:
            names.add("attachment")
        return frozenset(names)


#: Every action a person takes on an existing message (``submit`` creates one).
STEPS: Mapping[Action, Step] = {
    Action.FORWARD: Step("note", classifies=True),
    Action.REFORWARD: Step("note", classifies=True),
    Action.REJECT: Step("reason", limit="reason", required=True),
    Action.WITHDRAW: Step(),
    Action.START: Step("note"),
    Action.PROGRESS: Step("note", required=True),
    Action.REPLY: Step("answer", limit="answer", required=True, attachment=True),
    Action.RETURN: Step("reason", limit="reason", required=True),
    Action.REOPEN: Step("reason", limit="reason", required=True),
}


def parse_action(action: object) -> Action:
    """The :class:`Action` named by ``action`` (an ``Action`` or its value), if a
    person may take it on a message; :class:`Invalid` (``action``) otherwise."""
    parsed = None
    if isinstance(action, str) and action in Action.__members__.values():
        parsed = Action(action)
    if parsed is None or parsed not in STEPS:
        raise Invalid.field("action", "action_unknown", "This action is not known.")
    return parsed


def check_fields(action: Action, fields: Mapping[str, Any]) -> None:
    """Refuse a field the action does not take (a caller's mistake): TypeError."""
    unknown = set(fields) - STEPS[action].fields
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(f"{action!s} takes no field(s) {names}")


def staff_text(action: Action, fields: Mapping[str, Any]) -> tuple[str, Visibility]:
    """The text the staff write with ``action`` (a note, a reason, an answer) and
    who may read it (the action's default when ``visibility`` is None); every
    error at once. Actions without a text: ``("", internal)``."""
    step = STEPS[action]
    if step.text is None:
        return "", Visibility.INTERNAL
    collector = Collector()
    clean = collector.check(
        clean_text,
        fields.get(step.text, ""),
        step.text,
        max_length=LIMITS[step.limit],
        required=step.required,
        multiline=True,
    )
    chosen = collector.check(check_visibility, fields.get("visibility"), DEFAULT_VISIBILITY[action])
    collector.raise_if_any()
    assert chosen is not None
    return clean or "", chosen


def classification(uow: UnitOfWork, fields: Mapping[str, Any]) -> Classification:
    """The category, sub-category and agency of a forward, checked against the
    directory (active, the sub-category of the category); every error at once."""
    collector = Collector()
    category_id = collector.check(check_id, fields.get("category_id"), "category_id")
    subcategory_id = collector.check(check_id, fields.get("subcategory_id"), "subcategory_id")
    agency_id = collector.check(check_id, fields.get("agency_id"), "agency_id")
    collector.raise_if_any()
    assert category_id and subcategory_id and agency_id
    if uow.directory.category(category_id) is None:
        collector.add("category_id", "category_unknown", "Choose a category.")
    sub = uow.directory.subcategory(subcategory_id)
    if sub is None or not sub.is_active or sub.category_id != category_id:
        collector.add(
            "subcategory_id",
            "subcategory_unknown",
            "Choose a sub-category of the chosen category.",
        )
    agency = uow.directory.agency(agency_id)
    if agency is None or not agency.is_active:
        collector.add("agency_id", "agency_unknown", "Choose an agency.")
    collector.raise_if_any()
    return Classification(
        category_id=category_id, subcategory_id=subcategory_id, agency_id=agency_id
    )


def load_for_change(
    deps: CoreDeps,
    uow: UnitOfWork,
    actor: Actor,
    message_id: int,
    expected_version: int | None,
    *,
    lock: bool = True,
) -> Message:
    """The message ``actor`` is about to change, locked until the transaction
    ends (``lock``), checked against the version the actor acted on.

    A message the actor may no longer see, but could see before (an operator
    whose agency lost it to a re-forward, an owner's withdrawn message), is
    ``message_changed`` (409) rather than "not found": the actor acted on a
    state that is gone, and learns nothing it did not know."""
    message = uow.messages.get(message_id, for_update=lock)
    if message is None:
        raise NotFound("The message was not found.", code="message_not_found")
    scopes = deps.scopes_for(actor, uow)
    if not deps.policy.can_read(actor, message, scopes):
        if _could_read_before(deps, uow, actor, message, scopes):
            raise message_changed()
        raise NotFound("The message was not found.", code="message_not_found")
    check_version(message, expected_version)
    return message


def _could_read_before(
    deps: CoreDeps, uow: UnitOfWork, actor: Actor, message: Message, scopes: Sequence[Any]
) -> bool:
    """Whether ``actor`` could read ``message`` in one of its earlier states
    (its status and agency after each log entry)."""
    return any(
        deps.policy.can_read(
            actor, attrs.evolve(message, status=e.to_status, agency_id=e.agency_id), scopes
        )
        for e in uow.messages.log(message.id)
    )


def notify(
    uow: UnitOfWork,
    account_ids: Sequence[int],
    *,
    kind: str,
    message: Message,
    text: str,
    now: datetime,
    exclude: int | None = None,
) -> None:
    """In-app notices about ``message`` to ``account_ids`` (but ``exclude``)."""
    ids = sorted({i for i in account_ids if i != exclude})
    if ids:
        uow.notifications.add_many(
            ids,
            kind=kind,
            message_id=message.id,
            text=text,
            params={"ticket": message.ticket, "subject": message.subject[:120]},
            created_at=now,
        )


def announce(
    deps: CoreDeps,
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    before: Message,
    after: Message,
    now: datetime,
) -> None:
    """What follows a move besides its log entry and event, in its transaction:
    a returned message is announced to the admins; a reopened one to its
    agency's operators, its oversight review is closed as ``reopened`` and its
    reply retired (the answer stays in the log) for the next one."""
    if action is Action.RETURN:
        admins = [a.id for a in uow.accounts.recipients(role=Role.ADMIN)]
        notify(
            uow,
            admins,
            kind="message_returned",
            message=after,
            text="Message %(ticket)s was returned by the agency: %(subject)s",
            now=now,
            exclude=actor.account_id,
        )
    elif action is Action.REOPEN:
        review = check_review_open(uow.reviews.open_for(before.id, for_update=True))
        if not uow.reviews.close(
            review.id, outcome=ReviewOutcome.REOPENED, closed_by=actor.account_id, closed_at=now
        ):
            raise message_changed()
        uow.reviews.retire_reply(before.id)
        operators = uow.accounts.recipients(role=Role.OPERATOR, agency_id=after.agency_id)
        notify(
            uow,
            [a.id for a in operators],
            kind="message_reopened",
            message=after,
            text="Message %(ticket)s was reopened for your agency after a poor rating: %(subject)s",
            now=now,
            exclude=actor.account_id,
        )


def apply(
    deps: CoreDeps,
    sop: SopService,
    uow: UnitOfWork,
    events: EventRecorder,
    actor: Actor,
    message: Message,
    action: Action,
    *,
    note: str = "",
    note_visibility: Visibility = Visibility.INTERNAL,
    classified: Classification | None = None,
) -> tuple[Message, StatusChanged]:
    """Move the status, veto hook, compare-and-set, log entry, event."""
    now = deps.clock.now()
    new, event = transition(
        message,
        action,
        actor,
        now,
        deps.policy,
        note=note,
        classification=classified,
        note_visibility=note_visibility,
    )
    new = sop.clock_after(uow, message, new, action, now)
    event = attrs.evolve(event, due_at=new.due_at)
    deps.hook.aspirasi_validate_transition(
        message=message, action=action, actor=actor, to_status=new.status, note=note
    )
    if not uow.messages.save_transition(new, message.version):
        raise message_changed()
    uow.messages.add_log(
        LogEntry(
            message_id=message.id,
            actor_id=actor.account_id,
            action=str(action),
            from_status=message.status,
            to_status=new.status,
            note=note,
            at=now,
            # A returned message has no agency any more: its entry names the one
            # that returned it (which could read it until then).
            agency_id=new.agency_id if new.agency_id is not None else message.agency_id,
            note_visibility=note_visibility,
        )
    )
    events.record(event)
    return new, event


__all__ = [
    "STEPS",
    "Step",
    "announce",
    "apply",
    "check_fields",
    "classification",
    "load_for_change",
    "notify",
    "parse_action",
    "staff_text",
]
