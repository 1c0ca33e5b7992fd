"""The outbox dispatcher: delivers queued side effects, at least once, never lost.

Items are claimed with a lease (a crashed worker's items come back after it
expires), delivered through ``aspirasi_deliver_outbox_item``, and retried with
exponential back-off; after ``ASPIRASI_OUTBOX_MAX_ATTEMPTS`` tries an item
becomes a dead letter that a super admin can see and retry. Several
dispatchers may run at once (``aspirasi outbox run`` in several processes):
claiming is atomic, so each item goes to one of them.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import anyio
import anyio.to_thread
import attrs
import structlog

from ..logging import mask_text
from .core import CoreDeps
from .ports import OutboxItem, UnitOfWork

log = structlog.get_logger("aspirasi.outbox")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@attrs.define
class DispatchStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.dead


class OutboxDispatcher:
    """Delivers outbox items. ``run_once_sync`` for scripts and tests,
    ``run_forever`` for the worker and the in-process embedded mode."""

    def __init__(
        self,
        deps: CoreDeps,
        *,
        batch: int = 20,
        lease_seconds: int = 120,
        base_delay_seconds: float = 15.0,
        max_delay_seconds: float = 3600.0,
        sweep: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._d = deps
        #: Run every ``ASPIRASI_SOP_SWEEP_SECONDS`` by :meth:`run_forever`: the SOP
        #: lateness sweep (:meth:`aspirasi_core.services.sop.SopService.sweep`).
        self.sweep = sweep
        self._last_sweep: float | None = None
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.base_delay = base_delay_seconds
        self.max_delay = max_delay_seconds
        self._wake: anyio.Event | None = None

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` tries (with ±20 % jitter)."""
        delay = min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))
        return delay * random.uniform(0.8, 1.2)

    def _deliver(self, item: OutboxItem) -> tuple[bool, str | None]:
        try:
            done = self._d.hook.aspirasi_deliver_outbox_item(item=item)
        except Exception as exc:  # a failed delivery is data, not a crash
            # SMTP errors often echo the recipient: keep addresses out of the table and logs.
            # A template error can quote a variable: mask NIK-like numbers too.
            text = mask_text(_ADDRESS.sub("<address>", f"{type(exc).__name__}: {exc}"))
            return False, text[:500]
        if done is True:
            return True, None
        return False, None  # None (or a stray False): no plugin delivers this topic

    def _release(self, item_ids: list[int]) -> None:
        now = self._d.clock.now()

        def release(uow: UnitOfWork) -> None:
            for item_id in item_ids:
                uow.outbox.fail(item_id, "lease running out; released", retry_at=now)

        self._d.db.run_sync(release, write=True)

    def run_once_sync(self) -> DispatchStats:
        """Claim one batch and deliver it."""
        deps = self._d
        stats = DispatchStats()
        claimed_at = deps.clock.now()
        items = deps.db.run_sync(
            lambda uow: uow.outbox.claim(
                claimed_at, limit=self.batch, lease_seconds=self.lease_seconds
            ),
            write=True,
        )
        for position, item in enumerate(items):
            if (deps.clock.now() - claimed_at).total_seconds() > self.lease_seconds / 2:
                # Slow deliveries ate half the lease: hand the rest back before
                # another dispatcher may take them over, so nothing is sent twice.
                released = [i.id for i in items[position:]]
                self._release(released)
                log.info("outbox_released", count=len(released))
                break
            ok, error = self._deliver(item)
            now = deps.clock.now()
            if ok:

                def complete(uow: UnitOfWork, i: OutboxItem = item, t: datetime = now) -> None:
                    uow.outbox.complete(i.id, t)

                deps.db.run_sync(complete, write=True)
                stats.delivered += 1
                log.info(
                    "outbox_delivered", item_id=item.id, topic=item.topic, attempts=item.attempts
                )
                continue
            if error is None:
                error = f"no plugin delivers the topic {item.topic!r}"
                retry_at = None
            elif item.attempts >= deps.settings.outbox_max_attempts:
                retry_at = None
            else:
                retry_at = now + timedelta(seconds=self.backoff(item.attempts))

            def fail(
                uow: UnitOfWork, i: OutboxItem = item, e: str = error, r: datetime | None = retry_at
            ) -> None:
                uow.outbox.fail(i.id, e, retry_at=r)

            deps.db.run_sync(fail, write=True)
            if retry_at is None:
                stats.dead += 1
                log.warning("outbox_dead", item_id=item.id, topic=item.topic, error=error)
            else:
                stats.retried += 1
                log.info("outbox_retry", item_id=item.id, topic=item.topic, error=error)
        return stats

    async def run_once(self) -> DispatchStats:
        return await anyio.to_thread.run_sync(self.run_once_sync)

    def wake(self) -> None:
        """Ask a sleeping :meth:`run_forever` to look again now (thread-safe enough:
        setting an anyio Event from the loop's own thread)."""
        if self._wake is not None:
            self._wake.set()

    async def run_forever(
        self, *, poll_seconds: float = 5.0, stop: anyio.Event | None = None
    ) -> None:
        """Deliver until ``stop`` is set (or the task is cancelled)."""
        while stop is None or not stop.is_set():
            await self._maybe_sweep()
            try:
                stats = await self.run_once()
            except Exception:
                log.exception("outbox_batch_failed")
                stats = DispatchStats()
            if stats.handled >= self.batch:
                continue  # more may be waiting
            self._wake = anyio.Event()
            with anyio.move_on_after(poll_seconds):
                if stop is not None:
                    async with anyio.create_task_group() as tg:

                        async def _stop_watch(tg=tg) -> None:
                            await stop.wait()
                            tg.cancel_scope.cancel()

                        async def _wake_watch(tg=tg) -> None:
                            assert self._wake is not None
                            await self._wake.wait()
                            tg.cancel_scope.cancel()

                        tg.start_soon(_stop_watch)
                        tg.start_soon(_wake_watch)
                else:
                    await self._wake.wait()

    async def _maybe_sweep(self) -> None:
        if self.sweep is None:
            return
        now = time.monotonic()
        interval = self._d.settings.sop_sweep_seconds
        if self._last_sweep is not None and now - self._last_sweep < interval:
            return
        self._last_sweep = now
        try:
            await self.sweep()
        except Exception:
            log.exception("sop_sweep_failed")

    async def list(self, status: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Items by status (``dead`` for the dead letters)."""
        return await self._d.db.transaction(
            lambda uow: uow.outbox.list(status=status, limit=limit), write=False
        )

    async def retry(self, item_id: int) -> bool:
        """Put a dead letter back in the queue."""
        now = self._d.clock.now()
        return await self._d.db.transaction(lambda uow: uow.outbox.retry(item_id, now), write=True)
