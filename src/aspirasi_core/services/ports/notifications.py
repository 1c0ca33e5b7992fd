"""The in-app notifications' port."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from ...domain.model import Notification


class NotificationRepository(Protocol):
    def add_many(
        self,
        account_ids: Iterable[int],
        *,
        kind: str,
        message_id: int | None,
        text: str,
        params: Mapping[str, str],
        created_at: datetime,
    ) -> int: ...

    def list_for(
        self, account_id: int, *, before_id: int | None, limit: int, unread_only: bool = False
    ) -> builtins.list[Notification]: ...

    def unread_count(self, account_id: int) -> int: ...

    def mark_read(self, account_id: int, notification_id: int, now: datetime) -> bool:
        """False when the notification is not the account's."""

    def mark_all_read(self, account_id: int, now: datetime) -> int: ...
