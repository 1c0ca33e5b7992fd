"""The tamper-evident record (issue 23, part 4): checking every message's hash
chain and the daily roots, sealing each finished day, and the public check of
one hash.

* :meth:`LogChainService.verify_sync` (``aspirasi audit verify``) reads every
  chain and every root in one read-only transaction and reports the first broken
  link: the message's ticket and the entry's id.
* :meth:`LogChainService.sweep` (the periodic sweep) writes the root of each day
  that is over (in ``ASPIRASI_TIMEZONE``, :data:`SEAL_GRACE` after midnight, so
  that a transaction still open at midnight has committed), from the day of the
  first log entry on, each naming the root before it.
* :meth:`LogChainService.lookup` (the public page ``/verifikasi``) says whether a
  hash is a genuine entry: its ticket, date and action, or only "valid" for a
  confidential or anonymous message. Nothing else of the message is read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import anyio.to_thread
import attrs
import structlog

from ..domain.errors import Invalid
from ..domain.log_chain import GENESIS, Broken, check_chain, day_root, is_hash, last_heads
from .core import CoreDeps
from .ports import FoundEntry, LogChainRepository, LogRoot, UnitOfWork

log = structlog.get_logger("aspirasi.log_chain")

#: Messages whose chains are read per statement while verifying.
VERIFY_BATCH = 500
#: Roots read per statement while verifying, and most days sealed per sweep.
ROOT_BATCH = 366
#: How long after a day ends its root is written.
SEAL_GRACE = timedelta(minutes=10)
#: Roots shown on the public page.
PUBLIC_ROOTS = 30


@attrs.frozen
class RootProblem:
    """A daily root that does not hold: ``root`` (the chains that grew that day do
    not give it) or ``prev`` (it does not name the root of the day before)."""

    day: date
    reason: str


@attrs.frozen
class VerifyReport:
    chains: int
    entries: int
    roots: int
    broken_chains: int
    first_broken: Broken | None
    root_problem: RootProblem | None

    @property
    def ok(self) -> bool:
        return self.first_broken is None and self.root_problem is None


@attrs.frozen
class Lookup:
    """What the public learns of a hash: nothing (``entry`` None: no such entry),
    or the entry (its ticket, date and action unless ``restricted``)."""

    entry: FoundEntry | None

    @property
    def valid(self) -> bool:
        return self.entry is not None


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where ``day`` (in ``zone``) starts and the next one starts."""
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def verify_chains(repo: LogChainRepository, zone: ZoneInfo) -> VerifyReport:
    """Check every chain and every daily root read through ``repo`` (one
    transaction)."""
    chains = entries = broken = 0
    first: Broken | None = None
    after = 0
    while batch := repo.chains(after_message_id=after, limit=VERIFY_BATCH):
        for chain in batch:
            chains += 1
            entries += len(chain.entries)
            found = check_chain(chain.ticket, chain.entries)
            if found is None and not chain.entries:
                found = Broken(chain.ticket, 0, "empty")
            if found is not None:
                broken += 1
                first = first or found
        after = batch[-1].message_id
    roots, problem = _verify_roots(repo, zone)
    return VerifyReport(chains, entries, roots, broken, first, problem)


def _verify_roots(repo: LogChainRepository, zone: ZoneInfo) -> tuple[int, RootProblem | None]:
    count = 0
    prev, last_day = GENESIS, None
    while batch := repo.roots(after=last_day, limit=ROOT_BATCH):
        for root in batch:
            count += 1
            if root.prev_root != prev:
                return count, RootProblem(root.day, "prev")
            heads = last_heads(repo.day_heads(*day_bounds(root.day, zone)))
            if day_root(root.day, prev, heads) != root.root or len(heads) != root.chains:
                return count, RootProblem(root.day, "root")
            prev, last_day = root.root, root.day
    return count, None


class LogChainService:
    """Verifying, sealing and the public check of the message logs' hash chains."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps
        self._zone = ZoneInfo(deps.settings.timezone)

    def verify_sync(self) -> VerifyReport:
        """Check every chain and root (a long read: the report's statement timeout)."""
        report = self._d.db.run_sync(
            lambda uow: verify_chains(uow.log_chain, self._zone), write=False, report=True
        )
        log.info(
            "log_chain_verified",
            ok=report.ok,
            chains=report.chains,
            entries=report.entries,
            roots=report.roots,
            broken_chains=report.broken_chains,
        )
        return report

    # ------------------------------------------------------------------ daily roots
    def seal_sync(self, *, limit: int = ROOT_BATCH) -> int:
        """Write the roots of the days that are over and not sealed yet (at most
        ``limit``); returns how many."""
        now = self._d.clock.now()
        sealed = 0
        while sealed < limit:
            root = self._d.db.run_sync(lambda uow: self._seal_next(uow, now))
            if root is None:
                break
            sealed += 1
            log.info(
                "log_root_sealed", day=root.day.isoformat(), root=root.root, chains=root.chains
            )
        return sealed

    def _seal_next(self, uow: UnitOfWork, now: datetime) -> LogRoot | None:
        repo = uow.log_chain
        last = repo.last_root()
        if last is not None:
            day, prev = last.day + timedelta(days=1), last.root
        else:
            first = repo.first_entry_at()
            if first is None:
                return None
            day, prev = first.astimezone(self._zone).date(), GENESIS
        start, end = day_bounds(day, self._zone)
        if now < end + SEAL_GRACE:
            return None
        heads = last_heads(repo.day_heads(start, end))
        root = LogRoot(
            day=day,
            root=day_root(day, prev, heads),
            prev_root=prev,
            chains=len(heads),
            created_at=now,
        )
        repo.add_root(root)  # another worker may have sealed it: the same root
        return root

    async def sweep(self) -> int:
        """:meth:`seal_sync` in a worker thread (the periodic sweep)."""
        return await anyio.to_thread.run_sync(self.seal_sync)

    # ------------------------------------------------------------------ public
    async def lookup(self, text: str) -> Lookup:
        """The entry with this hash, if any. Raises :class:`Invalid` (field
        ``hash``) when ``text`` is not a hash."""
        digest = text.strip().lower()
        if not is_hash(digest):
            raise Invalid.field(
                "hash", "bad_hash", "Enter a hash of 64 characters (digits and letters a to f)."
            )
        found = await self._d.db.transaction(lambda uow: uow.log_chain.find(digest), write=False)
        return Lookup(found)

    async def recent_roots(self, limit: int = PUBLIC_ROOTS) -> list[LogRoot]:
        """The newest daily roots (published on the public page)."""
        return await self._d.db.transaction(
            lambda uow: uow.log_chain.recent_roots(limit), write=False
        )


__all__ = [
    "LogChainService",
    "Lookup",
    "RootProblem",
    "VerifyReport",
    "day_bounds",
    "verify_chains",
]
