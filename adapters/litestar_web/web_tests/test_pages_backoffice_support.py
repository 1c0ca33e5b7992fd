"""Helpers of the back-office and super-admin page tests."""

from __future__ import annotations

import io
import re

import anyio

from aspirasi_core.services import Context, SubmitInput

from .world import PASSWORDS, WebWorld

SESSION_COOKIE = "aspirasi_session"


def login(web: WebWorld, username: str) -> None:
    """Log in through the HTML form when it exists, else with a session token of the core."""
    web.client.cookies.clear()
    if web.client.get("/login").status_code == 200:
        web.login(username)
        return

    async def go() -> str:
        result = await web.core.accounts.login(
            Context(), username, PASSWORDS[username], purpose="session"
        )
        return result.token

    web.client.cookies.set(SESSION_COOKIE, anyio.run(go))


def actor_of(web: WebWorld, username: str) -> object:
    account = web.core.deps.db.run_sync(lambda uow: uow.accounts.get(web.ids[username]))
    return account.actor()


def submit(web: WebWorld, author: str = "ani", subject: str = "Jalan rusak di Samarinda") -> int:
    """A citizen's new message (through the core); its id."""

    async def go() -> int:
        message = await web.core.messages.submit(
            Context(actor=actor_of(web, author)),  # type: ignore[arg-type]
            SubmitInput(subject=subject, body="Jalan berlubang besar di depan pasar."),
        )
        return message.id

    return anyio.run(go)


def forward_to(web: WebWorld, message_id: int, agency: str = "pupr") -> None:
    """Forward a message as the admin, through the core."""

    async def go() -> None:
        await web.core.messages.act(
            Context(actor=actor_of(web, "admin")),
            message_id,
            "forward",
            category_id=web.ids["cat_aduan"],
            subcategory_id=web.ids["sub_infra"],
            agency_id=web.ids[f"agency_{agency}"],
        )

    anyio.run(go)


def status_of(web: WebWorld, message_id: int) -> str:
    message = web.core.deps.db.run_sync(lambda uow: uow.messages.get(message_id))
    return str(message.status)


def log_count(web: WebWorld, message_id: int) -> int:
    return len(web.core.deps.db.run_sync(lambda uow: uow.messages.log(message_id)))


def csrf_field(web: WebWorld) -> dict[str, str]:
    return {"_csrf_token": web.csrf()}


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def set_lang(web: WebWorld, code: str) -> None:
    web.client.cookies.set("lang", code)


def text_of(html: str) -> str:
    """The page's text without tags (for looking for phrases)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
