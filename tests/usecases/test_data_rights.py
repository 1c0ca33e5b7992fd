"""Rights of the data subject (UU 27/2022): export of one's data, deletion of one's
account; retention of closed messages' attachments."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import attrs
import pytest

from aspirasi_core.domain.audit import AuditAction, AuditEntry
from aspirasi_core.domain.errors import (
    Conflict,
    Invalid,
    NotAllowed,
    NotFound,
    Unauthenticated,
)
from aspirasi_core.domain.model import Message, RemovalReason, Status
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import AccountChanges, AuditQuery, Context, SubmitInput, Upload
from aspirasi_core.services import data_export as data_export_module
from aspirasi_core.services.queries import BackofficeQuery

from .test_messages import fwd, jpeg_bytes, pdf_bytes
from .world import NIKS, World

pytestmark = pytest.mark.anyio

PASSWORD = "ani-long-password"


async def handled_message(world: World, *, anonymous: bool = False) -> Message:
    """Ani's message with a photo, forwarded, confirmed, updated, answered with a PDF
    and rated."""
    app = world.app
    msg = await app.messages.submit(
        world.ctx("ani"),
        SubmitInput(
            "Jalan rusak",
            "Jalan di depan pasar berlubang.",
            anonymous=anonymous,
            attachment=Upload("foto jalan.jpg", jpeg_bytes()),
        ),
    )
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    await app.messages.act(world.ctx("op_pupr"), msg.id, "progress", note="Tim sudah survei.")
    await app.messages.act(
        world.ctx("op_pupr"),
        msg.id,
        "reply",
        answer="Sudah diperbaiki.",
        attachment=Upload("jawaban.pdf", pdf_bytes()),
    )
    await app.messages.rate(world.ctx("ani"), msg.id, 4, "Cukup cepat.")
    return msg


def stored(world: World, message_id: int) -> list[Any]:
    return world.app.deps.db.run_sync(
        lambda uow: uow.messages.attachments_for([message_id])[message_id], write=False
    )


async def audited(world: World, action: str) -> list[AuditEntry]:
    page = await world.app.audit.list(world.ctx("root"), AuditQuery(action=action))
    return list(page.items)


async def read_export(world: World, name: str) -> tuple[dict[str, Any], zipfile.ZipFile]:
    export = await world.app.data_rights.export(world.ctx(name))
    try:
        data = export.file.read()
    finally:
        export.close()
    assert len(data) == export.size
    assert export.filename.startswith("aspirasi-data-") and export.filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(data))
    return json.loads(archive.read("data.json")), archive


# ----------------------------------------------------------------------- export


async def test_the_export_holds_the_account_messages_logs_reply_rating_and_files(
    world: World,
) -> None:
    app = world.app
    msg = await handled_message(world)
    withdrawn = await app.messages.submit(world.ctx("ani"), SubmitInput("Salah", "Keliru kirim."))
    await app.messages.act(world.ctx("ani"), withdrawn.id, "withdraw")
    other = await app.messages.submit(world.ctx("budi"), SubmitInput("Budi", "Pesan Budi."))

    data, archive = await read_export(world, "ani")

    account = data["account"]
    assert account["nik"] == NIKS[0]  # unmasked: it is the owner's
    assert account["email"] == "ani@example.org" and account["username"] == "ani"
    assert account["full_name"] == "Citizen ani"
    tickets = [m["ticket"] for m in data["messages"]]
    assert tickets == [msg.ticket, withdrawn.ticket]  # withdrawn ones too, oldest first
    assert other.ticket not in json.dumps(data)
    first = data["messages"][0]
    assert first["subject"] == "Jalan rusak" and first["status"] == "done"
    assert first["agency"] == "Dinas pupr" and first["category"]
    assert [e["action"] for e in first["log"]] == [
        "submit",
        "forward",
        "start",
        "progress",
        "reply",
    ]
    assert first["log"][3]["note"] == "Tim sudah survei."
    assert first["log"][1]["note"] == ""  # the forwarding note is internal
    assert "see to it" not in json.dumps(data)
    assert first["reply"]["answer"] == "Sudah diperbaiki."
    assert first["rating"] == {
        "stars": 4,
        "comment": "Cukup cepat.",
        "created_at": first["rating"]["created_at"],
    }
    (photo,) = first["attachments"]
    assert photo["filename"] == "foto jalan.jpg" and photo["kind"] == "message"
    files = {a.kind: a for a in stored(world, msg.id)}
    assert archive.read(photo["file"]) == app.deps.files.get(files["message"].storage_key)
    reply_file = first["reply"]["attachment"]["file"]
    assert archive.read(reply_file) == app.deps.files.get(files["reply"].storage_key)
    assert data["messages"][1]["status"] == "withdrawn"
    assert sorted(archive.namelist()) == sorted(["data.json", photo["file"], reply_file])
    (entry,) = await audited(world, AuditAction.ACCOUNT_DATA_EXPORT)
    ani = world.accounts["ani"].id
    assert entry.actor_id == ani and entry.subject_account_id == ani
    assert entry.details == {"messages": "2", "files": "2"}


async def test_the_export_holds_the_audit_entries_about_the_citizen(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    other = await app.messages.submit(world.ctx("budi"), SubmitInput("s", "b"))
    await app.queries.message(world.ctx("admin"), msg.id)  # reads ani's details
    await app.queries.message(world.ctx("admin"), other.id)  # budi's
    await read_export(world, "ani")  # an entry of its own, before the second
    data, _ = await read_export(world, "ani")
    audit = data["audit"]
    assert [(e["action"], e["by"]) for e in audit] == [
        (AuditAction.MESSAGE_SENDER_READ, "staff"),
        (AuditAction.ACCOUNT_DATA_EXPORT, "you"),
    ]
    assert audit[0]["message"] == msg.ticket and audit[0]["at"]
    assert other.ticket not in json.dumps(audit)
    assert "admin" not in json.dumps(audit) and "client_ip" not in audit[0]


async def test_internal_replies_and_notes_stay_out_of_the_export(world: World) -> None:
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("Pasar", "Atap bocor."))
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    await app.messages.act(
        world.ctx("op_pupr"),
        msg.id,
        "progress",
        note="Catatan dalam untuk staf.",
        visibility="internal",
    )
    await app.messages.act(
        world.ctx("op_pupr"),
        msg.id,
        "reply",
        answer="Jawaban dalam.",
        attachment=Upload("dalam.pdf", pdf_bytes()),
        visibility="internal",
    )
    data, archive = await read_export(world, "ani")
    (entry,) = data["messages"]
    assert entry["status"] == "done" and entry["reply"] is None
    assert [e["action"] for e in entry["log"]] == [
        "submit",
        "forward",
        "start",
        "progress",
        "reply",
    ]
    text = json.dumps(data)
    for internal in ("Catatan dalam", "Jawaban dalam", "dalam.pdf", "see to it"):
        assert internal not in text
    assert archive.namelist() == ["data.json"]


async def test_an_anonymous_message_is_in_its_senders_export(world: World) -> None:
    msg = await world.app.messages.submit(
        world.ctx("ani"), SubmitInput("Pungli", "Di puskesmas.", anonymous=True)
    )
    data, _ = await read_export(world, "ani")
    assert [m["ticket"] for m in data["messages"]] == [msg.ticket]
    assert data["messages"][0]["anonymous"] is True


@pytest.mark.parametrize("name", ["admin", "op_pupr", "root"])
async def test_staff_accounts_cannot_use_the_citizen_export(world: World, name: str) -> None:
    with pytest.raises(NotAllowed) as caught:
        await world.app.data_rights.export(world.ctx(name))
    assert caught.value.code == "citizens_only"


async def test_the_export_needs_a_signed_in_verified_citizen(world: World) -> None:
    with pytest.raises(Unauthenticated):
        await world.app.data_rights.export(Context())
    unverified = await world.citizen("cici", NIKS[2], verify=False)
    with pytest.raises(NotAllowed):
        await world.app.data_rights.export(Context(actor=unverified.actor()))


async def test_files_past_the_size_bound_are_listed_not_included(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    msg = await handled_message(world)
    photo = next(a for a in stored(world, msg.id) if a.kind == "message")
    monkeypatch.setattr(data_export_module, "EXPORT_MAX_FILE_BYTES", photo.size)
    data, archive = await read_export(world, "ani")
    first = data["messages"][0]
    assert first["attachments"][0]["file"] is not None
    assert first["reply"]["attachment"]["file"] is None
    assert first["reply"]["attachment"]["omitted"] == "size_limit"
    assert len(archive.namelist()) == 2


async def test_a_file_missing_on_disk_is_marked_missing(world: World) -> None:
    msg = await handled_message(world)
    photo = next(a for a in stored(world, msg.id) if a.kind == "message")
    world.app.deps.files.delete(photo.storage_key)
    data, archive = await read_export(world, "ani")
    entry = data["messages"][0]["attachments"][0]
    assert entry["file"] is None and entry["omitted"] == "missing"
    assert len(archive.namelist()) == 2


# ----------------------------------------------------------------------- deletion


async def test_a_wrong_password_deletes_nothing(world: World) -> None:
    app = world.app
    with pytest.raises(Invalid) as caught:
        await app.data_rights.delete_account(world.ctx("ani"), "not-the-password")
    assert caught.value.errors[0].field == "password"
    assert caught.value.errors[0].code == "password_wrong"
    with pytest.raises(Invalid) as empty:
        await app.data_rights.delete_account(world.ctx("ani"), "")
    assert empty.value.errors[0].code == "required"
    account = await app.accounts.me(world.ctx("ani"))
    assert account.is_active and not account.deleted and account.email == "ani@example.org"


async def test_deleting_the_account_keeps_the_messages_without_their_sender(
    world: World,
) -> None:
    app = world.app
    msg = await handled_message(world)
    open_msg = await app.messages.submit(
        world.ctx("ani"),
        SubmitInput("Lampu mati", "Lampu jalan mati.", attachment=Upload("l.jpg", jpeg_bytes())),
    )
    session = await app.accounts.login(Context(), "ani", PASSWORD)
    api = await app.accounts.login(Context(), "ani", PASSWORD, purpose=TokenPurpose.API)
    account_id = world.accounts["ani"].id
    ctx = world.ctx("ani")
    before = {a.kind: a for a in stored(world, msg.id)}

    await app.data_rights.delete_account(ctx, PASSWORD)

    # The row is emptied of personal data and can never sign in again.
    husk = app.deps.db.run_sync(lambda uow: uow.accounts.get(account_id), write=False)
    assert husk is not None and husk.deleted and not husk.is_active
    assert husk.email == husk.username == f"deleted:{account_id}"
    assert husk.full_name == "" and husk.nik_masked is None and husk.password_hash == ""
    assert husk.email_verified_at is None and not husk.permissions
    nik = app.deps.db.run_sync(lambda uow: uow.accounts.nik_encrypted(account_id), write=False)
    assert nik is None
    assert await app.accounts.authenticate(session.token, TokenPurpose.SESSION) is None
    assert await app.accounts.authenticate(api.token, TokenPurpose.API) is None
    with pytest.raises(Unauthenticated):
        await app.accounts.login(Context(), "ani", PASSWORD)
    assert await app.queries.track(Context(), NIKS[0]) == []

    # Their files are gone; the operator's reply document stays.
    after = {a.kind: a for a in stored(world, msg.id)}
    photo = after["message"]
    assert photo.removed and photo.removed_reason == RemovalReason.ACCOUNT_DELETED
    assert photo.filename == "" and photo.sha256 == "" and photo.storage_key == ""
    assert not app.deps.files.exists(before["message"].storage_key)  # type: ignore[attr-defined]
    assert not after["reply"].removed
    assert app.deps.files.exists(after["reply"].storage_key)  # type: ignore[attr-defined]
    (open_photo,) = stored(world, open_msg.id)
    assert open_photo.removed
    with pytest.raises(NotFound) as gone:
        await app.queries.attachment(world.ctx("admin"), msg.id, photo.id)
    assert gone.value.code == "attachment_removed"

    # The messages stay, in every list, and the staff see a deleted sender.
    detail = await app.queries.message(world.ctx("admin"), msg.id)
    assert detail.author is None and detail.author_deleted
    assert detail.message.body == "Jalan di depan pasar berlubang."
    assert detail.rating is not None and detail.reply is not None
    listed = await app.queries.backoffice(world.ctx("admin"), BackofficeQuery())
    assert {m.id for m in listed.items} >= {msg.id, open_msg.id}
    # The open one can still be handled.
    await app.messages.act(world.ctx("admin"), open_msg.id, "forward", **fwd(world))

    # The address, username and NIK are free for a new account.
    again = await world.citizen("ani", NIKS[0])
    assert again.id != account_id and again.email == "ani@example.org"
    assert "AccountDeleted" in [e.name for e in world.recorder.after]
    (entry,) = await audited(world, AuditAction.ACCOUNT_DELETE)
    assert entry.actor_id == account_id and entry.subject_account_id == account_id
    assert entry.details == {"attachments_removed": "2"}


async def test_an_anonymous_message_of_a_deleted_account_stays_anonymous(world: World) -> None:
    app = world.app
    msg = await handled_message(world, anonymous=True)
    signed = await app.messages.submit(
        world.ctx("ani"), SubmitInput("s", "b", attachment=Upload("s.jpg", jpeg_bytes()))
    )
    (photo_before,) = [a for a in stored(world, msg.id) if a.kind == "message"]
    world.clock.advance(days=40)
    await app.data_rights.delete_account(world.ctx("ani"), PASSWORD)
    detail = await app.queries.message(world.ctx("op_pupr"), msg.id)
    assert detail.author is None
    assert detail.message.anonymous
    # The signed message's file says when and why it went; the anonymous one's
    # neither (it would tie the message to the deleted account).
    (signed_photo,) = stored(world, signed.id)
    assert signed_photo.removed_reason == RemovalReason.ACCOUNT_DELETED
    assert signed_photo.removed_at == world.clock.now()
    (photo,) = [a for a in stored(world, msg.id) if a.kind == "message"]
    assert photo.removed and photo.removed_reason == RemovalReason.REMOVED
    assert photo.removed_at == photo_before.created_at
    assert photo.filename == "" and photo.sha256 == ""
    assert not app.deps.files.exists(photo_before.storage_key)  # type: ignore[attr-defined]
    (entry,) = await audited(world, AuditAction.ACCOUNT_DELETE)
    assert entry.details == {"attachments_removed": "1"}  # the signed message's only


async def test_deletion_masks_the_personal_data_typed_into_messages_and_rating(
    world: World,
) -> None:
    app = world.app
    typed = f"Hubungi saya di 0812-3456-7890 atau ani@example.org, NIK {NIKS[0]}."
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("Telepon 081234567890", typed))
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    await app.messages.act(world.ctx("op_pupr"), msg.id, "reply", answer="Sudah.")
    await app.messages.rate(world.ctx("ani"), msg.id, 2, "Telepon saya 0812 3456 7890.")
    # reopened, answered again and rated anew: the earlier rating is kept, masked alike
    world.clock.advance(minutes=1)
    await app.messages.act(world.ctx("admin"), msg.id, "reopen", reason="Cek lagi.")
    await app.messages.act(world.ctx("op_pupr"), msg.id, "reply", answer="Sudah lagi.")
    world.clock.advance(minutes=1)
    await app.messages.rate(world.ctx("ani"), msg.id, 2, "Surel saya ani@example.org.")
    plain = await app.messages.submit(world.ctx("ani"), SubmitInput("Lampu", "Lampu mati."))
    before = await app.queries.message(world.ctx("admin"), msg.id)
    assert "3456" in before.replaced_ratings[0].comment

    await app.data_rights.delete_account(world.ctx("ani"), PASSWORD)

    after = await app.queries.message(world.ctx("admin"), msg.id)
    [earlier] = after.replaced_ratings
    shown = f"{after.message.subject} {after.message.body} {after.rating.comment}"  # type: ignore[union-attr]
    shown += f" {earlier.comment}"
    assert earlier.comment.startswith("Telepon saya") and earlier.stars == 2
    for raw in ("3456", "ani@example.org", NIKS[0]):
        assert raw not in shown
    assert after.message.body.startswith("Hubungi saya di 0812")
    assert after.rating is not None and after.rating.stars == 2
    # Nothing dates the change (an anonymous message would be tied to the deletion).
    assert after.message.updated_at == before.message.updated_at
    assert after.message.version == before.message.version
    untouched = await app.queries.message(world.ctx("admin"), plain.id)
    assert untouched.message.body == "Lampu mati."


async def test_deletion_drops_the_mail_not_yet_sent_to_the_account(world: World) -> None:
    app = world.app
    db = app.deps.db
    now = world.clock.now()

    def queue(uow: Any) -> None:
        uow.outbox.add("email", {"to": "Ani@Example.org", "kind": "x"}, created_at=now)
        uow.outbox.add("email", {"to": "budi@example.org", "kind": "x"}, created_at=now)

    db.run_sync(queue, write=True)
    assert len(await app.outbox.list("pending")) >= 2
    await app.data_rights.delete_account(world.ctx("ani"), PASSWORD)
    after = await app.outbox.list("pending")
    addressed = [i.payload.get("to") for i in after]
    assert "Ani@Example.org" not in addressed and "budi@example.org" in addressed


async def test_a_file_whose_deletion_failed_is_deleted_by_a_later_sweep(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = world.app
    msg = await app.messages.submit(
        world.ctx("ani"), SubmitInput("s", "b", attachment=Upload("s.jpg", jpeg_bytes()))
    )
    (before,) = stored(world, msg.id)
    files = app.deps.files
    real_delete = files.delete

    def broken(key: str) -> None:
        raise OSError("disk went read-only")

    monkeypatch.setattr(files, "delete", broken)
    await app.data_rights.delete_account(world.ctx("ani"), PASSWORD)
    (marked,) = stored(world, msg.id)
    # Removed for every reader, but the row still names the file it must delete.
    assert marked.removed and marked.storage_key == before.storage_key
    assert files.exists(before.storage_key)  # type: ignore[attr-defined]
    assert await app.data_rights.sweep() == 0  # still failing: kept for next time
    assert stored(world, msg.id)[0].storage_key == before.storage_key

    monkeypatch.setattr(files, "delete", real_delete)
    assert app.outbox.sweep is not None
    assert await app.outbox.sweep() >= 1
    assert not files.exists(before.storage_key)  # type: ignore[attr-defined]
    (settled,) = stored(world, msg.id)
    assert settled.removed and settled.storage_key == ""
    assert await app.data_rights.sweep() == 0


@pytest.mark.parametrize("name", ["admin", "op_pupr", "root"])
async def test_staff_cannot_delete_their_account_here(world: World, name: str) -> None:
    with pytest.raises(NotAllowed) as caught:
        await world.app.data_rights.delete_account(world.ctx(name), f"{name}-long-password")
    assert caught.value.code == "citizens_only"


async def test_a_deleted_account_cannot_be_reactivated(world: World) -> None:
    app = world.app
    account_id = world.accounts["ani"].id
    await app.data_rights.delete_account(world.ctx("ani"), PASSWORD)
    with pytest.raises(Conflict) as caught:
        await app.admin.update_account(
            world.ctx("root"), account_id, AccountChanges(is_active=True)
        )
    assert caught.value.code == "account_deleted"


async def test_a_password_changed_during_the_check_stops_the_deletion(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = world.app
    hasher = app.deps.hasher
    real = hasher.verify_async
    ctx = world.ctx("ani")

    async def then_changed(password_hash: str | None, password: str) -> bool:
        # Right after the deletion's password check, the password changes.
        monkeypatch.setattr(hasher, "verify_async", real)
        ok = await real(password_hash, password)
        await app.accounts.change_password(
            ctx, PASSWORD, "another-long-password", "another-long-password"
        )
        return ok

    monkeypatch.setattr(hasher, "verify_async", then_changed)
    with pytest.raises(Unauthenticated):
        await app.data_rights.delete_account(ctx, PASSWORD)
    account = await app.accounts.me(world.ctx("ani"))
    assert not account.deleted and account.is_active


# ----------------------------------------------------------------------- retention


def retain(world: World, days: int) -> None:
    deps = world.app.deps
    deps.settings = attrs.evolve(deps.settings, attachment_retention_days=days)


async def test_without_a_retention_period_nothing_is_removed(world: World) -> None:
    msg = await handled_message(world)
    world.clock.advance(days=3650)
    assert await world.app.data_rights.sweep() == 0
    assert not any(a.removed for a in stored(world, msg.id))


async def test_closed_messages_lose_their_files_after_the_retention_period(
    world: World,
) -> None:
    app = world.app
    retain(world, 30)
    done = await handled_message(world)
    rejected = await app.messages.submit(
        world.ctx("budi"), SubmitInput("s", "b", attachment=Upload("r.jpg", jpeg_bytes()))
    )
    await app.messages.act(world.ctx("admin"), rejected.id, "reject", reason="Bukan kewenangan.")
    still_open = await app.messages.submit(
        world.ctx("budi"), SubmitInput("o", "b", attachment=Upload("o.jpg", jpeg_bytes()))
    )
    keys = {a.id: a.storage_key for m in (done, rejected) for a in stored(world, m.id)}
    assert len(keys) == 3

    world.clock.advance(days=29, hours=23)
    assert await app.data_rights.sweep() == 0
    world.clock.advance(hours=1, seconds=1)
    assert await app.data_rights.sweep(limit=2) == 3  # two batches
    assert await app.data_rights.sweep() == 0

    for message in (done, rejected):
        for attachment in stored(world, message.id):
            assert attachment.removed and attachment.removed_reason == RemovalReason.RETENTION
            assert attachment.storage_key == ""
            assert attachment.filename  # kept: the pages name what was removed
    for key in keys.values():
        assert not app.deps.files.exists(key)  # type: ignore[attr-defined]
    (kept,) = stored(world, still_open.id)
    assert not kept.removed and app.deps.files.exists(kept.storage_key)  # type: ignore[attr-defined]
    detail = await app.queries.message(world.ctx("ani"), done.id)
    assert detail.message.attachments[0].removed
    assert detail.reply is not None and detail.reply.attachment is not None
    assert detail.reply.attachment.removed
    assert detail.message.status is Status.DONE
    entries = await audited(world, AuditAction.ATTACHMENT_RETENTION_REMOVE)
    assert sorted((e.subject_message_id, e.details["attachments"]) for e in entries) == sorted(
        [(done.id, "2"), (rejected.id, "1")]
    )
    assert all(e.actor_id is None and e.details["retention_days"] == "30" for e in entries)
    data, archive = await read_export(world, "ani")
    (photo,) = data["messages"][0]["attachments"]
    assert photo["file"] is None and photo["removed_reason"] == "retention"
    assert photo["removed_at"] and photo["filename"] == "foto jalan.jpg"
    assert archive.namelist() == ["data.json"]


async def test_the_outbox_workers_sweep_runs_the_retention_sweep(world: World) -> None:
    app = world.app
    retain(world, 1)
    msg = await handled_message(world)
    world.clock.advance(days=2)
    assert app.outbox.sweep is not None
    assert await app.outbox.sweep() >= 2
    assert all(a.removed for a in stored(world, msg.id))


async def test_one_failing_sweep_does_not_stop_the_others() -> None:
    from aspirasi_core.services import periodic_sweeps

    ran: list[str] = []

    async def broken() -> int:
        ran.append("broken")
        raise RuntimeError("database gone")

    async def fine() -> int:
        ran.append("fine")
        return 3

    assert await periodic_sweeps(broken, fine)() == 3
    assert ran == ["broken", "fine"]


async def test_revealing_the_sender_of_a_deleted_account_names_nobody(world: World) -> None:
    app = world.app
    msg = await handled_message(world, anonymous=True)
    await app.data_rights.delete_account(world.ctx("ani"), PASSWORD)
    revealed = await app.privacy.reveal_sender(
        world.ctx("root"), msg.id, "Court order 12/2026 asks for the sender."
    )
    assert revealed.deleted
    assert revealed.full_name == "" and revealed.nik_masked is None
    assert "ani" not in (revealed.username, revealed.email)


async def test_the_periodic_sweep_removes_audit_entries_past_their_retention(
    world: World,
) -> None:
    app = world.app
    ctx = attrs.evolve(world.ctx("root"), client_ip="203.0.113.9")
    await app.audit.record(ctx, AuditAction.ACCOUNT_READ, subject_account_id=1)
    world.clock.advance(days=700)
    await app.audit.record(ctx, AuditAction.ACCOUNT_READ, subject_account_id=2)
    world.clock.advance(days=30, seconds=1)  # the first is 730 days old and a second
    assert app.outbox.sweep is not None
    await app.outbox.sweep()
    (left,) = await audited(world, AuditAction.ACCOUNT_READ)
    assert left.subject_account_id == 2 and left.client_ip == "203.0.113.9"
    deps = app.deps
    deps.settings = attrs.evolve(deps.settings, audit_retention_days=0)  # keep for good
    world.clock.advance(days=3650)
    assert await app.audit.sweep() == 0
