"""Back-office pages of admins and operators: the inbox, the message list, a
message's detail with the action forms, and the in-app notifications.

Every rule (who sees which message, which action is possible now) is the
core's: these handlers call the use cases and show what they answer.
"""

from __future__ import annotations

from typing import Any

from .common import deadline_of, due_day, local_day
from .detail import act_on, forward, message_detail, progress, reject, reply, show_detail, start
from .lists import inbox, message_list
from .notifications import (
    notification_count,
    notification_read,
    notification_read_all,
    notifications,
)

__all__ = [
    "ROUTES",
    "act_on",
    "deadline_of",
    "due_day",
    "local_day",
    "show_detail",
]

ROUTES: list[Any] = [
    inbox,
    message_list,
    message_detail,
    forward,
    reject,
    start,
    progress,
    reply,
    notifications,
    notification_count,
    notification_read,
    notification_read_all,
]
