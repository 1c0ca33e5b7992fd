"""Every kind of mail, end to end: the real use cases queue it (aspirasi_outbox_items,
same transaction), the dispatcher delivers it (aspirasi_deliver_outbox_item) to a
real SMTP server, and it arrives once, to the right person, in their language,
with a link that works."""

from __future__ import annotations

import re

import pytest

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.model import Status
from aspirasi_core.services import Context, SubmitInput
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_notify_email import NotifyEmailPlugin
from aspirasi_notify_email.render import QUEUED_FORMAT

pytestmark = pytest.mark.anyio

BASE = "https://aspirasi.kaltimprov.go.id"
NIKS = ["6472045504910001", "6471011203880002", "6472041708450003", "6472046612990004"]


def token_in(text: str, path: str) -> str:
    found = re.findall(re.escape(f"{BASE}{path}?token=") + r"([A-Za-z0-9_\-]+)", text)
    assert len(set(found)) == 1, f"no single {path} link in:\n{text}"
    return found[0]


def recipients(mails) -> list[str]:
    return sorted(address for m in mails for address in m.rcpt_tos)


class Mails:
    """What the SMTP server received since the last look, kept for checks over all."""

    def __init__(self, world, smtp) -> None:
        self.world = world
        self.smtp = smtp
        self.all: list = []

    async def new(self) -> list:
        # Every built-in kind is queued with its variables and rendered at delivery.
        pending = await self.world.app.outbox.list(status="pending", limit=1000)
        assert {i.payload["format"] for i in pending if i.topic == "email"} <= {QUEUED_FORMAT}
        await self.world.deliver()
        got = list(self.smtp.received)
        self.smtp.clear()
        self.all.extend(got)
        return got


async def test_every_kind_of_mail_arrives_once_in_the_recipients_language(build_world, smtp):
    smtp.start()
    world = await build_world(NotifyEmailPlugin(), smtp_port=smtp.port)
    app = world.app
    mails = Mails(world, smtp)
    setup = await mails.new()
    assert recipients(setup) == ["ani@example.org", "budi@example.org"]  # verification links
    await app.accounts.update_profile(world.ctx("ani"), language="en")
    assert await mails.new() == []

    # Verification link, in Indonesian (the default); following it verifies the account.
    password = "dewi-long-password"
    await app.accounts.register(
        Context(),
        RegisterInput("dewi@example.org", "dewi", "Dewi Lestari", NIKS[2], password, password),
    )
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("dewi@example.org",)
    assert mail.message["Content-Language"] == "id"
    assert mail.subject == "Verifikasi alamat email Anda – ASPIRASI ETAM"
    # Not greeted by the name typed: the mailbox has not proved it is Dewi's yet.
    assert "Halo,\n" in mail.text and "berlaku 24 jam" in mail.text
    assert "Dewi" not in mail.text + mail.html + mail.subject
    assert "dihapus setelah 7 hari" in mail.text
    token = token_in(mail.text, "/verify-email")
    assert f'href="{BASE}/verify-email?token={token}"' in mail.html
    assert (await app.accounts.verify_email(Context(), token)).verified
    with pytest.raises(Invalid):  # single use
        await app.accounts.verify_email(Context(), token)

    # Password reset, in English (Ani's language); the link sets a new password.
    await app.accounts.forgot_password(Context(), "ani@example.org")
    await app.accounts.forgot_password(Context(), "nobody@example.org")  # no mail, no error
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("ani@example.org",)
    assert mail.message["Content-Language"] == "en"
    assert mail.subject == "Reset your password – ASPIRASI ETAM"
    assert "valid for 60 minutes" in mail.text
    token = token_in(mail.text, "/reset-password")
    await app.accounts.reset_password(Context(), token, "ani-brand-new-pass", "ani-brand-new-pass")
    assert (await app.accounts.login(Context(), "ani", "ani-brand-new-pass")).account.id

    # Someone registers with Ani's address: Ani is told, in English, with no token.
    answer = await app.accounts.register(
        Context(),
        RegisterInput("ANI@example.org", "ani2", "Not Ani", NIKS[3], password, password),
    )
    assert answer is None
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("ani@example.org",)
    assert mail.subject.startswith("Someone tried to register with your e-mail address")
    assert f"{BASE}/login" in mail.text and f"{BASE}/forgot-password" in mail.text
    assert "token=" not in mail.text + mail.html

    # A new message: the one admin, in Indonesian, with the back-office link.
    msg = await app.messages.submit(
        world.ctx("ani"), SubmitInput("Jalan <rusak> di KM 5", "Tolong diperbaiki.")
    )
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("admin@example.org",)
    assert mail.subject == f"Pesan baru {msg.ticket} – ASPIRASI ETAM"
    assert f"{BASE}/backoffice/messages/{msg.id}" in mail.text
    assert "Judul: Jalan <rusak> di KM 5" in mail.text
    assert "Jalan &lt;rusak&gt; di KM 5" in mail.html and "<rusak>" not in mail.html

    # Forwarded: both operators of the agency (back-office link) and the citizen.
    pupr, dinkes = world.agencies["pupr"], world.agencies["dinkes"]
    classification = {
        "category_id": world.categories["aduan"],
        "subcategory_id": world.subcategories["infrastruktur"],
    }
    await app.messages.act(
        world.ctx("admin"),
        msg.id,
        "forward",
        **classification,
        agency_id=pupr,
        note="Mohon segera.",
    )
    got = await mails.new()
    assert recipients(got) == ["ani@example.org", "op_pupr2@example.org", "op_pupr@example.org"]
    for operator in ("op_pupr@example.org", "op_pupr2@example.org"):
        [mail] = [m for m in got if m.rcpt_tos == (operator,)]
        assert mail.subject.startswith(f"Pesan {msg.ticket} diteruskan ke instansi Anda")
        assert f"{BASE}/backoffice/messages/{msg.id}" in mail.text
        assert "Mohon segera." in mail.text
    [mail] = [m for m in got if m.rcpt_tos == ("ani@example.org",)]
    assert "Mohon segera." not in mail.text + mail.html  # the note is internal by default
    assert mail.subject == f"Message {msg.ticket} forwarded to an agency – ASPIRASI ETAM"
    assert f"{BASE}/messages/{msg.id}" in mail.text and "/backoffice/" not in mail.text
    assert "Forwarded, not yet confirmed" in mail.text

    # Re-forwarded: the new agency's operator, and the citizen.
    await app.messages.act(
        world.ctx("admin"), msg.id, "forward", **classification, agency_id=dinkes
    )
    got = await mails.new()
    assert recipients(got) == ["ani@example.org", "op_dinkes@example.org"]
    [mail] = [m for m in got if m.rcpt_tos == ("op_dinkes@example.org",)]
    assert "dialihkan" in mail.subject

    # A progress note for the staff only: the citizen hears of the update, not its text.
    await app.messages.act(world.ctx("op_dinkes"), msg.id, "start")
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("ani@example.org",)
    assert mail.subject == f"Message {msg.ticket} is being handled – ASPIRASI ETAM"
    await app.messages.act(
        world.ctx("op_dinkes"),
        msg.id,
        "progress",
        note="Kontraktor lambat, tegur.",
        visibility="internal",
    )
    [mail] = await mails.new()
    assert mail.subject == f"Progress on message {msg.ticket} – ASPIRASI ETAM"
    assert "Kontraktor lambat" not in mail.text + mail.html

    # A progress update (a NIK and HTML in the note), the reply: the citizen.
    await app.messages.act(
        world.ctx("op_dinkes"),
        msg.id,
        "progress",
        note=f"Survei lokasi <b>selesai</b>; pelapor NIK {NIKS[0]} / {NIKS[1][:8]} {NIKS[1][8:]}.",
    )
    [mail] = await mails.new()
    assert mail.subject == f"Progress on message {msg.ticket} – ASPIRASI ETAM"
    assert "Survei lokasi <b>selesai</b>; pelapor NIK 6472********0001 / 6471********0002" in (
        mail.text
    )
    assert "Survei lokasi &lt;b&gt;selesai&lt;/b&gt;" in mail.html
    await app.messages.act(
        world.ctx("op_dinkes"), msg.id, "reply", answer="Jalan sudah diperbaiki."
    )
    [mail] = await mails.new()
    assert mail.subject == f"Reply to message {msg.ticket} – ASPIRASI ETAM"
    assert "Answer:\nJalan sudah diperbaiki." in mail.text and "Status: Done" in mail.text

    # Rejected, in Indonesian (Budi's language), with the reason; a confidential
    # message's subject stays out of the admins' mail.
    other = await app.messages.submit(
        world.ctx("budi"), SubmitInput("Rahasia dapur", "…", confidential=True)
    )
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("admin@example.org",)
    assert "Rahasia dapur" not in mail.text + mail.html + mail.subject
    await app.messages.act(
        world.ctx("admin"), other.id, "reject", reason="Bukan kewenangan provinsi."
    )
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("budi@example.org",)
    assert mail.subject == f"Pesan {other.ticket} ditolak – ASPIRASI ETAM"
    assert "Alasan:\nBukan kewenangan provinsi." in mail.text and "Status: Ditolak" in mail.text

    # Withdrawn by its author: only the admins' notice of the submission.
    third = await app.messages.submit(world.ctx("budi"), SubmitInput("Salah kirim", "…"))
    withdrawn = await app.messages.act(world.ctx("budi"), third.id, "withdraw")
    assert withdrawn.status is Status.WITHDRAWN
    assert recipients(await mails.new()) == ["admin@example.org"]

    # Over everything: each mail once, from the configured sender, no NIK anywhere.
    ids = [str(m.message["Message-ID"]) for m in mails.all]
    assert len(ids) == len(set(ids)) == 18
    assert all(re.fullmatch(r"<\d+\.[0-9a-f]{20}\.aspirasi@kaltimprov\.go\.id>", i) for i in ids)
    for mail in mails.all:
        assert mail.mail_from == "noreply@kaltimprov.go.id"
        assert mail.message["From"] == "ASPIRASI ETAM <noreply@kaltimprov.go.id>"
        assert mail.message["Auto-Submitted"] == "auto-generated"
        content = mail.subject + mail.text + mail.html
        assert not any(nik in content for nik in NIKS)
        assert not re.search(r"(?<![0-9])[0-9]{16}(?![0-9])", content)
    assert world.outbox_topics()["email"] == 18


async def test_a_late_message_is_announced_by_mail_once_to_whoever_must_act(build_world, smtp):
    smtp.start()
    world = await build_world(NotifyEmailPlugin(), smtp_port=smtp.port)
    app = world.app
    mails = Mails(world, smtp)
    await mails.new()
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("Jalan rusak", "Berlubang."))
    await mails.new()  # the admins' notice of a new message
    # Triage late (due at the end of Thursday 5 Nov, WITA): the admins are told.
    world.clock.advance(days=4)
    assert await app.sop.sweep() == 1
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("admin@example.org",)
    assert mail.subject == f"Pesan {msg.ticket} melewati batas waktu SOP – ASPIRASI ETAM"
    # the deadline in the pages' long date style
    assert "Kamis, 5 November 2026" in mail.text and "belum diteruskan" in mail.text
    assert f"{BASE}/backoffice/messages/{msg.id}" in mail.text
    assert await app.sop.sweep() == 0
    assert await mails.new() == []
    # Forwarded, then the agency does not confirm in time: its operators, no one else.
    ctx = world.ctx("admin")
    await app.messages.act(
        ctx,
        msg.id,
        "forward",
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories["infrastruktur"],
        agency_id=world.agencies["pupr"],
        note="",
    )
    await mails.new()
    world.clock.advance(days=7)
    assert await app.sop.sweep() == 1
    late = await mails.new()
    assert recipients(late) == ["op_pupr2@example.org", "op_pupr@example.org"]
    assert all("belum mengonfirmasinya" in m.text for m in late)


async def test_registration_mails_tell_the_mailbox_what_the_answer_does_not(build_world, smtp):
    """Issue 18: registering answers the same whatever is known; the outcome goes
    by mail, capped per address per day, and a released NIK is announced."""
    smtp.start()
    world = await build_world(NotifyEmailPlugin(), smtp_port=smtp.port)
    app = world.app
    mails = Mails(world, smtp)
    await mails.new()
    password = "eka-long-password"

    # A NIK Ani verified: no account; the address typed learns the owner's path.
    answer = await app.accounts.register(
        Context(),
        RegisterInput("eka@example.org", "eka", "Eka Squatter", NIKS[0], password, password),
    )
    assert answer is None
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("eka@example.org",)
    assert mail.subject == "Pendaftaran Anda: NIK ini sudah terdaftar – ASPIRASI ETAM"
    assert "Halo,\n" in mail.text and "Eka" not in mail.text
    assert "administrator" in mail.text and world.app.deps.settings.contact_email in mail.text
    assert f"{BASE}/register" in mail.text and "token=" not in mail.text
    assert "6472********0001" not in mail.text  # not even masked: nothing about the holder

    # An address waiting for verification: its owner is told it waits, neutrally.
    pending = await app.accounts.register(
        Context(), RegisterInput("fina@example.org", "fina", "Fina", NIKS[2], password, password)
    )
    assert pending is not None
    await mails.new()
    await app.accounts.update_profile(Context(actor=pending.actor()), language="en")
    await app.accounts.register(
        Context(),
        RegisterInput("fina@example.org", "fina2", "Not Fina", NIKS[3], password, password),
    )
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("fina@example.org",)
    assert "still waiting for its e-mail address to be confirmed" in mail.text
    assert "within 7 days is removed" in mail.text and f"{BASE}/verify-pending" in mail.text
    assert "Fina" not in mail.text + mail.html

    # At most 5 such mails a day to one address, whatever asks for them.
    for n in range(6):
        await app.accounts.register(
            Context(),
            RegisterInput("eka@example.org", f"eka{n}", "Eka", NIKS[0], password, password),
        )
    assert len(await mails.new()) == 4  # 5 in all today

    # The super admin releases Ani's NIK: Ani is told why, in her language.
    await app.nik_claims.release(world.ctx("root"), NIKS[0], "KTP asli diperiksa di kantor.")
    [mail] = await mails.new()
    assert mail.rcpt_tos == ("ani@example.org",)
    assert mail.subject == "NIK dilepaskan dari akun Anda – ASPIRASI ETAM"
    assert "Halo Citizen Ani," in mail.text  # verified: greeted by name
    assert "KTP asli diperiksa di kantor." in mail.text and "KTP asli diperiksa" in mail.html
    for mail in mails.all:
        content = mail.subject + mail.text + mail.html
        assert not re.search(r"(?<![0-9])[0-9]{16}(?![0-9])", content)
