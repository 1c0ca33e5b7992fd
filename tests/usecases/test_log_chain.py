"""The tamper-evident record (issue 23, part 4) on SQLite and PostgreSQL: every
message's log is a hash chain, the sweep seals each finished day in a root, and
``verify`` finds a row changed directly in the database: a changed note, a
deleted entry, a chain rewritten with fresh hashes (the roots), and any single
changed byte of an entry's stored content (Hypothesis)."""

from __future__ import annotations

import itertools
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from aspirasi_core.domain.log_chain import GENESIS, canonical, entry_hash
from aspirasi_core.services import SubmitInput
from aspirasi_core.services.log_chain import verify_chains
from aspirasi_core.storage.tables import message_log

from .test_messages import fwd
from .world import World

pytestmark = pytest.mark.anyio

ZONE = ZoneInfo("Asia/Makassar")


async def _workflow(world: World, subject: str = "Jalan rusak") -> Any:
    """A message taken through every step (and rated)."""
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput(subject, "Berlubang."))
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    world.clock.advance(hours=3)
    await app.messages.act(world.ctx("op_pupr"), msg.id, "start")
    await app.messages.act(world.ctx("op_pupr"), msg.id, "progress", note="Dicek ke lokasi.")
    world.clock.advance(hours=30)
    done = await app.messages.act(world.ctx("op_pupr"), msg.id, "reply", answer="Sudah ditambal.")
    await app.messages.rate(world.ctx("ani"), msg.id, 5, "Cepat.")
    return done


def _log_rows(world: World, message_id: int) -> list[Any]:
    return world.app.deps.db.run_sync(
        lambda uow: uow.connection.execute(
            text(
                "SELECT id, seq, prev_hash, entry_hash FROM message_log"
                " WHERE message_id = :m ORDER BY id"
            ),
            {"m": message_id},
        ).all(),
        write=False,
    )


def _sql(world: World, statement: str, **params: Any) -> None:
    world.app.deps.db.run_sync(lambda uow: uow.connection.execute(text(statement), params))


async def test_the_workflow_writes_one_unbroken_chain_per_message(world: World) -> None:
    first = await _workflow(world)
    second = await _workflow(world, "Lampu mati")
    rows = _log_rows(world, first.id)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]  # submit, forward, start, progress, reply
    assert rows[0].prev_hash == GENESIS
    assert all(r.prev_hash == p.entry_hash for p, r in itertools.pairwise(rows))
    assert len({r.entry_hash for r in rows + _log_rows(world, second.id)}) == 10
    # What the use cases read back carries the chain too.
    log = await world.app.queries.message_log(world.ctx("admin"), first.id)
    assert [(e.seq, e.entry_hash) for e in log] == [(r.seq, r.entry_hash) for r in rows]
    report = world.app.log_chain.verify_sync()
    assert report.ok
    assert (report.chains, report.entries, report.broken_chains) == (2, 10, 0)


async def test_verify_finds_a_note_changed_in_the_database(world: World) -> None:
    msg = await _workflow(world)
    await _workflow(world, "Lampu mati")
    progress = _log_rows(world, msg.id)[3]
    _sql(world, "UPDATE message_log SET note = 'Tidak ada masalah.' WHERE id = :i", i=progress.id)
    report = world.app.log_chain.verify_sync()
    assert not report.ok
    assert report.first_broken is not None
    assert (report.first_broken.ticket, report.first_broken.entry_id) == (msg.ticket, progress.id)
    assert report.first_broken.reason == "hash"
    assert report.broken_chains == 1


async def test_verify_finds_a_deleted_entry_and_a_moved_one(world: World) -> None:
    msg = await _workflow(world)
    other = await world.app.messages.submit(world.ctx("budi"), SubmitInput("Lampu", "Mati."))
    rows = _log_rows(world, msg.id)
    _sql(world, "DELETE FROM message_log WHERE id = :i", i=rows[2].id)
    report = world.app.log_chain.verify_sync()
    assert report.first_broken is not None
    assert (report.first_broken.entry_id, report.first_broken.reason) == (rows[3].id, "seq")
    # An entry moved to another message breaks that one's chain too.
    _sql(world, "UPDATE message_log SET message_id = :o WHERE id = :i", o=other.id, i=rows[4].id)
    report = world.app.log_chain.verify_sync()
    assert report.broken_chains == 2


async def test_the_sweep_seals_finished_days_and_a_rewritten_chain_breaks_a_root(
    world: World,
) -> None:
    app = world.app
    msg = await _workflow(world)
    world.clock.advance(days=2)
    sealed = app.log_chain.seal_sync()
    assert sealed >= 2  # the day of the first entry and every day after it that is over
    assert app.log_chain.seal_sync() == 0  # once per day
    roots = await app.log_chain.recent_roots()
    assert roots[0].prev_root == roots[1].root
    assert sum(r.chains for r in roots) >= 2
    report = app.log_chain.verify_sync()
    assert report.ok and report.roots == sealed

    # Deleting a root is found by the next one's link; put back, all holds again.
    first = roots[-1]
    _sql(world, "DELETE FROM log_roots WHERE day = :d", d=first.day)
    problem = app.log_chain.verify_sync().root_problem
    assert problem is not None and problem.reason == "prev"
    assert app.deps.db.run_sync(lambda uow: uow.log_chain.add_root(first))
    assert app.log_chain.verify_sync().ok

    # A forger who rewrites the note and then every hash of the chain after it
    # makes the chain hold again: the roots already written do not.
    rows = _log_rows(world, msg.id)
    _sql(world, "UPDATE message_log SET note = 'Ditolak.' WHERE id = :i", i=rows[3].id)

    def rechain(uow: Any) -> None:
        [chain] = [
            c for c in uow.log_chain.chains(after_message_id=0, limit=10) if c.message_id == msg.id
        ]
        prev = GENESIS
        for entry_id, link, _ in chain.entries:
            digest = entry_hash(attrs.evolve(link, prev_hash=prev))
            uow.connection.execute(
                update(message_log)
                .where(message_log.c.id == entry_id)
                .values(prev_hash=prev, entry_hash=digest)
            )
            prev = digest

    app.deps.db.run_sync(rechain)
    report = app.log_chain.verify_sync()
    assert report.first_broken is None  # the chain alone looks whole
    assert report.root_problem is not None and report.root_problem.reason == "root"


async def test_concurrent_changes_of_one_message_keep_one_chain(world: World) -> None:
    """Progress notes written at once on one message queue on its row: each
    appends after the one before, none forks the chain."""
    app = world.app
    msg = await app.messages.submit(world.ctx("ani"), SubmitInput("Jalan", "Rusak."))
    await app.messages.act(world.ctx("admin"), msg.id, "forward", **fwd(world))
    await app.messages.act(world.ctx("op_pupr"), msg.id, "start")

    async def note(i: int) -> None:
        await app.messages.act(world.ctx("op_pupr"), msg.id, "progress", note=f"Catatan {i}.")

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(note, i)
    rows = _log_rows(world, msg.id)
    assert [r.seq for r in rows] == list(range(1, 12))
    assert app.log_chain.verify_sync().ok


#: The stored columns of an entry a byte of which the Hypothesis test changes.
COLUMNS = (
    "message_id",
    "actor_id",
    "action",
    "from_status",
    "to_status",
    "note",
    "at",
    "agency_id",
    "note_visibility",
    "seq",
    "prev_hash",
    "entry_hash",
)


class _Undo(Exception):
    """Rolls the changed row back once verify has looked."""


async def test_any_single_changed_byte_of_an_entry_is_found(world: World) -> None:
    await _workflow(world)
    await _workflow(world, "Lampu mati — warga Sempaja")
    db = world.app.deps.db
    ids = [
        r[0]
        for r in db.run_sync(
            lambda uow: uow.connection.execute(
                text("SELECT id FROM message_log ORDER BY id")
            ).all(),
            write=False,
        )
    ]
    assert db.run_sync(lambda uow: verify_chains(uow.log_chain, ZONE), write=False).ok

    checked: list[str] = []

    def seen(uow: Any) -> list[Any]:
        return [
            (c.message_id, [(i, canonical(link), stored) for i, link, stored in c.entries])
            for c in uow.log_chain.chains(after_message_id=0, limit=100)
        ]

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    )
    @given(
        entry=st.sampled_from(ids),
        column=st.sampled_from(COLUMNS),
        position=st.integers(min_value=0, max_value=10_000),
        # Any byte; mostly digits and printable ASCII, which the columns can hold.
        byte=st.one_of(
            st.sampled_from(b"0123456789"),
            st.integers(min_value=0x20, max_value=0x7E),
            st.integers(min_value=0, max_value=255),
        ),
    )
    def check(entry: int, column: str, position: int, byte: int) -> None:
        def script(uow: Any) -> None:
            conn = uow.connection
            stored = conn.execute(
                text(f"SELECT CAST({column} AS TEXT) FROM message_log WHERE id = :i"),
                {"i": entry},
            ).scalar()
            assume(stored is not None)
            data = bytearray(stored.encode("utf-8"))
            assume(data)
            index = position % len(data)
            assume(data[index] != byte)
            data[index] = byte
            try:
                changed = data.decode("utf-8")
            except UnicodeDecodeError:
                assume(False)
            before = seen(uow)
            try:
                with conn.begin_nested():
                    conn.execute(
                        update(message_log)
                        .where(message_log.c.id == entry)
                        .values({column: _typed(conn, column, changed)})
                    )
            except (DBAPIError, ValueError, TypeError):
                assume(False)  # the database refused the value: nothing changed
            assume(seen(uow) != before)  # stored, it means something else
            report = verify_chains(uow.log_chain, ZONE)
            assert report.first_broken is not None, (column, stored, changed)
            checked.append(column)
            raise _Undo

        with pytest.raises(_Undo):
            db.run_sync(script)

    check()
    # Most drawn changes were stored (the rest the database refused or read the same).
    assert len(checked) >= 100, checked
    assert len(set(checked)) >= 8, sorted(set(checked))


def _typed(conn: Any, column: str, value: str) -> Any:
    """``value`` as the database takes it for ``column`` (PostgreSQL casts the text)."""
    if conn.dialect.name == "sqlite":
        return text(":v").bindparams(v=value)
    sql_type = conn.dialect.type_compiler_instance.process(message_log.c[column].type)
    return text(f"CAST(:v AS {sql_type})").bindparams(v=value)
