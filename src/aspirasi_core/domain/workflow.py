"""The message status machine: one table, checked when it loads.

Each row says: from this status, this action leads to that status. Who may use
the action is the role policy's business (:data:`policy.ACTION_PERMISSIONS`),
so plugin roles plug in without touching this table. Every move is a pure
function returning the new message and a :class:`StatusChanged` event; an
illegal move raises :class:`IllegalTransition` naming the status and the action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from .errors import Conflict, IllegalTransition
from .events import StatusChanged
from .model import Action, Actor, Message, Rating, Status, Visibility
from .policy import Perm, Policy
from .privacy import author_of
from .sop import sop_missed_after

INITIAL: Status = Status.SUBMITTED

#: (from status, action) → to status. This is the whole workflow.
TRANSITIONS: Mapping[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.FORWARD): Status.FORWARDED,
    (Status.SUBMITTED, Action.REJECT): Status.REJECTED,
    (Status.SUBMITTED, Action.WITHDRAW): Status.WITHDRAWN,
    (Status.FORWARDED, Action.REFORWARD): Status.FORWARDED,
    (Status.FORWARDED, Action.START): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Action.PROGRESS): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Action.REPLY): Status.DONE,
    # Not our authority: the agency hands the message back to the admin's triage.
    (Status.FORWARDED, Action.RETURN): Status.SUBMITTED,
    (Status.IN_PROGRESS, Action.RETURN): Status.SUBMITTED,
    # After a poor rating, oversight sends a done message back to its agency.
    (Status.DONE, Action.REOPEN): Status.IN_PROGRESS,
}

#: Statuses with no way out.
FINAL: frozenset[Status] = frozenset({Status.REJECTED, Status.WITHDRAWN})
#: Statuses in which a message is closed (``closed_at`` set, no SOP clock, no
#: follow-ups): the final ones and ``done``, which oversight may reopen and
#: which still accepts a rating (not a status move).
CLOSED: frozenset[Status] = FINAL | {Status.DONE}


class WorkflowDefinitionError(ValueError):
    """The transition table is inconsistent (raised at import time)."""


def check_definition(
    transitions: Mapping[tuple[Status, Action], Status],
    initial: Status,
    final: Iterable[Status],
) -> None:
    """Check a transition table: final states have no exits, every other state
    has one, and every state is reachable from ``initial``."""
    final_set = frozenset(final)
    sources = {src for src, _ in transitions}
    if initial in final_set:
        raise WorkflowDefinitionError("the initial status cannot be final")
    for src in sources & final_set:
        raise WorkflowDefinitionError(f"final status {src!s} has an exit")
    for status in Status:
        if status not in final_set and status not in sources:
            raise WorkflowDefinitionError(f"status {status!s} is neither final nor has an exit")
    reachable = {initial}
    frontier = [initial]
    while frontier:
        current = frontier.pop()
        for (src, _action), dst in transitions.items():
            if src == current and dst not in reachable:
                reachable.add(dst)
                frontier.append(dst)
    unreachable = set(Status) - reachable
    if unreachable:
        names = ", ".join(sorted(str(s) for s in unreachable))
        raise WorkflowDefinitionError(f"unreachable statuses: {names}")


check_definition(TRANSITIONS, INITIAL, FINAL)


def allowed_actions(status: Status) -> frozenset[Action]:
    """The actions the table allows from ``status`` (ignoring who acts)."""
    return frozenset(action for (src, action) in TRANSITIONS if src == status)


def target_of(status: Status, action: Action) -> Status:
    """The status ``action`` leads to from ``status``; raises :class:`IllegalTransition`."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(str(status), str(action)) from None


def milestones(action: Action, to_status: Status, now: datetime) -> dict[str, datetime]:
    """The milestone fields of :class:`~.model.Message` that ``action`` sets at
    ``now``: ``forwarded_at`` on every forward and re-forward (the last one
    counts), ``started_at`` on the agency's start, ``closed_at`` when the message
    reaches a closed status (:data:`CLOSED`; a reopening clears it, see
    :func:`transition`)."""
    out: dict[str, datetime] = {}
    if action in (Action.FORWARD, Action.REFORWARD):
        out["forwarded_at"] = now
    if action is Action.START:
        out["started_at"] = now
    if to_status in CLOSED:
        out["closed_at"] = now
    return out


@attrs.frozen
class Classification:
    """What the admin decides when forwarding."""

    category_id: int
    subcategory_id: int
    agency_id: int


def transition(
    message: Message,
    action: Action,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    note: str = "",
    classification: Classification | None = None,
    note_visibility: Visibility = Visibility.INTERNAL,
) -> tuple[Message, StatusChanged]:
    """Apply ``action`` to ``message`` on behalf of ``actor``.

    Pure: checks the table, the permission and the scope, and returns the new
    message (its ``version`` one more, its milestones and whether its agency
    missed an SOP deadline, :func:`~.sop.sop_missed_after`, as of ``now``) with
    the event to record. Raises :class:`IllegalTransition`,
    :class:`~.errors.NotAllowed` or :class:`~.errors.NotFound`.
    """
    policy.check_can_act(actor, message, action)
    to_status = target_of(message.status, action)
    changes: dict[str, Any] = {
        "status": to_status,
        "updated_at": now,
        "version": message.version + 1,
    }
    if action in (Action.FORWARD, Action.REFORWARD):
        if classification is None:
            raise ValueError("forwarding needs a classification")
        if action is Action.REFORWARD and classification.agency_id == message.agency_id:
            raise Conflict("The message is already with this agency.", code="same_agency")
        changes.update(
            category_id=classification.category_id,
            subcategory_id=classification.subcategory_id,
            agency_id=classification.agency_id,
        )
    if action is Action.RETURN:
        # Out of the agency's hands until the admin forwards it again; the log
        # entry keeps the agency that returned it.
        changes["agency_id"] = None
    if action is Action.REOPEN:
        changes["closed_at"] = None
    changes.update(milestones(action, to_status, now))
    changes["sop_missed"] = sop_missed_after(message, action, now)
    new = attrs.evolve(message, **changes)
    event = StatusChanged(
        message_id=message.id,
        ticket=message.ticket,
        author_id=author_of(message),
        action=action,
        from_status=message.status,
        to_status=to_status,
        actor_id=actor.account_id,
        agency_id=new.agency_id,
        previous_agency_id=message.agency_id,
        note=note,
        at=now,
        category_id=new.category_id,
        subcategory_id=new.subcategory_id,
        note_visibility=note_visibility,
    )
    return new, event


def message_changed() -> Conflict:
    """The error of an action on a message someone changed in the meantime (code
    ``message_changed``): the actor acted on a state that is no longer there."""
    return Conflict(
        "The message was changed by someone else in the meantime. Reload and try again.",
        code="message_changed",
    )


def check_version(message: Message, expected_version: int | None) -> None:
    """Raise :func:`message_changed` when the caller says which version of
    ``message`` it acted on (``expected_version``) and that is not the current one.
    None: the caller did not say (the change applies to the current version)."""
    if expected_version is not None and expected_version != message.version:
        raise message_changed()


def rating_stands(message: Message, rating: Rating | None) -> bool:
    """Whether ``rating`` rates the message's current outcome: it was given after
    the message was last done. A rating of an answer that oversight reopened no
    longer stands once the message is done again: its sender may rate the new
    outcome (the poor rating stays in its oversight review)."""
    if rating is None:
        return False
    return message.closed_at is None or rating.created_at >= message.closed_at


def check_can_rate(message: Message, actor: Actor, policy: Policy, already_rated: bool) -> None:
    """A rating is allowed by the owner only when the message is done, once per
    outcome (``already_rated``: a rating stands, see :func:`rating_stands`)."""
    policy.check_permission_on(actor, message, Perm.MESSAGE_RATE)
    if message.status is not Status.DONE:
        raise Conflict("A message can be rated only when it is done.", code="rating_not_done")
    if already_rated:
        raise Conflict("This message has already been rated.", code="rating_exists")
