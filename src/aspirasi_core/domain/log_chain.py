"""The tamper-evident record: each message's log is a hash chain, and each day's
chain heads are sealed in a daily root (issue 23, part 4).

An entry's hash is SHA-256 over a canonical JSON serialisation of its content
(:func:`canonical`): the message's ticket, its place in the chain (``seq``, from
1), the hash of the entry before it (``prev``, empty for the first), its time,
actor, action, statuses, note, the note's visibility and the agency. Changing
anything stored (a byte of the note, a status, a time, the order, the message an
entry belongs to) changes the hash, and every later entry names the hash before
it. The ticket, not the row id, names the message: it is the message's public
identity and survives a copy of the database.

A daily root (:func:`day_root`) hashes the heads of the chains that grew on one
day (in the province's time zone), sorted by ticket, with the root of the day
before: rewriting a whole chain (every hash recomputed) still changes the roots
already published. Pure functions only; the storage writes and reads them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs

#: The version of the serialisation, inside it: a later change adds a version
#: and keeps verifying the old one.
CHAIN_VERSION = 1
#: ``prev`` of the first entry of a chain, and of the first daily root.
GENESIS = ""
#: Length of a hash as stored (hex SHA-256).
HASH_LENGTH = 64
_HEX = frozenset("0123456789abcdef")


@attrs.frozen
class ChainLink:
    """What the hash of one log entry covers (values as stored)."""

    ticket: str
    seq: Any  # int as written; whatever a row holds when verified
    prev_hash: Any
    at: Any  # an aware datetime as written; see :func:`timestamp`
    actor_id: Any
    action: Any
    from_status: Any
    to_status: Any
    note: Any
    note_visibility: Any
    agency_id: Any


def timestamp(value: Any) -> Any:
    """A time as the hash sees it: ISO 8601 in UTC with microseconds and ``Z``.
    A stored value that is no time (a damaged row) is kept as it is, so that it
    hashes differently instead of failing."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(link: ChainLink) -> bytes:
    """The bytes hashed for one entry: JSON with sorted keys, no spaces, UTF-8."""
    content = {
        "v": CHAIN_VERSION,
        "ticket": link.ticket,
        "seq": link.seq,
        "prev": link.prev_hash,
        "at": timestamp(link.at),
        "actor": link.actor_id,
        "action": link.action,
        "from": link.from_status,
        "to": link.to_status,
        "note": link.note,
        "note_visibility": link.note_visibility,
        "agency": link.agency_id,
    }
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def entry_hash(link: ChainLink) -> str:
    """The hex SHA-256 of :func:`canonical`."""
    return hashlib.sha256(canonical(link)).hexdigest()


def is_hash(text: str) -> bool:
    """Whether ``text`` has the form of a stored hash (64 lowercase hex digits)."""
    return len(text) == HASH_LENGTH and set(text) <= _HEX


@attrs.frozen
class ChainHead:
    """The last entry of one chain on a day."""

    ticket: str
    seq: int
    entry_hash: str


def day_root(day: date, prev_root: str, heads: Iterable[ChainHead]) -> str:
    """The root of ``day``: SHA-256 over the day, the root before and the heads of
    the chains that grew that day, sorted by ticket."""
    content = {
        "v": CHAIN_VERSION,
        "day": day.isoformat(),
        "prev": prev_root,
        "heads": [[h.ticket, h.seq, h.entry_hash] for h in sorted(heads, key=lambda h: h.ticket)],
    }
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def last_heads(rows: Iterable[tuple[str, Any, Any]]) -> list[ChainHead]:
    """The head (highest ``seq``) of each ticket among ``(ticket, seq, hash)`` rows
    of one day; rows without a chain (a damaged or unchained entry) count with
    ``seq`` 0 and an empty hash, so that the root differs."""
    best: dict[str, ChainHead] = {}
    for ticket, seq, digest in rows:
        number = seq if isinstance(seq, int) else 0
        head = ChainHead(ticket, number, digest if isinstance(digest, str) else "")
        if ticket not in best or number >= best[ticket].seq:
            best[ticket] = head
    return list(best.values())


@attrs.frozen
class Broken:
    """The first link of a chain that does not hold."""

    ticket: str
    entry_id: int
    #: ``hash`` (content changed), ``prev`` (the link to the entry before),
    #: ``seq`` (an entry missing, moved or added), ``unchained`` (no hash).
    reason: str


def check_chain(ticket: str, entries: Sequence[tuple[int, ChainLink, Any]]) -> Broken | None:
    """The first broken link of one message's chain, or None when it holds.

    ``entries``: ``(entry id, content, stored hash)`` in the order of their ids."""
    prev = GENESIS
    for position, (entry_id, link, stored) in enumerate(entries, start=1):
        if stored is None or link.seq is None:
            return Broken(ticket, entry_id, "unchained")
        if link.seq != position:
            return Broken(ticket, entry_id, "seq")
        if link.prev_hash != prev:
            return Broken(ticket, entry_id, "prev")
        if entry_hash(link) != stored:
            return Broken(ticket, entry_id, "hash")
        prev = stored
    return None


__all__ = [
    "CHAIN_VERSION",
    "GENESIS",
    "HASH_LENGTH",
    "Broken",
    "ChainHead",
    "ChainLink",
    "canonical",
    "check_chain",
    "day_root",
    "entry_hash",
    "is_hash",
    "last_heads",
    "timestamp",
]
