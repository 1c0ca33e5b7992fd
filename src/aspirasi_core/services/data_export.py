"""A citizen's export of their own data (UU 27/2022 on personal data): see
:meth:`DataExporter.export`, which :class:`~.data_rights.DataRightsService` offers.

``data.json`` holds their account with their own NIK, their messages with the log,
reply, rating and attachment list, as their own pages show them (no internal staff
text), and the audit log's entries about them; ``attachments/`` the files.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

import anyio.to_thread
import attrs
import structlog

from ..domain.audit import AuditAction, AuditEntry
from ..domain.errors import NotAllowed, Unauthenticated
from ..domain.model import Account, Actor, Attachment, LogEntry, Message, Reply, Role
from .audit import audit_entry
from .context import Context
from .core import CoreDeps
from .ports import AuditFilter, UnitOfWork
from .queries import for_sender, reply_for_sender

log = structlog.get_logger("aspirasi.data_rights")

#: Version of the layout of ``data.json``.
EXPORT_FORMAT = 1
#: Files put into one export at most, in bytes (512 MiB); past it the attachments
#: are listed in ``data.json`` with ``"omitted": "size_limit"``. The archive is
#: built on disk (in memory up to :data:`EXPORT_MEMORY_BYTES`), never whole in memory.
EXPORT_MAX_FILE_BYTES = 512 * 1024 * 1024
EXPORT_MEMORY_BYTES = 8 * 1024 * 1024
#: Messages read per round of an export.
EXPORT_BATCH = 200


@attrs.define
class DataExport:
    """A ZIP archive of one citizen's data, positioned at its start. The caller
    reads it and then closes it (:meth:`close`), which deletes it."""

    filename: str
    file: IO[bytes] = attrs.field(repr=False)
    size: int

    def close(self) -> None:
        self.file.close()


@attrs.frozen
class _ExportPlan:
    data: dict[str, Any]
    #: (path in the archive, storage key) of each file to include.
    files: tuple[tuple[str, str], ...]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class DataExporter:
    """The export part of :class:`~.data_rights.DataRightsService`, and who may
    use the service."""

    _d: CoreDeps

    # ------------------------------------------------------------------ who may
    @staticmethod
    def _citizen(ctx: Context) -> Actor:
        actor = ctx.actor
        if actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        if not actor.verified:
            raise NotAllowed("Please verify your e-mail address first.", code="email_unverified")
        if actor.role != Role.USER:
            # Staff accounts belong to the organisation: the super admin manages them.
            raise NotAllowed(
                "Only citizens' accounts can do this; the super admin manages staff accounts.",
                code="citizens_only",
            )
        return actor

    # ------------------------------------------------------------------ export
    async def export(self, ctx: Context) -> DataExport:
        """Everything the service holds about the signed-in citizen, as a ZIP.

        ``data.json`` holds the account (with the NIK, unmasked: it is theirs),
        every message they sent (withdrawn ones too) with its log, reply, rating and
        attachments as the sender's own pages show them (no internal staff text);
        ``attachments/<ticket>/`` the stored files (up to
        :data:`EXPORT_MAX_FILE_BYTES` in all). Built in a worker thread into a
        temporary file, which the caller must close."""
        actor = self._citizen(ctx)
        deps = self._d
        await deps.before("export_data", ctx, subject=str(actor.account_id))
        plan = await deps.db.transaction(
            lambda uow: self._plan(uow, actor.account_id), write=False, report=True
        )
        export = await anyio.to_thread.run_sync(self._write_zip, plan)
        entry = audit_entry(
            ctx,
            AuditAction.ACCOUNT_DATA_EXPORT,
            at=deps.clock.now(),
            subject_account_id=actor.account_id,
            details={"messages": len(plan.data["messages"]), "files": len(plan.files)},
        )
        try:
            # No entry, no answer.
            await deps.db.transaction(lambda uow: uow.audit.add(entry), write=True)
        except BaseException:
            export.close()
            raise
        log.info(
            "data_exported",
            account_id=actor.account_id,
            messages=len(plan.data["messages"]),
            files=len(plan.files),
            size=export.size,
        )
        return export

    def _plan(self, uow: UnitOfWork, account_id: int) -> _ExportPlan:
        account = uow.accounts.get(account_id)
        if account is None or account.deleted:
            raise Unauthenticated("Please log in.", code="login_required")
        blob = uow.accounts.nik_encrypted(account_id)
        nik = self._d.crypto.decrypt_nik(blob) if blob else None
        names = _DirectoryNames(uow)
        messages: list[dict[str, Any]] = []
        files: list[tuple[str, str]] = []
        budget = EXPORT_MAX_FILE_BYTES
        after_id = 0
        while True:
            batch = uow.messages.all_by_author(account_id, after_id=after_id, limit=EXPORT_BATCH)
            if not batch:
                break
            ids = [m.id for m in batch]
            logs = uow.messages.logs_for(ids)
            attachments = uow.messages.attachments_for(ids)
            for message in batch:
                # What the sender's own message page shows: no internal reply, no
                # internal note (``for_sender``), as the query use cases give them.
                reply = reply_for_sender(uow.messages.reply(message.id))
                reply_file = reply.attachment.id if reply and reply.attachment else None
                entries: list[dict[str, Any]] = []
                for attachment in attachments[message.id]:
                    if attachment.kind != "message" and attachment.id != reply_file:
                        continue
                    entry, path = _attachment_entry(message, attachment, budget)
                    if path is not None:
                        files.append((path, attachment.storage_key))
                        budget -= attachment.size
                    entries.append(entry)
                messages.append(
                    self._message_entry(
                        uow, message, for_sender(logs[message.id]), reply, entries, names
                    )
                )
            after_id = batch[-1].id
        data = {
            "format": EXPORT_FORMAT,
            "service": self._d.settings.app_name,
            "generated_at": _iso(self._d.clock.now()),
            "account": _account_entry(account, nik),
            "messages": messages,
            "audit": self._audit_entries(uow, account_id),
        }
        return _ExportPlan(data=data, files=tuple(files))

    @staticmethod
    def _audit_entries(uow: UnitOfWork, account_id: int) -> list[dict[str, Any]]:
        """The audit log's entries about the citizen (staff reads of their data,
        their own exports, a reveal), oldest first: when, what, by whom as a kind
        (``you``, ``staff``, ``system``: the staff member's identity and address
        are the organisation's), the message, the reason and details."""
        found: list[AuditEntry] = []
        before: int | None = None
        flt = AuditFilter(subject_account_id=account_id)
        while True:
            batch = uow.audit.list(flt, before_id=before, limit=EXPORT_BATCH)
            found.extend(batch)
            if len(batch) < EXPORT_BATCH:
                break
            before = batch[-1].id
        return [
            {
                "at": _iso(e.at),
                "action": e.action,
                "by": (
                    "you"
                    if e.actor_id == account_id
                    else "system"
                    if e.actor_id is None
                    else "staff"
                ),
                "message": e.message_ticket,
                "reason": e.reason,
                "details": dict(e.details),
            }
            for e in reversed(found)
        ]

    def _message_entry(
        self,
        uow: UnitOfWork,
        message: Message,
        log_entries: Iterable[LogEntry],
        reply: Reply | None,
        attachments: list[dict[str, Any]],
        names: _DirectoryNames,
    ) -> dict[str, Any]:
        by_id = {a["id"]: a for a in attachments}
        rating = uow.messages.rating(message.id)
        return {
            "id": message.id,
            "ticket": message.ticket,
            "subject": message.subject,
            "body": message.body,
            "status": str(message.status),
            "confidential": message.confidential,
            "anonymous": message.anonymous,
            "created_at": _iso(message.created_at),
            "updated_at": _iso(message.updated_at),
            "due_at": _iso(message.due_at),
            "category": names.category(message.category_id),
            "subcategory": names.subcategory(message.subcategory_id),
            "agency": names.agency(message.agency_id),
            # Where it happened, with the coordinates the sender gave: their own data
            # (the pages show them only to the staff, an export holds all of it).
            "location": {
                "regency_code": message.regency_code,
                "district_code": message.district_code,
                "place": self._d.regions.describe(message.regency_code, message.district_code)
                or None,
                "latitude": message.latitude,
                "longitude": message.longitude,
            },
            "attachments": [a for a in attachments if a["kind"] == "message"],
            # The log as the sender's own message page shows it: every step, the
            # notes meant for the sender (staff identities are not part of it).
            "log": [
                {
                    "at": _iso(e.at),
                    "action": e.action,
                    "from_status": str(e.from_status) if e.from_status else None,
                    "to_status": str(e.to_status),
                    "note": e.note,
                }
                for e in log_entries
            ],
            "reply": (
                {
                    "answer": reply.answer,
                    "created_at": _iso(reply.created_at),
                    "attachment": by_id.get(reply.attachment.id) if reply.attachment else None,
                }
                if reply
                else None
            ),
            "rating": (
                {
                    "stars": rating.stars,
                    "comment": rating.comment,
                    "created_at": _iso(rating.created_at),
                }
                if rating
                else None
            ),
            # The ratings of earlier outcomes, which a new one replaced.
            "replaced_ratings": [
                {
                    "stars": r.stars,
                    "comment": r.comment,
                    "created_at": _iso(r.created_at),
                    "replaced_at": _iso(r.replaced_at),
                }
                for r in uow.messages.replaced_ratings(message.id)
            ],
        }

    def _write_zip(self, plan: _ExportPlan) -> DataExport:
        files = self._d.files
        out = tempfile.SpooledTemporaryFile(max_size=EXPORT_MEMORY_BYTES)  # noqa: SIM115
        try:
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                missing: set[str] = set()
                for path, key in plan.files:
                    try:
                        content = files.get(key)
                    except (FileNotFoundError, ValueError):
                        missing.add(path)
                        continue
                    # JPEG and PDF are compressed already.
                    archive.writestr(path, content, compress_type=zipfile.ZIP_STORED)
                if missing:
                    _mark_missing(plan.data, missing)
                text = json.dumps(plan.data, ensure_ascii=False, indent=2)
                archive.writestr("data.json", text.encode("utf-8"))
            size = out.tell()
            out.seek(0)
        except BaseException:
            out.close()
            raise
        day = self._d.clock.now().strftime("%Y%m%d")
        return DataExport(filename=f"aspirasi-data-{day}.zip", file=out, size=size)


class _DirectoryNames:
    """Names of categories, sub-categories and agencies, each read once."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._cache: dict[tuple[str, int], str | None] = {}

    def _name(self, kind: str, ident: int | None) -> str | None:
        if ident is None:
            return None
        key = (kind, ident)
        if key not in self._cache:
            directory = self._uow.directory
            found = getattr(directory, kind)(ident)
            self._cache[key] = found.name if found is not None else None
        return self._cache[key]

    def category(self, ident: int | None) -> str | None:
        return self._name("category", ident)

    def subcategory(self, ident: int | None) -> str | None:
        return self._name("subcategory", ident)

    def agency(self, ident: int | None) -> str | None:
        return self._name("agency", ident)


def _account_entry(account: Account, nik: str | None) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "email": account.email,
        "full_name": account.full_name,
        "nik": nik,
        "language": account.language,
        "created_at": _iso(account.created_at),
        "email_verified_at": _iso(account.email_verified_at),
        "pending_email": account.pending_email,
    }


def _attachment_entry(
    message: Message, attachment: Attachment, budget: int
) -> tuple[dict[str, Any], str | None]:
    """The attachment's entry in ``data.json`` and its path in the archive (None
    when its file is not included)."""
    entry: dict[str, Any] = {
        "id": attachment.id,
        "kind": attachment.kind,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": _iso(attachment.created_at),
        "file": None,
    }
    if attachment.removed:
        entry["removed_at"] = _iso(attachment.removed_at)
        entry["removed_reason"] = attachment.removed_reason
        return entry, None
    if attachment.size > budget:
        entry["omitted"] = "size_limit"
        return entry, None
    path = f"attachments/{message.ticket}/{attachment.id}-{attachment.filename}"
    entry["file"] = path
    return entry, path


def _mark_missing(data: dict[str, Any], missing: set[str]) -> None:
    for message in data["messages"]:
        entries = list(message["attachments"])
        if message["reply"] and message["reply"]["attachment"]:
            entries.append(message["reply"]["attachment"])
        for entry in entries:
            if entry["file"] in missing:
                entry["file"] = None
                entry["omitted"] = "missing"
