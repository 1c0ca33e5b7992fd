"""The workflow's words, in one place: status names, what each log entry says,
and how long an open message has been in its stage.

Every page, mail, export and report takes its status names and log lines from
here, so the same state reads the same everywhere. The texts are English
message ids; the adapters translate them with their catalogs (Indonesian by
default) and fill in the parameters (``%(agency)s``: the agency's name).

Pure: no translation, no database. A log line is a :class:`LogLine` (the message
id and which names it needs), so a progress update reads "Update" rather than
"Being handled → Being handled", and a forward names the agency it went to.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .model import Action, LogEntry, Status

#: The status names (SPEC.md), by status code.
STATUS_NAMES: Mapping[Status, str] = {
    Status.SUBMITTED: "Submitted",
    Status.FORWARDED: "Not yet confirmed",
    Status.IN_PROGRESS: "Being handled",
    Status.DONE: "Done",
    Status.REJECTED: "Rejected",
    Status.WITHDRAWN: "Withdrawn",
}

#: What a log entry of each action says. ``%(agency)s`` is the agency the entry
#: names (the one the message went to, or the one that returned it).
LOG_LINES: Mapping[Action, str] = {
    Action.SUBMIT: "Submitted",
    Action.FORWARD: "Forwarded to %(agency)s",
    Action.REFORWARD: "Forwarded again, to %(agency)s",
    Action.REJECT: "Rejected",
    Action.WITHDRAW: "Withdrawn by the sender",
    Action.START: "Confirmed by %(agency)s",
    Action.PROGRESS: "Progress update",
    Action.REPLY: "Replied",
    Action.RETURN: "Returned to the admin by %(agency)s",
    Action.REOPEN: "Reopened for %(agency)s",
}
#: The same without an agency name (public tracking, an agency unknown to the reader).
LOG_LINES_WITHOUT_AGENCY: Mapping[Action, str] = {
    **LOG_LINES,
    Action.FORWARD: "Forwarded to the agency in charge",
    Action.REFORWARD: "Forwarded again, to another agency",
    Action.START: "Confirmed by the agency",
    Action.RETURN: "Returned to the admin by the agency",
    Action.REOPEN: "Reopened for the agency",
}

#: How long an open message has been in its stage, by status (``%(time)s``: "3 days").
STAGE_WAITS: Mapping[Status, str] = {
    Status.SUBMITTED: "waiting to be forwarded for %(time)s",
    Status.FORWARDED: "waiting for the agency's confirmation for %(time)s",
    Status.IN_PROGRESS: "being handled for %(time)s",
}


@attrs.frozen
class LogLine:
    """What one log entry says: ``text`` (a message id) and ``agency_id``, the
    agency whose name fills ``%(agency)s`` (None: the text names none)."""

    text: str
    agency_id: int | None = None
    #: The entry moved the status (a progress update does not).
    moves: bool = True


def log_line(entry: LogEntry, *, name_agency: bool = True) -> LogLine:
    """The line of ``entry``: by its action, naming its agency when there is one
    and ``name_agency`` (the public tracking page names none)."""
    try:
        action = Action(entry.action)
    except ValueError:  # an action a plugin logged: its code as it is
        return LogLine(entry.action)
    moves = entry.from_status != entry.to_status
    if name_agency and entry.agency_id is not None:
        return LogLine(LOG_LINES[action], entry.agency_id, moves)
    return LogLine(LOG_LINES_WITHOUT_AGENCY[action], None, moves)


def all_texts() -> frozenset[str]:
    """Every message id of this module (for the catalogs' completeness test)."""
    return frozenset(
        [
            *STATUS_NAMES.values(),
            *LOG_LINES.values(),
            *LOG_LINES_WITHOUT_AGENCY.values(),
            *STAGE_WAITS.values(),
        ]
    )


__all__ = [
    "LOG_LINES",
    "LOG_LINES_WITHOUT_AGENCY",
    "STAGE_WAITS",
    "STATUS_NAMES",
    "LogLine",
    "all_texts",
    "log_line",
]
