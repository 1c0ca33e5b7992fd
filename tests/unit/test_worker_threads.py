"""WorkerThreads: the threads SqlDatabase runs transactions in."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading

import pytest
import structlog.testing
from tests.forking import exit_code_of_child_forked_while_held

from aspirasi_core.threads import WorkerThreads

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def test_a_call_returns_its_result_or_raises_in_the_callers_context() -> None:
    workers = WorkerThreads(2, "test-db")

    def where() -> tuple[str, str]:
        return threading.current_thread().name, request_id.get()

    def boom() -> None:
        raise KeyError("missing")

    def stop() -> None:
        raise StopIteration

    async def main() -> None:
        request_id.set("req-1")
        name, seen = await workers.run(where)
        assert name.startswith("test-db-") and name != threading.current_thread().name
        assert seen == "req-1"
        with pytest.raises(KeyError, match="missing"):
            await workers.run(boom)
        with pytest.raises(RuntimeError, match="StopIteration"):
            await workers.run(stop)

    try:
        asyncio.run(main())
    finally:
        workers.shutdown()


def test_calls_run_side_by_side_up_to_the_size() -> None:
    workers = WorkerThreads(3, "test-db")
    barrier = threading.Barrier(3, timeout=5)  # broken (an error) unless 3 run at once

    async def main() -> list[int]:
        return await asyncio.gather(*(workers.run(barrier.wait) for _ in range(3)))

    try:
        assert sorted(asyncio.run(main())) == [0, 1, 2]
    finally:
        workers.shutdown()


def test_a_call_cancelled_before_a_thread_takes_it_never_runs() -> None:
    workers = WorkerThreads(1, "test-db")
    started = threading.Event()
    release = threading.Event()
    ran: list[str] = []

    def hold() -> bool:
        started.set()
        return release.wait(30)

    async def main() -> None:
        first = asyncio.ensure_future(workers.run(hold))
        second = asyncio.ensure_future(workers.run(lambda: ran.append("second")))
        # The only thread is busy with the first; the second was queued behind it
        # when its task ran (in the same turn of the loop as the first's).
        assert await asyncio.to_thread(started.wait, 30)
        second.cancel()
        await asyncio.sleep(0)
        release.set()
        assert await first is True
        with pytest.raises(asyncio.CancelledError):
            await second
        assert await workers.run(lambda: "third") == "third"  # the thread went on

    try:
        asyncio.run(main())
    finally:
        workers.shutdown()
    assert ran == []


def test_shutdown_stops_the_threads_and_a_later_call_starts_new_ones() -> None:
    workers = WorkerThreads(2, "test-shutdown")
    assert asyncio.run(workers.run(lambda: 1)) == 1
    started = [t for t in threading.enumerate() if t.name.startswith("test-shutdown-")]
    assert len(started) == 2
    workers.shutdown()
    for thread in started:
        thread.join(5)
        assert not thread.is_alive()
    assert asyncio.run(workers.run(lambda: 2)) == 2
    workers.shutdown()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own_threads_even_if_a_guard_was_held() -> None:
    workers = WorkerThreads(1, "test-fork")
    assert asyncio.run(workers.run(lambda: os.getpid())) == os.getpid()

    def child() -> int:
        pid = asyncio.run(asyncio.wait_for(workers.run(os.getpid), 5))
        return 0 if pid == os.getpid() else 2

    # A parent thread holds the guard at the moment of the fork.
    assert exit_code_of_child_forked_while_held(workers._guard, child) == 0
    workers.shutdown()


def test_a_caller_cancelled_mid_call_lets_it_finish_and_the_result_is_dropped() -> None:
    workers = WorkerThreads(1, "test-db")
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def slow() -> str:
        started.set()
        release.wait(5)
        done.append("finished")
        return "late"

    async def main() -> None:
        task = asyncio.ensure_future(workers.run(slow))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        # The thread finishes the call, drops its result and takes the next one.
        assert await workers.run(lambda: "next") == "next"

    try:
        asyncio.run(main())
    finally:
        workers.shutdown()
    assert done == ["finished"]


def test_a_call_that_ends_after_its_loop_closed_does_not_break_the_thread() -> None:
    workers = WorkerThreads(1, "test-db")
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)

    def slow() -> int:
        started.set()
        release.wait(5)
        return 1

    loop = asyncio.new_event_loop()
    try:
        pending = loop.create_task(workers.run(slow))
        loop.run_until_complete(asyncio.to_thread(started.wait, 5))
        pending.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()  # the call is still running
        release.set()
        assert asyncio.run(workers.run(lambda: 2)) == 2  # the same thread goes on
    finally:
        threading.excepthook = old_hook
        workers.shutdown()
    assert errors == []


def test_each_thread_runs_the_initializer_first_and_a_failing_one_is_logged() -> None:
    prepared: list[str] = []

    def prepare() -> None:
        prepared.append(threading.current_thread().name)

    def broken() -> None:
        raise OSError("no permission")

    ok = WorkerThreads(2, "test-init", initializer=prepare)
    failing = WorkerThreads(1, "test-broken", initializer=broken)
    barrier = threading.Barrier(2, timeout=5)

    def first() -> bool:
        return threading.current_thread().name in prepared

    async def main() -> None:
        # Both threads run at once, so each ran the initializer before its call.
        assert await asyncio.gather(
            *(ok.run(lambda: (barrier.wait(), first())[1]) for _ in range(2))
        )
        assert sorted(prepared) == ["test-init-0", "test-init-1"]
        # A failing initializer leaves a thread that still runs calls.
        assert await failing.run(lambda: 42) == 42

    try:
        with structlog.testing.capture_logs() as logs:
            asyncio.run(main())
    finally:
        ok.shutdown()
        failing.shutdown()
    assert [e["event"] for e in logs] == ["worker_thread_initializer_failed"]
