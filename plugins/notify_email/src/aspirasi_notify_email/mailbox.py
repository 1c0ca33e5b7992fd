"""The development mailbox: in demo mode without an SMTP server, mail is kept
in files instead of being sent, for a browser page to list and show.

One JSON file per mail under ``<ASPIRASI_STORAGE_PATH>/dev-mailbox/``, written
atomically (a temporary file, then a rename), so several worker processes
share one mailbox and a reader never sees half a mail. The file is named after
the outbox item, so a mail delivered twice is stored once.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from aspirasi_core.services.ports import OutboxItem

from .render import Mail

_ID = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9]{1,20}")


@attrs.frozen
class StoredMail:
    """One mail in the development mailbox."""

    id: str
    kind: str
    to: str
    sender: str
    language: str
    subject: str
    text: str
    html: str
    message_id: str
    #: When the change that produced the mail happened (the outbox item's time).
    created_at: datetime
    #: When the dispatcher delivered it to the mailbox.
    stored_at: datetime


class DevMailbox:
    """Mails kept in files. ``list`` and ``get`` for the browser page."""

    def __init__(self, path: str | os.PathLike[str], *, keep: int = 1000) -> None:
        self.path = Path(path)
        #: Only the newest ``keep`` mails are kept.
        self.keep = keep

    @staticmethod
    def id_for(item: OutboxItem) -> str:
        """The mailbox id of an outbox item's mail: its time, then its id (sortable)."""
        created = item.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{created}-{item.id}"

    def store(self, item: OutboxItem, mail: Mail, *, sender: str, message_id: str) -> StoredMail:
        """Keep ``mail`` (delivered as ``item``); storing it again replaces it."""
        stored = StoredMail(
            id=self.id_for(item),
            kind=mail.kind,
            to=mail.to,
            sender=sender,
            language=mail.language,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            message_id=message_id,
            created_at=item.created_at.astimezone(UTC),
            stored_at=datetime.now(UTC),
        )
        record = attrs.asdict(stored)
        record["created_at"] = stored.created_at.isoformat()
        record["stored_at"] = stored.stored_at.isoformat()
        self.path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=self.path)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(record, out, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path / f"{stored.id}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._prune()
        return stored

    def _ids(self) -> list[str]:
        """Every stored id, newest first."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        ids = [n[:-5] for n in names if n.endswith(".json") and _ID.fullmatch(n[:-5])]
        return sorted(ids, key=_sort_key, reverse=True)

    def _prune(self) -> None:
        for old in self._ids()[self.keep :]:
            (self.path / f"{old}.json").unlink(missing_ok=True)

    def list(self, limit: int = 50) -> list[StoredMail]:
        """The newest ``limit`` mails, newest first."""
        found: list[StoredMail] = []
        for mail_id in self._ids():
            if len(found) >= limit:
                break
            mail = self.get(mail_id)
            if mail is not None:
                found.append(mail)
        return found

    def get(self, mail_id: str) -> StoredMail | None:
        """One mail by id, or None (also for an id that is not one)."""
        if not isinstance(mail_id, str) or not _ID.fullmatch(mail_id):
            return None
        try:
            record: dict[str, Any] = json.loads(
                (self.path / f"{mail_id}.json").read_text(encoding="utf-8")
            )
            record["created_at"] = datetime.fromisoformat(record["created_at"])
            record["stored_at"] = datetime.fromisoformat(record["stored_at"])
            return StoredMail(**record)
        except (OSError, ValueError, TypeError, KeyError):
            return None  # gone meanwhile (pruned) or not ours

    def clear(self) -> int:
        """Delete every mail; returns how many."""
        ids = self._ids()
        for mail_id in ids:
            (self.path / f"{mail_id}.json").unlink(missing_ok=True)
        return len(ids)


def _sort_key(mail_id: str) -> tuple[str, int]:
    created, _, item_id = mail_id.partition("Z-")
    return created, int(item_id)
