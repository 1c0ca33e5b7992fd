"""The audit log: who read or changed a person's data, when, and why.

An :class:`AuditEntry` is written in the same transaction as the read or change
it records (or, for a read, before its answer leaves the core: no entry, no
answer). The core records staff reads of a citizen's personal data: the sender
shown on a message (:data:`AuditAction.MESSAGE_SENDER_READ`), the reveal of an
anonymous sender (:data:`AuditAction.MESSAGE_SENDER_REVEAL`), a citizen's
account page (:data:`AuditAction.ACCOUNT_READ`). Other use cases and plugins add
their own actions (a NIK released, an account deleted, a data export) through
:func:`aspirasi_core.services.audit.record`; an action is a dotted lower-case
name, ``<object>.<verb>`` (see :func:`check_action`).

Only a super admin reads the log (permission ``audit.read``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

import attrs

#: ``<object>.<verb>``: lower-case words joined by dots (``account.nik_release``).
ACTION_PATTERN = re.compile(r"\A[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+\Z")
#: Longest action name (the column holds 64 characters).
ACTION_MAX = 64


class AuditAction:
    """The actions the core records. Plugins and other use cases use their own
    names (``<object>.<verb>``), e.g. ``account.nik_release``, ``account.delete``,
    ``account.data_export``."""

    #: A staff member read the sender (name, username, e-mail) of a message.
    MESSAGE_SENDER_READ = "message.sender_read"
    #: A super admin revealed the sender of an anonymous message (with a reason).
    MESSAGE_SENDER_REVEAL = "message.sender_reveal"
    #: A super admin opened a citizen's account (name, e-mail, masked NIK).
    ACCOUNT_READ = "account.read"
    #: A citizen downloaded all their data (UU 27/2022, right of access).
    ACCOUNT_DATA_EXPORT = "account.data_export"
    #: A citizen deleted their account (right to erasure); their files went with it.
    ACCOUNT_DELETE = "account.delete"
    #: The retention sweep deleted the attachment files of a closed message.
    ATTACHMENT_RETENTION_REMOVE = "attachment.retention_remove"
    #: A super admin took a NIK away from the verified account holding it (with a
    #: reason), for its real owner (``aspirasi_core.services.nik_claims``).
    ACCOUNT_NIK_RELEASE = "account.nik_release"
    #: An unverified account corrected its e-mail address on the waiting page.
    ACCOUNT_EMAIL_CHANGE = "account.email_change"

    CORE: tuple[str, ...] = (
        MESSAGE_SENDER_READ,
        MESSAGE_SENDER_REVEAL,
        ACCOUNT_READ,
        ACCOUNT_DATA_EXPORT,
        ACCOUNT_DELETE,
        ATTACHMENT_RETENTION_REMOVE,
        ACCOUNT_NIK_RELEASE,
        ACCOUNT_EMAIL_CHANGE,
    )


def check_action(action: str) -> str:
    """``action`` if it is a valid action name, else ``ValueError`` (a programming
    error of the caller, not user input)."""
    if (
        not isinstance(action, str)
        or len(action) > ACTION_MAX
        or not ACTION_PATTERN.fullmatch(action)
    ):
        raise ValueError(f"not an audit action name (<object>.<verb>): {action!r}")
    return action


@attrs.frozen
class AuditEntry:
    """One line of the audit log.

    ``actor_id`` is who acted (None for the system: a sweep, the CLI);
    ``subject_account_id`` whose data it was about, ``subject_message_id`` the
    message concerned (either may be None). ``reason`` is what the actor wrote
    (required for a reveal), ``client_ip`` the address the request came from.
    ``details`` holds small extra facts as text (never a NIK, a password or a
    token). ``actor_username`` and ``message_ticket`` are filled in by the
    list, for display.
    """

    id: int
    at: datetime
    action: str
    actor_id: int | None
    subject_account_id: int | None = None
    subject_message_id: int | None = None
    reason: str = ""
    client_ip: str | None = None
    details: Mapping[str, str] = attrs.field(factory=dict)
    actor_username: str | None = None
    message_ticket: str | None = None
