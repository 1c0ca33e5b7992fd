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
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import anyio
import anyio.to_thread
import attrs
import structlog

from ..domain.errors import Unavailable
from ..logging import mask_text
from .core import CoreDeps
from .ports import OutboxItem, UnitOfWork

log = structlog.get_logger("aspirasi.outbox")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@attrs.frozen
class OutboxOverview:
    """What :meth:`OutboxDispatcher.overview` found."""

    items: list[OutboxItem]
    #: How many items match the filters (``len(items)`` when all are shown).
    matching: int
    #: Items per status (pending, sending, done, dead).
    totals: dict[str, int]

    @property
    def cut_short(self) -> bool:
        """Whether more items match than are shown."""
        return self.matching > len(self.items)


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
        lease_seconds: int | None = None,
        base_delay_seconds: float = 15.0,
        max_delay_seconds: float = 3600.0,
        sweep: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._d = deps
        #: Run every ``ASPIRASI_SOP_SWEEP_SECONDS`` by :meth:`run_forever`: the
        #: periodic sweeps (:func:`aspirasi_core.services.periodic_sweeps` of the SOP
        #: lateness, the attachment retention, the pending attachments and the
        #: expired idempotency keys).
        self.sweep = sweep
        self._last_sweep: float | None = None
        self.batch = batch
        #: Default: ``ASPIRASI_OUTBOX_LEASE_SECONDS``.
        self.lease_seconds = lease_seconds or deps.settings.outbox_lease_seconds
        self.base_delay = base_delay_seconds
        self.max_delay = max_delay_seconds
        self._wake: anyio.Event | None = None
        #: (item id, delivered at) of items delivered but not yet recorded as done.
        self._unrecorded: list[tuple[int, datetime]] = []
        self._database_away = False

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

    def _record_delivered(self) -> None:
        """Record the items delivered while the database was out of reach, before
        anything else is sent; raises while it still is."""
        while self._unrecorded:
            item_id, at = self._unrecorded[0]
            self._d.db.run_sync(
                lambda uow, i=item_id, t=at: uow.outbox.complete(i, t),  # type: ignore[misc]
                write=True,
            )
            self._unrecorded.pop(0)
            log.info("outbox_delivery_recorded", item_id=item_id)

    def run_once_sync(self) -> DispatchStats:
        """Claim one batch and deliver it, recording each item as soon as its
        delivery returned (an e-mail: as soon as the SMTP server accepted it).

        When that record cannot be written (the database went away), the item is
        kept in memory, the batch stops, and the record is written first thing on
        the next call, before anything is claimed or sent: the mail is not sent
        again when the item's lease runs out (unless this process dies before the
        database comes back, or the outage outlasts the lease and another worker
        takes the item over). Raises (``Unavailable``) while the database is away.
        """
        deps = self._d
        stats = DispatchStats()
        self._record_delivered()
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
                stats.delivered += 1
                log.info(
                    "outbox_delivered", item_id=item.id, topic=item.topic, attempts=item.attempts
                )
                self._unrecorded.append((item.id, now))
                # The rest of the batch stays claimed (its lease brings it back) if
                # this raises: nothing more is sent before the record is written.
                self._record_delivered()
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
            except Unavailable as exc:
                # Named and logged by the storage layer; say once what it means here.
                if not self._database_away:
                    log.warning(
                        "outbox_waiting_for_database",
                        code=exc.code,
                        unrecorded=len(self._unrecorded),
                    )
                self._database_away = True
                stats = DispatchStats()
            except Exception:
                log.exception("outbox_batch_failed")
                stats = DispatchStats()
            else:
                if self._database_away:
                    log.info("outbox_database_back")
                self._database_away = False
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
        await self.sweep_now()

    async def sweep_now(self) -> None:
        """Run the sweep once (:meth:`run_forever` does it every
        ``ASPIRASI_SOP_SWEEP_SECONDS``); a failure is logged, not raised."""
        if self.sweep is None:
            return
        try:
            await self.sweep()
        except Unavailable as exc:  # named and logged by the storage layer
            log.warning("sweep_skipped", code=exc.code)
        except Exception:
            log.exception("sweep_failed")

    async def list(
        self,
        status: str | None = None,
        limit: int = 100,
        *,
        topic: str | None = None,
        error: str | None = None,
    ) -> list[OutboxItem]:
        """Items by status (``dead`` for the dead letters), oldest first."""
        return await self._d.db.transaction(
            lambda uow: uow.outbox.list(status=status, limit=limit, topic=topic, error=error),
            write=False,
        )

    async def overview(
        self,
        status: str | None = None,
        limit: int = 100,
        *,
        topic: str | None = None,
        error: str | None = None,
    ) -> OutboxOverview:
        """The first ``limit`` items matching the filters, how many match in all,
        and the totals per status: what an operator needs to see at once."""

        def read(uow: UnitOfWork) -> OutboxOverview:
            outbox = uow.outbox
            items = outbox.list(status=status, limit=limit, topic=topic, error=error)
            matching = (
                len(items)
                if len(items) < limit
                else outbox.count(status=status, topic=topic, error=error)
            )
            return OutboxOverview(items=items, matching=matching, totals=outbox.totals())

        return await self._d.db.transaction(read, write=False)

    async def retry(self, item_id: int) -> bool:
        """Put a dead letter back in the queue."""
        now = self._d.clock.now()
        return await self._d.db.transaction(lambda uow: uow.outbox.retry(item_id, now), write=True)

    async def retry_dead(
        self,
        *,
        ids: Sequence[int] | None = None,
        topic: str | None = None,
        error: str | None = None,
    ) -> int:
        """Put dead letters back in the queue in one transaction: those of ``ids``, or
        every one matching ``topic`` and ``error`` (all of them when neither is
        given). Returns how many; the dispatchers are woken."""
        now = self._d.clock.now()
        count = await self._d.db.transaction(
            lambda uow: uow.outbox.retry_dead(now, ids=ids, topic=topic, error=error), write=True
        )
        log.info("outbox_dead_letters_retried", count=count, topic=topic, filtered=bool(error))
        if count:
            for listener in list(self._d.outbox_listeners):
                listener()
        return count
