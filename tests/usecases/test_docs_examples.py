"""The examples of docs/plugins.md run, not only load: every example of the hook
reference is registered as a plugin of one application, which then does what
people do (messages taken through the workflow, the outbox run, a readiness
probe), and what each example is for is checked. The plugin API's example and a
plugin's first test run against that application too."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.model import Status
from aspirasi_core.plugins import create_plugin_manager, migration_locations
from aspirasi_core.services import BackofficeQuery, SubmitInput
from aspirasi_core.settings import Settings
from aspirasi_core.testing import build_world

pytestmark = pytest.mark.anyio

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
TEXT = DOC.read_text(encoding="utf-8")


def section(title: str, level: str = "###") -> str:
    heading = f"\n{level} {title}\n"
    start = TEXT.index(heading) + len(heading)
    following = re.search(r"^#{2,3} ", TEXT[start:], flags=re.M)
    assert following is not None
    return TEXT[start : start + following.start()]


def blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def load(source: str, name: str, folder: Path) -> types.ModuleType:
    """The example as a module of a plugin package in ``folder``."""
    module = types.ModuleType(name)
    module.__file__ = str(folder / "__init__.py")
    exec(compile(source, f"docs/plugins.md ({name})", "exec"), module.__dict__)
    return module


def core_hook_examples(folder: Path) -> dict[str, types.ModuleType]:
    reference = TEXT[TEXT.index("\n## Hook reference\n") : TEXT.index("\n## Web hooks\n")]
    found = {}
    for title in re.findall(r"^### (aspirasi_\w+)$", reference, flags=re.M):
        [source] = [b for b in blocks(section(title)) if "@hookimpl" in b]
        found[title] = load(source, f"docs_example_{title}", folder)
    return found


async def test_the_hook_reference_examples_run_in_an_application(
    sqlite_database: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "hello"
    (folder / "migrations").mkdir(parents=True)
    examples = core_hook_examples(folder)
    assert len(examples) >= 19
    in_tx = examples["aspirasi_in_transaction"]
    in_tx.metadata.create_all(sqlite_database.engine)  # the example plugin's own table

    world = await build_world(sqlite_database, tmp_path, plugins=list(examples.values()))
    pm = world.plugin_manager
    aspirasi = world.aspirasi
    # aspirasi_configure / aspirasi_startup ran; the declarations are in force.
    assert examples["aspirasi_configure"].MAX_ATTACHMENTS == {"value": 1}
    assert "inspektorat" in aspirasi.policy.roles
    assert "hello.greet" in aspirasi.policy.permissions
    assert await aspirasi.read(lambda tx: tx.lookup.subcategory_id("aduan", "jalan-rusak"))
    assert hasattr(pm.hook, "aspirasi_hello_greetings")  # aspirasi_addhooks
    assert migration_locations(pm) == [str(folder / "migrations")]

    closed = await world.drive(Status.DONE)
    await world.drive(Status.REJECTED)  # a reason of 20 characters or more passes
    with pytest.raises(Invalid) as refused:
        await world.app.messages.submit(
            world.ctx("ani"), SubmitInput("JALAN RUSAK PARAH SEKALI", "b")
        )
    assert refused.value.errors[0].code == "subject_shouting"
    await world.app.queries.backoffice(world.ctx("admin"), BackofficeQuery())
    await world.app.outbox.run_once()
    readiness = await world.app.health.readiness()

    rows = await aspirasi.read(lambda tx: tx.execute(select(in_tx.daily)).all())
    assert [(day, n) for day, n in rows] == [(world.clock.now().date(), 2)]  # 2 submitted
    closed_today = examples["aspirasi_after_transition"].CLOSED_TODAY
    assert closed_today == [closed.ticket]
    counts = examples["aspirasi_after_event"].EVENT_COUNTS
    assert counts["MessageRated"] == 0
    assert counts["AccountRegistered"] == 2
    assert "webhook-queue" in str(readiness.as_json())
    # The plugin API's example and a plugin's first test, on the same application.
    [api_example] = blocks(section("The plugin API"))
    api = load(api_example, "docs_plugin_api", folder)
    await world.drive(Status.FORWARDED)
    assert await api.open_messages_per_agency(aspirasi) == {world.agencies["pupr"]: 1}
    [first_test] = [b for b in blocks(section("Testing a plugin")) if "async def test_" in b]
    await load(first_test, "docs_first_test", folder).__dict__[
        "test_a_closed_message_was_heard_after_the_commit"
    ](world)


def test_the_mail_kind_example_adds_its_mail(tmp_path: Path) -> None:
    from aspirasi_notify_email import NotifyEmailPlugin

    [source] = [b for b in blocks(section("aspirasi_mail_kinds")) if "@hookimpl" in b]
    example = load(source, "docs_example_mail_kinds", tmp_path)
    mail = NotifyEmailPlugin()
    create_plugin_manager(
        Settings(smtp_host="127.0.0.1"), load_entry_points=False, extra_plugins=[mail, example]
    )
    assert "hello_new_message" in mail.kinds
