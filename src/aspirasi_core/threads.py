"""Worker threads that run blocking calls (database transactions, password
hashes) for coroutines.

:class:`WorkerThreads` does what ``loop.run_in_executor(ThreadPoolExecutor(...))``
does for :class:`~aspirasi_core.storage.database.SqlDatabase` and the password
hasher, with less machinery:
the caller waits on one event-loop future that the thread resolves with one
``call_soon_threadsafe``. There is no ``concurrent.futures.Future`` (with its
``Condition``), no chaining of two futures and no weak-reference bookkeeping, which
saves about 10 µs of the event loop's and the thread's time per call (measured
with uvloop: 33 → 23 µs for an empty call); a request pays it on every
transaction it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

T = TypeVar("T")
log = structlog.get_logger(__name__)

_Item = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[[], Any]
]


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        if isinstance(exc, StopIteration):  # a future cannot carry StopIteration
            exc = RuntimeError(f"the call raised StopIteration: {exc!r}")
        future.set_exception(exc)


def _post(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    # RuntimeError: the loop was closed while the call ran; nobody is waiting.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, *args)


_instances: weakref.WeakSet[WorkerThreads] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # Another thread of the parent may have held a guard at the fork.
    for workers in list(_instances):
        workers._guard = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


class WorkerThreads:
    """``size`` threads named ``<name>-<n>`` that run calls for coroutines, each
    calling ``initializer()`` (when given) before its first call.

    ``await threads.run(fn)`` runs ``fn()`` in one of them, in a copy of the caller's
    context variables (the log context and request id go along), and returns its
    result or raises its exception. A call whose caller was cancelled before a
    thread took it up is skipped, as ``run_in_executor`` skips it; one already
    running finishes, and its result is dropped.

    The threads start on first use, in the process that uses them: a worker forked
    after start-up gets its own. They are daemon threads; :meth:`shutdown` stops
    them once they have finished the calls already queued. A call still running
    when the interpreter exits is cut off (``ThreadPoolExecutor`` waited for it); a
    transaction cut off that way is rolled back by the database, and servers stop
    taking requests and finish them before they exit.
    """

    def __init__(
        self, size: int, name: str, *, initializer: Callable[[], None] | None = None
    ) -> None:
        if size < 1:
            raise ValueError("WorkerThreads needs at least one thread")
        self.size = size
        self.name = name
        #: Called first in each thread (e.g. to lower its scheduling priority).
        self.initializer = initializer
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._pid = 0
        self._guard = threading.Lock()
        _instances.add(self)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` in a worker thread; see the class docstring."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        item = (loop, future, contextvars.copy_context(), fn)
        # Under the guard: a shutdown() in between would leave the call behind the
        # threads' stop markers, never run.
        with self._guard:
            if self._pid != os.getpid():
                self._start()
            self._queue.put(item)
        return await future

    def _start(self) -> None:
        # After a fork the parent's threads do not exist here, and its queue may hold
        # items nobody will take: start afresh. Called with the guard held.
        self._queue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(
                target=self._work,
                args=(self._queue, self.initializer),
                name=f"{self.name}-{n}",
                daemon=True,
            )
            for n in range(self.size)
        ]
        for thread in self._threads:
            thread.start()
        self._pid = os.getpid()

    @staticmethod
    def _work(
        calls: queue.SimpleQueue[_Item | None], initializer: Callable[[], None] | None
    ) -> None:
        if initializer is not None:
            try:
                initializer()
            except Exception:  # the thread still runs calls, only without its set-up
                log.exception("worker_thread_initializer_failed")
        while True:
            item = calls.get()
            if item is None:
                return
            loop, future, ctx, fn = item
            del item
            if future.cancelled():
                del loop, future, ctx, fn
                continue
            try:
                result = ctx.run(fn)
            except BaseException as exc:
                _post(loop, _fail, future, exc)
                del exc
            else:
                _post(loop, _succeed, future, result)
                del result
            # Drop the references before waiting for the next call.
            del loop, future, ctx, fn

    def shutdown(self) -> None:
        """Stop the threads after the calls already queued (does not wait for them)."""
        with self._guard:
            if self._pid == os.getpid():
                for _ in self._threads:
                    self._queue.put(None)
            self._threads = []
            self._pid = 0
