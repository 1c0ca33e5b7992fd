"""The plugin API (aspirasi_core.plugin_api): aspirasi_startup hands plugins a
PluginContext; its read and write transactions, the schema of the core's tables,
events recorded by a plugin reaching the outbox and the after-hooks."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from sqlalchemy import func, select

from aspirasi_core import hookimpl
from aspirasi_core.domain.errors import NotAllowed, Unauthenticated
from aspirasi_core.domain.events import Event
from aspirasi_core.plugin_api import PluginContext, schema
from aspirasi_core.services import Context, SubmitInput

from .world import build_world

pytestmark = pytest.mark.anyio


@attrs.frozen
class Greeted(Event):
    account_id: int


class Starter:
    def __init__(self) -> None:
        self.contexts: list[PluginContext] = []

    @hookimpl
    def aspirasi_startup(self, aspirasi: PluginContext) -> None:
        self.contexts.append(aspirasi)


async def test_startup_hands_plugins_the_context_and_reads_see_the_schema(
    database: Any, tmp_path: Any
) -> None:
    starter = Starter()
    world = await build_world(database, tmp_path, plugins=(starter,))
    [aspirasi] = starter.contexts
    assert aspirasi.settings is world.app.deps.settings
    assert aspirasi.clock.now() == world.clock.now()
    await world.app.messages.submit(world.ctx("ani"), SubmitInput("Jalan rusak", "b"))

    def read(tx: Any) -> tuple[int, str, Any]:
        m = schema.messages
        count = tx.execute(select(func.count()).select_from(m)).scalar_one()
        subject, created = tx.execute(select(m.c.subject, m.c.created_at)).one()
        assert tx.lookup.agency_id("pupr") == world.agencies["pupr"]
        return count, subject, created

    count, subject, created = await aspirasi.read(read)
    assert (count, subject) == (1, "Jalan rusak")
    assert created == world.clock.now()  # the core's types: an aware UTC datetime


def test_the_schema_hides_secrets_and_senders() -> None:
    assert "password_hash" not in schema.accounts.c
    assert "nik_encrypted" not in schema.accounts.c
    assert "email" not in schema.accounts.c
    assert "author_id" not in schema.messages.c
    assert "actor_id" not in schema.message_log.c
    # the chain's hashes would let a plugin try each account id against them
    assert "entry_hash" not in schema.message_log.c and "prev_hash" not in schema.message_log.c
    assert "full_name" in schema.accounts.c
    with pytest.raises(TypeError):
        schema.tables["outbox"] = schema.messages  # type: ignore[index]


async def test_a_plugin_write_records_events_notifies_and_the_actor_is_checked(
    database: Any, tmp_path: Any
) -> None:
    starter = Starter()
    world = await build_world(database, tmp_path, plugins=(starter,))
    [aspirasi] = starter.contexts
    ani = world.accounts["ani"]

    def write(tx: Any) -> int:
        tx.record(Greeted(account_id=ani.id))
        return tx.notify([ani.id], kind="hello", text="Hello", params={})

    assert await aspirasi.write(write) == 1
    assert [e.name for e in world.recorder.after] == ["Greeted"]
    assert [i.payload["event"] for i in await world.app.outbox.list("pending")][-1] == "Greeted"
    assert world.count("notifications") == 1

    with pytest.raises(RuntimeError):
        await aspirasi.read(lambda tx: tx.record(Greeted(account_id=ani.id)))
    with pytest.raises(Unauthenticated):
        aspirasi.actor(Context())
    assert aspirasi.require(world.ctx("ani"), "message.submit").account_id == ani.id
    with pytest.raises(NotAllowed):
        aspirasi.require(world.ctx("ani"), "admin.manage")
