"""Helpers of the JSON API tests: an app whose outbox items are recorded (to
read verification tokens), bearer headers, sample files."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import anyio
import attrs
from litestar.testing import TestClient

from aspirasi_core import hookimpl
from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.events import Event
from aspirasi_core.plugin_types import OutboxMessage
from aspirasi_core.plugins import create_plugin_manager, migration_locations
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import Context, SubmitInput, Upload
from aspirasi_core.storage import upgrade
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

from .world import WebWorld, make_settings, populate


class TokenRecorder:
    """Records the tokens of verification and reset mails."""

    def __init__(self) -> None:
        self.tokens: list[tuple[str, str]] = []  # (event name, token)

    @hookimpl
    def aspirasi_outbox_items(self, event: Event, lookup: Any) -> list[OutboxMessage] | None:
        token = getattr(event, "token", None)
        if token:
            self.tokens.append((event.name, token))
        return None

    def last(self, kind: str) -> str:
        for name, token in reversed(self.tokens):
            if kind in name.lower():
                return token
        raise AssertionError(f"no {kind} token in {[n for n, _ in self.tokens]}")


@attrs.define
class ApiWorld(WebWorld):
    recorder: TokenRecorder = attrs.field(factory=TokenRecorder)

    def bearer(self, username: str) -> dict[str, str]:
        """Authorization header with a fresh API token (issued without HTTP)."""
        account_id = self.ids[username]
        result = anyio.run(lambda: self.core.accounts.issue_token(account_id, TokenPurpose.API))
        return {"Authorization": f"Bearer {result.token}"}

    def seed_message(
        self, author: str = "ani", *, forward_to: str | None = "pupr", attachment: bool = False
    ) -> int:
        """A message of ``author``, forwarded to the agency ``forward_to``."""
        core = self.core

        def actor_ctx(username: str) -> Context:
            acc = core.deps.db.run_sync(
                lambda uow: uow.accounts.get(self.ids[username]), write=False
            )
            return Context(actor=acc.actor())

        async def go() -> int:
            msg = await core.messages.submit(
                actor_ctx(author),
                SubmitInput(
                    subject="Jalan rusak",
                    body="Jalan di depan rumah berlubang.",
                    attachment=Upload("foto.jpg", jpeg_bytes()) if attachment else None,
                ),
            )
            if forward_to:
                await core.messages.act(
                    actor_ctx("admin"),
                    msg.id,
                    "forward",
                    category_id=self.ids["cat_aduan"],
                    subcategory_id=self.ids["sub_infra"],
                    agency_id=self.ids[f"agency_{forward_to}"],
                )
            return msg.id

        return anyio.run(go)


def jpeg_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def build_world(database: Any, tmp_path: Any, **overrides: Any) -> Iterator[ApiWorld]:
    settings = make_settings(tmp_path, **overrides)
    recorder = TokenRecorder()
    pm = create_plugin_manager(settings, extra_plugins=[recorder], extra_hookspecs=[web_hookspecs])
    # The plugins' own tables (evaluator), as `aspirasi db upgrade` would create them.
    upgrade(database.engine, migration_locations(pm))
    core = bootstrap(settings, plugin_manager=pm, database=database)
    app = create_app(aspirasi=core, run_outbox=False)
    world = ApiWorld(app=app, core=core, recorder=recorder)
    populate(world)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        world.client = client
        yield world
