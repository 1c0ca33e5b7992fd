"""``/api/v1/public/record/…``: the tamper-evident record for machines (issue
23.4), what ``/verifikasi`` shows people: whether a hash is a genuine log entry,
and the daily roots, for an auditor or a journalist to archive and compare."""

from __future__ import annotations

from datetime import date, datetime

from litestar import get
from litestar.params import FromPath
from msgspec import UNSET, UnsetType

from ..context import Core
from .common import API, PUBLIC, Limit, query_limit
from .shapes import Page, Shape, utc

TAGS = ["public"]

ENTRY_DOC = (
    "Whether `entry_hash` (64 hex digits, e.g. a reply PDF's `/AspirasiEntryHash`) is"
    " the hash of a genuine log entry: `{valid: false}`, or `{valid: true, ticket,"
    " at, action}`; for a confidential or anonymous message only `{valid: true,"
    " restricted: true}`. Anything but a hash: 422 `bad_hash`."
)
ROOTS_DOC = (
    "The newest daily roots over all messages' hash chains (docs/audit.md), newest"
    " first: `day` (in the province's time zone), `root`, `prev_root` (the day"
    " before's root), `chains` (messages whose log grew that day)."
)


class RecordEntryOut(Shape):
    """``valid``; for a genuine entry ``restricted``, and unless restricted its
    message's ``ticket``, ``at`` and ``action``."""

    valid: bool
    restricted: bool | UnsetType = UNSET
    ticket: str | UnsetType = UNSET
    at: datetime | UnsetType | None = UNSET
    action: str | UnsetType = UNSET


class RootOut(Shape):
    """A daily root: ``day`` in the province's time zone, ``chains`` the messages
    whose log grew that day."""

    day: date
    root: str
    prev_root: str
    chains: int


@get(
    f"{API}/public/record/entries/{{entry_hash:str}}",
    tags=TAGS,
    summary="Check a log entry's hash",
    description=ENTRY_DOC,
    security=PUBLIC,
)
async def record_entry(core: Core, entry_hash: FromPath[str]) -> RecordEntryOut:
    found = (await core.log_chain.lookup(entry_hash)).entry
    if found is None:
        return RecordEntryOut(valid=False)
    if found.restricted:
        return RecordEntryOut(valid=True, restricted=True)
    return RecordEntryOut(
        valid=True,
        restricted=False,
        ticket=found.ticket,
        at=utc(found.at),
        action=found.action,
    )


@get(
    f"{API}/public/record/roots",
    tags=TAGS,
    summary="Daily roots",
    description=ROOTS_DOC,
    security=PUBLIC,
)
async def record_roots(core: Core, limit: Limit = None) -> Page[RootOut]:
    roots = await core.log_chain.recent_roots(query_limit(limit) or 30)
    items = [RootOut(day=r.day, root=r.root, prev_root=r.prev_root, chains=r.chains) for r in roots]
    return Page(items=items, next_cursor=None)


ROUTES = [record_entry, record_roots]
