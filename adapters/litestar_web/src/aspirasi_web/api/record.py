"""``/api/v1/public/record/…``: the tamper-evident record for machines (issue
23.4), what ``/verifikasi`` shows people: whether a hash is a genuine log entry,
and the daily roots, for an auditor or a journalist to archive and compare."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.params import FromPath

from ..context import Core
from .common import API, PUBLIC, Limit, iso, query_limit
from .shapes import Page

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


@get(
    f"{API}/public/record/entries/{{entry_hash:str}}",
    tags=TAGS,
    summary="Check a log entry's hash",
    description=ENTRY_DOC,
    security=PUBLIC,
)
async def record_entry(core: Core, entry_hash: FromPath[str]) -> dict[str, Any]:
    found = (await core.log_chain.lookup(entry_hash)).entry
    if found is None:
        return {"valid": False}
    if found.restricted:
        return {"valid": True, "restricted": True}
    return {
        "valid": True,
        "restricted": False,
        "ticket": found.ticket,
        "at": iso(found.at),
        "action": found.action,
    }


@get(
    f"{API}/public/record/roots",
    tags=TAGS,
    summary="Daily roots",
    description=ROOTS_DOC,
    security=PUBLIC,
)
async def record_roots(core: Core, limit: Limit = None) -> Page[dict[str, Any]]:
    roots = await core.log_chain.recent_roots(query_limit(limit) or 30)
    items = [
        {"day": r.day.isoformat(), "root": r.root, "prev_root": r.prev_root, "chains": r.chains}
        for r in roots
    ]
    return Page(items=items)


ROUTES = [record_entry, record_roots]
