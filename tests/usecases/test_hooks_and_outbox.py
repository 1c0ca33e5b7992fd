"""The core calls plugins at the documented points, with the documented effects:
aspirasi_before_use_case, aspirasi_validate_submission, aspirasi_validate_transition,
aspirasi_in_transaction and aspirasi_outbox_items (same transaction),
aspirasi_after_submission (through pluggy: wrappers and tracing see them),
aspirasi_after_transition, aspirasi_after_event, aspirasi_deliver_outbox_item
(through the dispatcher), aspirasi_register_categories."""

from __future__ import annotations

import pytest
import structlog.testing

from aspirasi_core import hookimpl
from aspirasi_core.domain.errors import Conflict, NotAllowed, Throttled
from aspirasi_core.domain.model import Action, Status
from aspirasi_core.plugin_types import CategoryDecl
from aspirasi_core.services import Context, SubmitInput

from .world import World, build_world

pytestmark = pytest.mark.anyio


class Limiter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str | None]] = []
        self.throttled_subject = ""

    @hookimpl
    def aspirasi_before_use_case(self, call):
        self.calls.append((call.name, call.client_ip, call.subject))
        if call.name == "login" and call.subject == self.throttled_subject:
            raise Throttled(retry_after=42)


async def test_before_use_case_can_throttle(database, tmp_path) -> None:
    limiter = Limiter()
    world = await build_world(database, tmp_path, plugins=(limiter,))
    ani = f"account:{world.accounts['ani'].id}"
    limiter.throttled_subject = ani
    # username and e-mail name the same account: one budget
    for login in ("ANI", "ani@example.org"):
        with pytest.raises(Throttled) as exc:
            await world.app.accounts.login(
                Context(client_ip="10.1.2.3"), login, "ani-long-password"
            )
        assert exc.value.retry_after == 42
    assert ("login", "10.1.2.3", ani) in limiter.calls
    with pytest.raises(Exception):
        await world.app.accounts.login(Context(), "Nobody-Here", "whatever-password")
    assert ("login", None, "nobody-here") in limiter.calls
    await world.app.accounts.login(Context(), "budi", "budi-long-password")
    await world.app.queries.track(Context(client_ip="10.9.9.9"), "6472045504910001")
    # the NIK's region and birth date, so rate limits can count per prefix
    assert ("track", "10.9.9.9", "647204550491") in limiter.calls
    names = {c[0] for c in limiter.calls}
    assert {"register", "login", "track"} <= names


class NoRejects:
    @hookimpl
    def aspirasi_validate_transition(self, message, action, actor, to_status, note):
        if action is Action.REJECT and "keep" in message.subject:
            raise NotAllowed("Messages marked keep cannot be rejected.", code="keep")


async def test_validate_transition_vetoes_and_leaves_nothing(database, tmp_path) -> None:
    world = await build_world(database, tmp_path, plugins=(NoRejects(),))
    msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("keep this", "b"))
    outbox_before = world.count("outbox")
    with pytest.raises(NotAllowed):
        await world.app.messages.act(world.ctx("admin"), msg.id, "reject", reason="no")
    detail = await world.app.queries.message(world.ctx("admin"), msg.id)
    assert detail.message.status is Status.SUBMITTED and len(detail.log) == 1
    assert world.count("outbox") == outbox_before
    assert not any(e.name == "StatusChanged" for e in world.recorder.after)


class Counter:
    def __init__(self) -> None:
        self.drafts: list[object] = []

    @hookimpl
    def aspirasi_validate_submission(self, actor, draft):
        self.drafts.append(draft)
        if len(self.drafts) > 2:
            raise Throttled("At most %(seconds)s…", retry_after=3600, code="daily_limit")


async def test_validate_submission_sees_the_draft_and_can_refuse(database, tmp_path) -> None:
    counter = Counter()
    world = await build_world(database, tmp_path, plugins=(counter,))
    await world.app.messages.submit(world.ctx("ani"), SubmitInput("a", "b", confidential=True))
    await world.app.messages.submit(world.ctx("ani"), SubmitInput("c", "d"))
    with pytest.raises(Throttled):
        await world.app.messages.submit(world.ctx("ani"), SubmitInput("e", "f"))
    assert world.count("messages") == 2
    assert counter.drafts[0].confidential is True and counter.drafts[0].subject == "a"


class RollUp:
    """Counts submissions in the transaction, through the unit of work's connection."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self.fail_on: str | None = None

    @hookimpl
    def aspirasi_in_transaction(self, event, tx):
        from sqlalchemy import func, select

        from aspirasi_core.plugin_api import schema

        # The message is already written: the hook sees the transaction's own rows.
        n = tx.execute(select(func.count()).select_from(schema.messages)).scalar_one()
        self.seen.append((event.name, n))
        if event.name == self.fail_on:
            raise RuntimeError("the roll-up is inconsistent")


async def test_in_transaction_sees_the_change_and_aborts_it_by_raising(database, tmp_path) -> None:
    rollup = RollUp()
    world = await build_world(database, tmp_path, plugins=(rollup,))
    before = world.count("messages")
    msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    assert ("MessageSubmitted", before + 1) in rollup.seen
    await world.app.messages.act(
        world.ctx("admin"),
        msg.id,
        "forward",
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories["infrastruktur"],
        agency_id=world.agencies["pupr"],
    )
    assert rollup.seen[-1][0] == "StatusChanged"
    # raising rolls the whole change back: no message, no log, no outbox item
    rollup.fail_on = "MessageSubmitted"
    outbox = world.count("outbox")
    with pytest.raises(RuntimeError):
        await world.app.messages.submit(world.ctx("ani"), SubmitInput("t", "c"))
    assert world.count("messages") == before + 1
    assert world.count("outbox") == outbox


async def test_outbox_items_are_written_with_the_change(world: World) -> None:
    msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    items = await world.app.outbox.list("pending")
    assert [i.payload["event"] for i in items][-1] == "MessageSubmitted"
    before = world.count("outbox")
    # a failing transition writes no outbox item
    with pytest.raises(Conflict):
        await world.app.messages.rate(world.ctx("ani"), msg.id, 5, "")
    assert world.count("outbox") == before


async def test_after_hooks_run_after_commit_and_failures_do_not_break_the_use_case(
    database, tmp_path
) -> None:
    class Broken:
        # Last in pluggy's order, so the recorder hears the event before it fails.
        @hookimpl(trylast=True)
        def aspirasi_after_submission(self, event):
            raise RuntimeError("plugin bug")

    world = await build_world(database, tmp_path, plugins=(Broken(),))
    with structlog.testing.capture_logs() as logs:
        msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    assert msg.id and world.count("messages") == 1
    [failure] = [line for line in logs if line["event"] == "after_hook_failed"]
    assert failure["hook"] == "aspirasi_after_submission"
    assert failure["event_name"] == "MessageSubmitted"
    assert failure["plugin"].endswith("Broken")
    assert [e.name for e in world.recorder.after] == ["MessageSubmitted"]
    await world.app.messages.act(
        world.ctx("admin"),
        msg.id,
        "forward",
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories["infrastruktur"],
        agency_id=world.agencies["pupr"],
    )
    changed = world.recorder.after[-1]
    assert changed.name == "StatusChanged" and changed.to_status is Status.FORWARDED
    await world.app.messages.act(
        world.ctx("admin"),
        msg.id,
        "forward",
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories["infrastruktur"],
        agency_id=world.agencies["dinkes"],
    )
    assert world.recorder.after[-1].previous_agency_id == world.agencies["pupr"]


async def test_a_failing_after_hook_does_not_keep_the_other_plugins_from_the_event(
    database, tmp_path
) -> None:
    heard: list[str] = []

    class First:
        # First in pluggy's order: without isolation, pluggy stops at its error.
        @hookimpl(tryfirst=True)
        def aspirasi_after_submission(self, event):
            raise RuntimeError("first plugin bug")

    class Second:
        @hookimpl(trylast=True)
        def aspirasi_after_submission(self, event):
            heard.append(event.name)

    world = await build_world(database, tmp_path, plugins=(First(), Second()))
    with structlog.testing.capture_logs() as logs:
        msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    assert msg.id and world.count("messages") == 1
    assert heard == ["MessageSubmitted"]
    assert [e.name for e in world.recorder.after] == ["MessageSubmitted"]
    failures = [line for line in logs if line["event"] == "after_hook_failed"]
    assert [line["plugin"] for line in failures] == [f"{__name__}.{First.__qualname__}"]


async def test_after_event_gets_account_events(world: World) -> None:
    from aspirasi_core.services.accounts import RegisterInput

    await world.app.accounts.register(
        Context(),
        RegisterInput(
            "dewi@example.org",
            "dewi",
            "Dewi",
            "6472041708450003",
            "dewi-long-password",
            "dewi-long-password",
        ),
    )
    assert [e.name for e in world.recorder.after] == ["AccountRegistered", "VerificationRequested"]


async def test_dispatcher_delivers_retries_and_gives_up(world: World) -> None:
    app = world.app
    while app.outbox.run_once_sync().handled:  # deliver what setting up the world queued
        pass
    world.recorder.delivered.clear()
    await app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    world.recorder.fail_deliveries = 1
    stats = app.outbox.run_once_sync()
    assert (stats.delivered, stats.retried) == (0, 1)
    assert app.outbox.run_once_sync().handled == 0  # not due yet
    world.clock.advance(hours=2)
    assert app.outbox.run_once_sync().delivered == 1
    assert len(world.recorder.delivered) == 1
    # payloads of delivered items are wiped
    items = await app.outbox.list("done")
    assert items and all(not i.payload for i in items)

    # now one that always fails ends up dead after the configured tries
    await app.messages.submit(world.ctx("ani"), SubmitInput("t", "b"))
    world.recorder.fail_deliveries = 10**6
    for _ in range(app.deps.settings.outbox_max_attempts):
        app.outbox.run_once_sync()
        world.clock.advance(days=1)
    dead = await app.outbox.list("dead")
    assert len(dead) == 1 and "smtp down" in (dead[0].last_error or "")
    assert "ani@example.org" not in (dead[0].last_error or "")  # no address kept
    assert "6472********0001" in (dead[0].last_error or "")  # nor a NIK
    world.recorder.fail_deliveries = 0
    assert await app.outbox.retry(dead[0].id)
    assert app.outbox.run_once_sync().delivered == 1


async def test_items_no_plugin_delivers_are_dead_at_once(world: World) -> None:
    from aspirasi_core.plugin_types import OutboxMessage

    def add(uow):
        uow.outbox.add("nobody-knows", {"x": 1}, created_at=world.clock.now())

    world.app.deps.db.run_sync(add)
    stats = world.app.outbox.run_once_sync()
    assert stats.dead == 1
    assert OutboxMessage  # the type plugins return


async def test_declared_categories_are_created_once(database, tmp_path) -> None:
    class Cats:
        @hookimpl
        def aspirasi_register_categories(self):
            return [
                CategoryDecl("aduan", "Aduan", "banjir", "Banjir"),
                CategoryDecl("baru", "Baru", "x", "X"),
            ]

    world = await build_world(database, tmp_path, plugins=(Cats(),))
    cats = {c.code: c.id for c in await world.app.admin.categories()}
    assert {"aspirasi", "aduan", "baru"} <= set(cats)
    subs = {s.code for s in await world.app.admin.subcategories(cats["aduan"])}
    assert "banjir" in subs
    from aspirasi_core.plugins import collect_category_decls

    assert world.app.admin.ensure_categories(collect_category_decls(world.app.plugin_manager)) == 0


async def test_a_slow_batch_hands_back_what_it_cannot_send_within_its_lease(world: World) -> None:
    app = world.app
    while app.outbox.run_once_sync().handled:
        pass
    for i in range(3):
        await app.messages.submit(world.ctx("ani"), SubmitInput(f"s{i}", "b"))
    world.recorder.delivered.clear()
    # each delivery takes 100 s of the 120 s lease
    world.recorder.on_deliver = lambda: world.clock.advance(seconds=100)
    first = app.outbox.run_once_sync()
    assert first.delivered == 1  # the rest were released, not kept past half the lease
    rounds = 0
    while app.outbox.run_once_sync().handled and rounds < 10:
        rounds += 1
    ids = [item.id for item in world.recorder.delivered]
    assert len(ids) == 3 and len(set(ids)) == 3


async def test_status_changes_carry_the_classification(world: World) -> None:
    msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    await world.app.messages.act(
        world.ctx("admin"),
        msg.id,
        "forward",
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories["permasalahan-lahan"],
        agency_id=world.agencies["pupr"],
    )
    event = world.recorder.after[-1]
    assert (event.category_id, event.subcategory_id) == (
        world.categories["aduan"],
        world.subcategories["permasalahan-lahan"],
    )


async def test_a_wrapper_on_an_after_hook_runs_and_tracing_sees_the_call(
    database, tmp_path
) -> None:
    # The after_* hooks are called through pluggy like every other hook.
    wrapped: list[tuple[str, object]] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def aspirasi_after_transition(self, event):
            wrapped.append(("before", event.to_status))
            result = yield
            wrapped.append(("after", len(world.recorder.after)))
            return result

    world = await build_world(database, tmp_path, plugins=(Wrapper(),))
    msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    seen: list[str] = []
    undo = world.app.plugin_manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: seen.append(name), lambda *args: None
    )
    try:
        await world.app.messages.act(
            world.ctx("admin"),
            msg.id,
            "forward",
            category_id=world.categories["aduan"],
            subcategory_id=world.subcategories["infrastruktur"],
            agency_id=world.agencies["pupr"],
        )
    finally:
        undo()
    assert wrapped == [("before", Status.FORWARDED), ("after", 2)]
    assert "aspirasi_after_transition" in seen


async def test_a_failing_after_hook_is_logged_and_plugin_wrappers_see_the_error(
    database, tmp_path
) -> None:
    outcomes: list[object] = []

    class Outer:
        @hookimpl(wrapper=True)
        def aspirasi_after_transition(self, event):
            # Inside the core's guard (the outermost wrapper), as in pluggy.
            try:
                return (yield)
            except RuntimeError as exc:
                outcomes.append(str(exc))
                raise

    class Broken:
        @hookimpl
        def aspirasi_after_transition(self, event):
            raise RuntimeError("plugin bug")

    world = await build_world(database, tmp_path, plugins=(Outer(), Broken()))
    msg = await world.app.messages.submit(world.ctx("ani"), SubmitInput("s", "b"))
    with structlog.testing.capture_logs() as logs:
        await world.app.messages.act(
            world.ctx("admin"),
            msg.id,
            "forward",
            category_id=world.categories["aduan"],
            subcategory_id=world.subcategories["infrastruktur"],
            agency_id=world.agencies["pupr"],
        )
    assert [line["plugin"] for line in logs if line["event"] == "after_hook_failed"] == [
        f"{__name__}.{Broken.__qualname__}"
    ]
    assert outcomes == ["plugin bug"]
