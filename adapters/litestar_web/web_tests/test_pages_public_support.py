"""Helpers for the public, account and citizen page tests (no tests here)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import anyio

from aspirasi_core.domain.model import Account, Message
from aspirasi_core.security.tokens import hash_token, new_token
from aspirasi_core.services import Context, SubmitInput, Upload

from .world import WebWorld


def acc(web: WebWorld, name: str) -> Account:
    found = web.core.deps.db.run_sync(lambda uow: uow.accounts.get(web.ids[name]), write=False)
    assert found is not None
    return found


def ctx(web: WebWorld, name: str) -> Context:
    return Context(actor=acc(web, name).actor())


def jpeg_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def submit(
    web: WebWorld,
    name: str = "ani",
    subject: str = "Jalan rusak di Samarinda",
    *,
    confidential: bool = False,
    attachment: bool = False,
) -> Message:
    upload = Upload(filename="foto.jpg", data=jpeg_bytes()) if attachment else None

    async def go() -> Message:
        return await web.core.messages.submit(
            ctx(web, name),
            SubmitInput(
                subject=subject,
                body="Mohon diperbaiki.\nTerima kasih.",
                confidential=confidential,
                attachment=upload,
            ),
        )

    return anyio.run(go)


def advance(web: WebWorld, message: Message, to: str, agency: str = "pupr") -> None:
    """Move a message on: ``forwarded``, ``in_progress`` or ``done``."""
    core = web.core

    async def go() -> None:
        await core.messages.act(
            ctx(web, "admin"),
            message.id,
            "forward",
            category_id=web.ids["cat_aduan"],
            subcategory_id=web.ids["sub_infra"],
            agency_id=web.ids[f"agency_{agency}"],
        )
        if to == "forwarded":
            return
        op = ctx(web, f"op_{agency}")
        await core.messages.act(op, message.id, "start")
        if to == "in_progress":
            return
        await core.messages.act(op, message.id, "reply", answer="Sudah diperbaiki.")

    anyio.run(go)


def make_token(web: WebWorld, name: str, purpose: str, hours: int = 1) -> str:
    """A valid single-use token of ``purpose`` for the account, straight in the database."""
    account = acc(web, name)
    token = new_token()
    now = web.core.deps.clock.now()

    def add(uow: Any) -> None:
        uow.tokens.add(
            account_id=account.id,
            purpose=purpose,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            auth_version=account.auth_version,
        )

    web.core.deps.db.run_sync(add)
    return token


def unverify(web: WebWorld, name: str) -> None:
    web.core.deps.db.run_sync(
        lambda uow: uow.accounts.update(web.ids[name], email_verified_at=None)
    )


def message_count(web: WebWorld, name: str = "ani") -> int:
    async def go() -> int:
        page = await web.core.queries.my_messages(ctx(web, name), limit=100)
        return len(page.items)

    return anyio.run(go)


def account_count(web: WebWorld) -> int:
    return len(
        web.core.deps.db.run_sync(lambda uow: uow.accounts.list(limit=1000), write=False)  # type: ignore[attr-defined]
    )
