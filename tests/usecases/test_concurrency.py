"""Changes of one message serialise: every action checks the version the caller
acted on, reads the message locked, and a lost race answers ``message_changed``.
Idempotency keys: a resend gets the first result and creates nothing.

The races between real processes are in the web app's live tests
(adapters/litestar_web/web_tests/test_live_races.py); these pin the rules on
SQLite and PostgreSQL with the use cases themselves.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from tests.racing import wait_for_lock_waiter

from aspirasi_core import hookimpl
from aspirasi_core.domain.errors import Conflict, Invalid, NotFound
from aspirasi_core.domain.model import Status
from aspirasi_core.services import Context, IdempotencyRequest, StoredResponse, SubmitInput
from aspirasi_core.services.idempotency import IdempotencyClaim

from .test_messages import fwd
from .world import World, build_world

pytestmark = pytest.mark.anyio


async def _submitted(world: World) -> Any:
    return await world.app.messages.submit(world.ctx("ani"), SubmitInput("Jalan", "Rusak."))


async def _forwarded(world: World) -> Any:
    msg = await _submitted(world)
    return await world.app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))


async def _in_progress(world: World) -> Any:
    msg = await _forwarded(world)
    return await world.app.messages.act(world.ctx("op_pupr"), msg.id, "start")


async def _done(world: World) -> Any:
    msg = await _in_progress(world)
    return await world.app.messages.act(
        world.ctx("op_pupr"), msg.id, "reply", answer="Sudah diperbaiki."
    )


async def test_every_change_counts_one_version(world: World) -> None:
    app = world.app
    msg = await _submitted(world)
    assert msg.version == 1
    msg = await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    assert msg.version == 2
    msg = await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world, "dinkes"))
    assert msg.version == 3
    msg = await app.messages.act(world.ctx("op_dinkes"), msg.id, "start", expected_version=3)
    msg = await app.messages.act(world.ctx("op_dinkes"), msg.id, "progress", note="Dicek.")
    msg = await app.messages.act(
        world.ctx("op_dinkes"), msg.id, "reply", answer="Selesai.", expected_version=5
    )
    assert msg.version == 6
    await app.messages.rate(world.ctx("ani"), msg.id, 5, "", expected_version=6)
    detail = await app.queries.message(world.ctx("ani"), msg.id)
    assert detail.message.version == 7  # the rating counts too


@pytest.mark.parametrize(
    ("setup", "actor", "action"),
    [
        (_submitted, "admin", "forward"),
        (_forwarded, "admin", "reforward"),
        (_submitted, "admin", "reject"),
        (_submitted, "ani", "withdraw"),
        (_forwarded, "op_pupr", "start"),
        (_in_progress, "op_pupr", "progress"),
        (_in_progress, "op_pupr", "reply"),
        (_done, "ani", "rate"),
    ],
)
async def test_a_stale_version_changes_nothing(
    world: World, setup: Any, actor: str, action: str
) -> None:
    """Whatever the action (also those that leave the status as it is): acting on a
    version someone changed since answers message_changed and writes nothing."""
    app = world.app
    msg = await setup(world)
    stale = msg.version - 1
    log_before = len(await app.queries.message_log(world.ctx("admin"), msg.id))
    calls = {
        "forward": lambda v: app.messages.act(
            world.ctx(actor), msg.id, "forward", **fwd(world), expected_version=v
        ),
        "reforward": lambda v: app.messages.act(
            world.ctx(actor), msg.id, "forward", **fwd(world, "dinkes"), expected_version=v
        ),
        "reject": lambda v: app.messages.act(
            world.ctx(actor), msg.id, "reject", reason="x", expected_version=v
        ),
        "withdraw": lambda v: app.messages.act(
            world.ctx(actor), msg.id, "withdraw", expected_version=v
        ),
        "start": lambda v: app.messages.act(world.ctx(actor), msg.id, "start", expected_version=v),
        "progress": lambda v: app.messages.act(
            world.ctx(actor), msg.id, "progress", note="Dicek.", expected_version=v
        ),
        "reply": lambda v: app.messages.act(
            world.ctx(actor), msg.id, "reply", answer="Jawaban.", expected_version=v
        ),
        "rate": lambda v: app.messages.rate(world.ctx(actor), msg.id, 4, "", expected_version=v),
    }
    if stale < 1:  # a new message: any other number is stale
        stale = msg.version + 1
    with pytest.raises(Conflict) as exc:
        await calls[action](stale)
    assert exc.value.code == "message_changed"
    detail = await app.queries.message(world.ctx("admin"), msg.id)
    assert detail.message.version == msg.version
    assert len(detail.log) == log_before
    assert detail.rating is None
    # With the version it saw, the same action goes through.
    await calls[action](msg.version)


async def test_an_invalid_version_is_refused(world: World) -> None:
    msg = await _submitted(world)
    for bad in (0, -1, True, "1", 2**40):
        with pytest.raises(Invalid) as exc:
            await world.app.messages.act(world.ctx("ani"), msg.id, "withdraw", expected_version=bad)  # type: ignore[arg-type]
        assert exc.value.code == "version_invalid"


async def test_an_operator_whose_message_moved_learns_it_changed(world: World) -> None:
    """Re-forwarded away from the operator's agency: its confirm is a lost race
    (409 message_changed), not a message that never existed. An operator of an
    agency that never had the message still gets 404."""
    app = world.app
    msg = await _forwarded(world)
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world, "dinkes"))
    with pytest.raises(Conflict) as exc:
        await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    assert exc.value.code == "message_changed"
    with pytest.raises(Conflict) as exc:
        await app.messages.act(world.ctx("op_pupr"), msg.id, "reply", answer="Jawaban.")
    assert exc.value.code == "message_changed"
    other = await _submitted(world)
    await app.messages.act(world.ctx("admin"), other.id, "forward", **fwd(world, "dinkes"))
    with pytest.raises(NotFound):
        await app.messages.act(world.ctx("op_pupr"), other.id, "start")


async def test_a_withdrawn_message_answers_changed_to_those_who_saw_it(world: World) -> None:
    app = world.app
    msg = await _submitted(world)
    await app.messages.act(world.ctx("ani"), msg.id, "withdraw")
    for actor, call in (
        ("admin", lambda ctx: app.messages.act(ctx, msg.id, "forward", **fwd(world))),
        ("ani", lambda ctx: app.messages.act(ctx, msg.id, "withdraw")),
    ):
        with pytest.raises(Conflict) as exc:
            await call(world.ctx(actor))
        assert exc.value.code == "message_changed"
    with pytest.raises(NotFound):  # budi never saw it
        await app.messages.act(world.ctx("budi"), msg.id, "withdraw")


async def test_concurrent_reforward_and_confirm_have_one_winner(world: World) -> None:
    """Both use cases at once, each transaction in its own database thread: the
    message is read locked, so the loser sees the winner's result (no lost update)."""
    app = world.app
    admin, operator = world.ctx("admin"), world.ctx("op_pupr")
    for _ in range(10):
        msg = await _forwarded(world)
        outcomes: dict[str, Any] = {}

        async def run(name: str, call: Any) -> None:
            try:
                outcomes[name] = await call
            except Conflict as exc:
                outcomes[name] = exc

        async with anyio.create_task_group() as tg:
            tg.start_soon(
                run, "reforward", app.messages.act(admin, msg.id, "forward", **fwd(world, "dinkes"))
            )
            tg.start_soon(run, "confirm", app.messages.act(operator, msg.id, "start"))
        lost = [k for k, v in outcomes.items() if isinstance(v, Conflict)]
        assert len(lost) == 1, outcomes
        detail = await app.queries.message(world.ctx("admin"), msg.id)
        actions = [e.action for e in detail.log]
        assert actions.count("reforward") + actions.count("start") == 1
        if lost == ["confirm"]:
            assert outcomes["confirm"].code == "message_changed"
            assert detail.message.status is Status.FORWARDED
            assert detail.message.agency_id == world.agencies["dinkes"]
        else:
            assert detail.message.status is Status.IN_PROGRESS
            assert detail.message.agency_id == world.agencies["pupr"]


# ------------------------------------------------------------------ idempotency keys


def _keyed(world: World, who: str, key: str, request: bytes = b"POST /m {}") -> IdempotencyRequest:
    return IdempotencyRequest(key=key, request=request, account_id=world.accounts[who].id)


def _answer(message: Any) -> StoredResponse:
    return StoredResponse(status=201, body=f'{{"id": {message.id}}}'.encode())


async def test_a_resent_key_returns_the_first_answer_and_creates_nothing(world: World) -> None:
    app = world.app
    service = app.idempotency
    first = await service.begin(_keyed(world, "ani", "k-1"))
    assert isinstance(first, IdempotencyClaim)
    ctx = Context(actor=world.ctx("ani").actor, idempotency=first.bind(_answer))
    msg = await app.messages.submit(ctx, SubmitInput("Jalan", "Rusak."))
    assert first.response == StoredResponse(201, f'{{"id": {msg.id}}}'.encode())
    assert world.count("messages") == 1
    # The same key and request again: the stored answer, nothing new.
    again = await service.begin(_keyed(world, "ani", "k-1"))
    assert again == first.response
    assert world.count("messages") == 1
    # Another request with the key is refused; another account has its own keys.
    with pytest.raises(Invalid) as exc:
        await service.begin(_keyed(world, "ani", "k-1", b"POST /m {other}"))
    assert exc.value.code == "idempotency_key_reused"
    assert isinstance(await service.begin(_keyed(world, "budi", "k-1")), IdempotencyClaim)


async def test_a_key_in_flight_answers_in_progress_and_a_failure_releases_it(
    world: World,
) -> None:
    service = world.app.idempotency
    claim = await service.begin(_keyed(world, "ani", "k-2"))
    assert isinstance(claim, IdempotencyClaim)
    with pytest.raises(Conflict) as exc:
        await service.begin(_keyed(world, "ani", "k-2"))
    assert exc.value.code == "idempotency_in_progress"
    # The use case fails (bad input): nothing was created, the key is free again.
    ctx = Context(actor=world.ctx("ani").actor, idempotency=claim.bind(_answer))
    with pytest.raises(Invalid):
        await world.app.messages.submit(ctx, SubmitInput("", ""))
    await service.release(claim)
    assert world.count("idempotency_keys") == 0
    assert isinstance(await service.begin(_keyed(world, "ani", "k-2")), IdempotencyClaim)


async def test_a_claim_that_ran_out_is_taken_over_and_the_old_one_cannot_commit(
    world: World,
) -> None:
    """A request killed after claiming leaves its claim; after CLAIM_SECONDS a
    resend takes the key over, and the old claim (were it still running) can no
    longer commit its creation."""
    app, service = world.app, world.app.idempotency
    old = await service.begin(_keyed(world, "ani", "k-3"))
    assert isinstance(old, IdempotencyClaim)
    world.clock.advance(seconds=61)
    new = await service.begin(_keyed(world, "ani", "k-3"))
    assert isinstance(new, IdempotencyClaim) and new.record_id == old.record_id
    ctx = Context(actor=world.ctx("ani").actor, idempotency=old.bind(_answer))
    with pytest.raises(Conflict) as exc:
        await app.messages.submit(ctx, SubmitInput("Jalan", "Rusak."))
    assert exc.value.code == "idempotency_in_progress"
    assert world.count("messages") == 0
    ctx = Context(actor=world.ctx("ani").actor, idempotency=new.bind(_answer))
    await app.messages.submit(ctx, SubmitInput("Jalan", "Rusak."))
    assert world.count("messages") == 1


async def test_keys_expire_after_a_day_and_the_workers_sweep_removes_them(world: World) -> None:
    app, service = world.app, world.app.idempotency
    claim = await service.begin(_keyed(world, "ani", "k-4"))
    assert isinstance(claim, IdempotencyClaim)
    ctx = Context(actor=world.ctx("ani").actor, idempotency=claim.bind(_answer))
    await app.messages.submit(ctx, SubmitInput("Jalan", "Rusak."))
    world.clock.advance(hours=23)
    assert isinstance(await service.begin(_keyed(world, "ani", "k-4")), StoredResponse)
    assert await service.sweep() == 0
    world.clock.advance(hours=2)
    # The outbox worker's periodic sweep runs this one too.
    assert app.outbox.sweep is not None
    assert await app.outbox.sweep() >= 1
    assert world.count("idempotency_keys") == 0
    # A day later the key is new again.
    assert isinstance(await service.begin(_keyed(world, "ani", "k-4")), IdempotencyClaim)


async def test_deleting_an_account_forgets_its_keys_and_their_answers(world: World) -> None:
    """A kept answer may quote the account's texts (a rating's comment): the
    deletion of the account removes them with it."""
    app = world.app
    claim = await app.idempotency.begin(_keyed(world, "ani", "k-5"))
    assert isinstance(claim, IdempotencyClaim)
    ctx = Context(actor=world.ctx("ani").actor, idempotency=claim.bind(_answer))
    await app.messages.submit(ctx, SubmitInput("Jalan", "Rusak."))
    assert isinstance(await app.idempotency.begin(_keyed(world, "budi", "k-5")), IdempotencyClaim)
    await app.data_rights.delete_account(world.ctx("ani"), "ani-long-password")
    keys = world.count("idempotency_keys")
    assert keys == 1  # budi's


async def test_keys_of_anonymous_clients_are_apart(world: World) -> None:
    service = world.app.idempotency
    one = IdempotencyRequest(key="r", request=b"register", client="client-a")
    other = IdempotencyRequest(key="r", request=b"register", client="client-b")
    assert isinstance(await service.begin(one), IdempotencyClaim)
    assert isinstance(await service.begin(other), IdempotencyClaim)
    with pytest.raises(Conflict):
        await service.begin(one)


async def test_the_stored_request_is_a_keyed_digest(world: World) -> None:
    """A request may hold a password: only an HMAC of it is stored."""
    import hashlib

    from sqlalchemy import text

    request = b'{"password": "rahasia-sekali-123"}'
    await world.app.idempotency.begin(IdempotencyRequest(key="x", request=request, client="c"))
    db: Any = world.app.deps.db
    with db.engine.connect() as conn:
        stored = bytes(conn.execute(text("SELECT request_hash FROM idempotency_keys")).scalar_one())
    assert stored != hashlib.sha256(request).digest()
    assert stored == world.app.deps.crypto.idempotency_digest(request)


# ------------------------------------------------------------------ retried transactions


class FailOnce:
    """A plugin whose in-transaction hook meets a real deadlock (40P01) the first
    time: another connection holds an agency row and waits for the message the
    use case has locked, while the hook asks for that agency row. PostgreSQL
    aborts the use case's transaction (the other one checks for deadlocks only
    after 30 s); the other connection then gets the message and lets both go, so
    the retried transaction commits."""

    def __init__(self, db: Any, agency_id: int) -> None:
        self.db = db
        self.agency_id = agency_id
        self.message_id = 0
        self.calls = 0
        self.armed = False
        self.holding, self.go, self.released = (threading.Event() for _ in range(3))

    def hold(self) -> None:
        with self.db.engine.connect() as conn, conn.begin():
            conn.execute(text("SET LOCAL deadlock_timeout = '30s'"))
            conn.execute(
                text("SELECT id FROM agencies WHERE id = :i FOR UPDATE"), {"i": self.agency_id}
            )
            self.holding.set()
            assert self.go.wait(30)
            conn.execute(
                text("SELECT id FROM messages WHERE id = :i FOR UPDATE"), {"i": self.message_id}
            )
        self.released.set()

    @hookimpl
    def aspirasi_in_transaction(self, event: Any, tx: Any) -> None:
        if not self.armed:
            return
        self.calls += 1
        if self.calls == 1:
            self.go.set()  # the holder now waits for the message this transaction locked
            assert wait_for_lock_waiter(self.db.engine)
            tx.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
        else:
            assert self.released.wait(30)
        tx.execute(text("SELECT id FROM agencies WHERE id = :i FOR UPDATE"), {"i": self.agency_id})


async def test_a_retried_use_case_records_its_events_and_answer_once(
    pg_database: Any, tmp_path: Any
) -> None:
    """The transaction fails once by a deadlock and runs again: one log entry,
    one outbox item and one after-hook call per event, one notification per
    operator, and the idempotency key completed once."""
    plugin = FailOnce(pg_database, 0)
    world = await build_world(pg_database, tmp_path, plugins=(plugin,))
    plugin.agency_id = world.agencies["pupr"]  # a row the forward to dinkes never locks
    app, recorder = world.app, world.recorder
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("Jalan", "Rusak."))
    plugin.message_id = msg.id
    recorder.in_transaction.clear()
    recorder.after.clear()
    plugin.armed = True
    outbox_before = world.count("outbox")
    claim = await app.idempotency.begin(_keyed(world, "admin", "fwd-1"))
    assert isinstance(claim, IdempotencyClaim)
    ctx = Context(actor=world.ctx("admin").actor, idempotency=claim.bind(_answer))
    holder = threading.Thread(target=plugin.hold)
    holder.start()
    try:
        assert plugin.holding.wait(30)
        moved = await app.messages.act(ctx, msg.id, "forward", **fwd(world, "dinkes"))
    finally:
        plugin.go.set()
        holder.join(30)
    assert plugin.calls == 2  # the first attempt failed, the second committed
    assert moved.version == 2
    log = await app.queries.message_log(world.ctx("admin"), msg.id)
    assert [e.action for e in log] == ["submit", "forward"]
    assert world.count("outbox") == outbox_before + 1
    assert [e.name for e in recorder.after] == ["StatusChanged"]
    assert await app.notifications.unread_count(world.ctx("op_dinkes")) == 1
    assert claim.response == _answer(moved)
    assert await app.idempotency.begin(_keyed(world, "admin", "fwd-1")) == claim.response
