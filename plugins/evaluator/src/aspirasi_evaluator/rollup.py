"""The report's roll-ups: kept exact in the transaction of every change, and rebuilt.

The report (:mod:`aspirasi_evaluator.report`) reads these tables (see
:mod:`aspirasi_evaluator.tables`) instead of aggregating the core's
``messages``, ``message_log`` and ``ratings`` for the range, so it reads
O(months + edge days) × groups rows instead of O(messages):

- ``evaluator_counts`` — messages (not withdrawn) by local submission day and
  month, agency, category, sub-category and status;
- ``evaluator_totals`` — the trend: submitted (not withdrawn) per submission
  day/month, closed (``done`` log entries) per day/month of the entry;
- ``evaluator_ratings`` — sum and number of the stars per submission day/month
  and agency;
- ``evaluator_duration_bins`` / ``evaluator_duration_fine`` — the durations of
  the medians (``confirm``: last forward → ``start``, for the agency of the
  ``start`` entry; ``close``: submission → ``done``, for the message's agency)
  per submission day/month and agency, in coarse bins (about 12 % wide) and in
  one-minute bins inside them, with the sum of their exact values;
- ``evaluator_message_facts`` — per message, the key it is counted under (its
  submission day and month, agency, category, sub-category, status), so that a
  change moves exactly that count, whatever the event says;
- ``evaluator_rollup_state`` — the time zone the days are in.

Days are local days in the time zone recorded in ``evaluator_rollup_state``
(``ASPIRASI_TIMEZONE`` when the roll-ups were built). A report for another time
zone (the setting changed since) falls back to the slow queries on the core's
tables until :func:`rebuild` runs again.

Keeping them exact
------------------
:func:`apply_event` runs for every domain event inside the transaction that
produced it (the core's ``aspirasi_in_transaction`` hook), so a roll-up commits
or rolls back with its change:

- ``MessageSubmitted`` and every ``StatusChanged`` (forward, re-forward, reject,
  withdraw, start, progress, reply) re-read the message's row and move its
  count from the key recorded in ``evaluator_message_facts`` to its current key
  (status, agency, category, sub-category): a re-forward that reclassifies is
  moved whole, a withdrawal is removed, a move that changes nothing writes
  nothing. Every place of the core that changes a message's status or
  classification (``MessageRepository.save_transition``, called only by the
  use cases' transitions) records a ``StatusChanged``; the SOP clock
  (``set_due``, ``mark_overdue_notified``) changes only ``due_at`` and
  ``overdue_notified_at``, which no roll-up holds (overdue counts are read
  live, see the report);
- ``start`` adds the time to confirm, the reply (``to_status`` ``done``) the
  time to close and one "closed" to the trend; ``MessageRated`` adds the stars.
  The workflow allows each once per message; the agency they are counted for
  cannot change afterwards.

Rows are upserted (``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``),
one statement per table and event, keys in a fixed order (no deadlock between
two writers on PostgreSQL). Counts that drop to 0 stay as rows; the report
ignores them and :func:`rebuild` removes them.

Rebuilding
----------
:func:`rebuild` (the migration ``e003`` runs it; ``rebuild_database`` opens a
URL for scripts such as the benchmark's seeder) empties the roll-ups and fills
them again from the core's tables with ``INSERT … SELECT`` — needed after rows
were written around the use cases (imports, the benchmark's seeder) or to move
the roll-ups to another time zone. It runs in the caller's transaction.

Precision of the medians
------------------------
A duration is kept exactly (microseconds) in the sum of its one-minute bin;
the median takes the middle bin(s) and stands each for the mean of the
durations in it. So a median is exact when the durations of its middle bin are
equal (whole hours, whole days, one message per minute), and otherwise at most
60 seconds (0.017 hours) off — below what the page shows (0.1 hour under two
days, 0.1 day above). Counts, overdue counts, ratings and the trend are exact.
"""

from __future__ import annotations

import bisect
import functools
import math
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    type_coerce,
    union_all,
    update,
)

from aspirasi_core.domain.events import Event, MessageRated, MessageSubmitted, StatusChanged
from aspirasi_core.domain.model import Action, Status
from aspirasi_core.storage import fast
from aspirasi_core.storage.tables import message_log, messages, ratings
from aspirasi_core.storage.types import UTCDateTime

from .tables import (
    ROLLUP_TABLES,
    message_facts,
    rollup_counts,
    rollup_duration_bins,
    rollup_duration_fine,
    rollup_ratings,
    rollup_state,
    rollup_totals,
)

#: ``grain`` of the rows: a local day (``period`` = ``date.toordinal()``) or a
#: calendar month (``period`` = year * 12 + month - 1).
DAY = "d"
MONTH = "m"
#: ``kind`` of the durations.
CONFIRM = "confirm"
CLOSE = "close"
WITHDRAWN = Status.WITHDRAWN.value
#: The one row of ``evaluator_rollup_state``.
STATE_ID = 1
#: Width of the fine bins of the durations, in microseconds (one minute).
FINE_US = 60_000_000
#: How far a median read from the roll-ups may be from the exact one, in
#: seconds (the width of a fine bin; see "Precision of the medians").
MEDIAN_PRECISION_SECONDS = 60.0


def _coarse_edges() -> tuple[int, ...]:
    # In minutes: 1, 2, …, then about 12.5 % apart, up to ten years.
    edges = [1]
    while edges[-1] < 10 * 366 * 24 * 60:
        edges.append(max(edges[-1] + 1, math.ceil(edges[-1] * 1.125)))
    return tuple(edges)


#: Lower edges (in minutes, i.e. fine bins) of the coarse bins 1, 2, …; coarse
#: bin 0 holds durations under a minute, -1 negative ones.
COARSE_EDGES = _coarse_edges()


def month_index(day: date) -> int:
    """The ``period`` of the month of ``day``."""
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    """The first day of the month ``index`` (see :func:`month_index`)."""
    return date(index // 12, index % 12 + 1, 1)


def fine_bin(us: int) -> int:
    """The one-minute bin of a duration in microseconds (floor, also below 0)."""
    return us // FINE_US


def coarse_bin(fine: int) -> int:
    """The coarse bin of a fine bin."""
    return -1 if fine < 0 else bisect.bisect_right(COARSE_EDGES, fine)


def duration_us(later: datetime, earlier: datetime) -> int:
    """``later - earlier`` in whole microseconds (exact)."""
    return (later - earlier) // timedelta(microseconds=1)


# ----------------------------------------------------------------------------- state


_READY: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
# The statements of the write path are built once (SQLAlchemy would otherwise
# build and compile them again for every event).
_STATE = select(rollup_state.c.timezone).where(rollup_state.c.id == STATE_ID)


def _tables_exist(conn: Connection) -> bool:
    """Whether the branch's roll-up tables exist (remembered once they do)."""
    engine = conn.engine
    if _READY.get(engine):
        return True
    if conn.dialect.name == "postgresql":
        found = conn.execute(
            text("SELECT to_regclass('evaluator_rollup_state') IS NOT NULL")
        ).scalar()
    else:
        found = conn.execute(
            text(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evaluator_rollup_state'"
            )
        ).scalar()
    if found:
        _READY[engine] = True
    return bool(found)


def rollup_timezone(conn: Connection) -> str | None:
    """The time zone of the roll-ups' days, or None when they are not built
    (the plugin's migrations have not run, or a rebuild is under way)."""
    if not _tables_exist(conn):
        return None
    found = fast.rows(conn, _STATE, {})
    return found[0].timezone if found else None


# ----------------------------------------------------------------------------- upserts


@functools.cache
def _upsert_statement(dialect: str, table: Table, adds: tuple[str, ...], n: int) -> Any:
    """``INSERT INTO table VALUES (row 0), … (row n-1) ON CONFLICT (key) DO UPDATE
    SET add = add + excluded.add``, parameters ``<column>_<i>``."""
    from sqlalchemy.dialects import postgresql, sqlite

    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(
        [{c.name: bindparam(f"{c.name}_{i}", type_=c.type) for c in table.c} for i in range(n)]
    )
    return stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={c: table.c[c] + stmt.excluded[c] for c in adds},
    )


def _merged(
    rows: Iterable[dict[str, Any]], keys: Sequence[str], adds: Sequence[str]
) -> list[dict[str, Any]]:
    """``rows`` with one row per key, in key order: the ``adds`` of rows with the
    same key summed, their other columns those of the first such row (what
    upserting them one after the other would store)."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        found = merged.get(key)
        if found is None:
            merged[key] = dict(row)
        else:
            for name in adds:
                found[name] += row[name]
    return [merged[key] for key in sorted(merged)]


@functools.cache
def _upsert_many_statement(parts: tuple[tuple[Table, tuple[str, ...], int], ...]) -> Any:
    """PostgreSQL: the upserts of :func:`_upsert_statement` for several tables in one
    statement (all but the last as data-modifying ``WITH`` queries), parameters
    ``t<j>_<column>_<i>``. One round trip instead of one per table, while the rows
    they lock stay locked until the commit."""
    from sqlalchemy.dialects import postgresql

    built = []
    for j, (table, adds, n) in enumerate(parts):
        stmt = postgresql.insert(table).values(
            [
                {c.name: bindparam(f"t{j}_{c.name}_{i}", type_=c.type) for c in table.c}
                for i in range(n)
            ]
        )
        built.append(
            stmt.on_conflict_do_update(
                index_elements=[c.name for c in table.primary_key.columns],
                set_={c: table.c[c] + stmt.excluded[c] for c in adds},
            )
        )
    main = built[-1]
    for j, stmt in enumerate(built[:-1]):
        main = main.add_cte(stmt.cte(f"u{j}"))
    return main


def _upsert_many(
    conn: Connection, parts: Sequence[tuple[Table, Iterable[dict[str, Any]], Sequence[str]]]
) -> None:
    """:func:`_upsert` for each ``(table, rows, adds)``: on PostgreSQL in one
    statement, on SQLite (no data-modifying ``WITH``; one writer at a time anyway)
    one statement per table. Tables are locked in the order of ``parts`` on
    SQLite; on PostgreSQL the statement's shape, the same in every transaction,
    fixes the order."""
    if conn.dialect.name != "postgresql":
        for table, rows, adds in parts:
            _upsert(conn, table, rows, adds)
        return
    merged = [
        (table, _merged(rows, [c.name for c in table.primary_key.columns], adds), tuple(adds))
        for table, rows, adds in parts
    ]
    merged = [m for m in merged if m[1]]
    if not merged:
        return
    stmt = _upsert_many_statement(tuple((table, adds, len(rows)) for table, rows, adds in merged))
    params = {
        f"t{j}_{name}_{i}": value
        for j, (_, rows, _) in enumerate(merged)
        for i, row in enumerate(rows)
        for name, value in row.items()
    }
    fast.rows(conn, stmt, params)


def _upsert(
    conn: Connection, table: Table, rows: Iterable[dict[str, Any]], adds: Sequence[str]
) -> None:
    """Add ``adds`` of each row to the stored row with the same key (or insert
    it): one statement, rows in key order (two writers never wait for each other
    crosswise). Rows with the same key are merged first: PostgreSQL refuses a
    statement that updates one row twice ("ON CONFLICT DO UPDATE command cannot
    affect row a second time")."""
    keys = [c.name for c in table.primary_key.columns]
    ordered = _merged(rows, keys, adds)
    if ordered:
        stmt = _upsert_statement(conn.dialect.name, table, tuple(adds), len(ordered))
        params = {
            f"{name}_{i}": value for i, row in enumerate(ordered) for name, value in row.items()
        }
        fast.rows(conn, stmt, params)


def _deltas(
    changes: Mapping[tuple[Any, ...], int], names: Sequence[str], value: str
) -> list[dict[str, Any]]:
    return [dict(zip(names, key, strict=True)) | {value: n} for key, n in changes.items() if n]


# ----------------------------------------------------------------------------- events


@attrs.frozen
class Fact:
    """The key a message is counted under (ids of None stored as 0)."""

    day: int
    month: int
    agency_id: int
    category_id: int
    subcategory_id: int
    status: str

    @property
    def counted(self) -> bool:
        return self.status != WITHDRAWN


_COUNT_KEY = ("grain", "period", "agency_id", "category_id", "subcategory_id", "status")
_FACT_AND_MESSAGE = (
    select(
        messages.c.created_at,
        messages.c.status,
        messages.c.agency_id,
        messages.c.category_id,
        messages.c.subcategory_id,
        message_facts.c.day,
        message_facts.c.month,
        message_facts.c.agency_id.label("f_agency_id"),
        message_facts.c.category_id.label("f_category_id"),
        message_facts.c.subcategory_id.label("f_subcategory_id"),
        message_facts.c.status.label("f_status"),
        # The roll-ups' time zone (NULL: not built), read with the message.
        select(rollup_state.c.timezone)
        .where(rollup_state.c.id == STATE_ID)
        .scalar_subquery()
        .label("tz"),
    )
    .select_from(messages.outerjoin(message_facts, message_facts.c.message_id == messages.c.id))
    .where(messages.c.id == bindparam("id"))
)
_INSERT_FACT = fast.insert_statement(
    message_facts,
    "message_id",
    "day",
    "month",
    "agency_id",
    "category_id",
    "subcategory_id",
    "status",
    returning=None,
)
_UPDATE_FACT = (
    update(message_facts)
    .where(message_facts.c.message_id == bindparam("mid"))
    .values({c: bindparam(c) for c in ("agency_id", "category_id", "subcategory_id", "status")})
)


def _sync(conn: Connection, message_id: int) -> tuple[Fact, datetime, str] | None:
    """Move the message's count to its current key; its fact, submission time and
    the roll-ups' time zone. None when the message or the roll-ups are missing."""
    found = fast.rows(conn, _FACT_AND_MESSAGE, {"id": message_id})
    row = found[0] if found else None
    if row is None or row.tz is None:
        return None
    tz = row.tz
    _TZ[conn.engine] = tz
    old: Fact | None = None
    if row.day is not None:
        old = Fact(
            row.day,
            row.month,
            row.f_agency_id,
            row.f_category_id,
            row.f_subcategory_id,
            row.f_status,
        )
        day, month = row.day, row.month
    else:
        local = row.created_at.astimezone(ZoneInfo(tz)).date()
        day, month = local.toordinal(), month_index(local)
    new = Fact(
        day,
        month,
        row.agency_id or 0,
        row.category_id or 0,
        row.subcategory_id or 0,
        row.status,
    )
    if new == old:
        return new, row.created_at, tz
    values = {
        "agency_id": new.agency_id,
        "category_id": new.category_id,
        "subcategory_id": new.subcategory_id,
        "status": new.status,
    }
    if old is None:
        fast.rows(
            conn, _INSERT_FACT, {"message_id": message_id, "day": day, "month": month, **values}
        )
    else:
        fast.rows(conn, _UPDATE_FACT, {"mid": message_id, **values})
    # The shared counters last: their row locks are held until the commit.
    _count_move(conn, old, new)
    return new, row.created_at, tz


def _count_move(conn: Connection, old: Fact | None, new: Fact) -> None:
    """Move one message's count from ``old`` (None: not counted yet) to ``new``
    in the counts and the trend, both grains."""
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    submitted: dict[tuple[Any, ...], int] = defaultdict(int)
    for fact, sign in ((old, -1), (new, 1)):
        if fact is None or not fact.counted:
            continue
        for grain, period in ((DAY, fact.day), (MONTH, fact.month)):
            key = (grain, period, fact.agency_id, fact.category_id, fact.subcategory_id)
            counts[(*key, fact.status)] += sign
            submitted[(grain, period)] += sign
    _upsert_many(
        conn,
        [
            (rollup_counts, _deltas(counts, _COUNT_KEY, "n"), ["n"]),
            (
                rollup_totals,
                [r | {"closed": 0} for r in _deltas(submitted, ("grain", "period"), "submitted")],
                ["submitted"],
            ),
        ],
    )


#: The roll-ups' time zone as last read, per engine: lets a new message be counted
#: without reading it first (see :func:`_count_new`).
_TZ: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


@functools.cache
def _insert_new_fact(dialect: str) -> Any:
    """The fact of a message that has none, from its row — only when the roll-ups'
    time zone is still ``:tz`` and the message was created at ``:at`` (the day
    and month were computed from those); returns what it inserted."""
    from sqlalchemy.dialects import postgresql, sqlite

    module: Any = postgresql if dialect == "postgresql" else sqlite
    tz_now = select(rollup_state.c.timezone).where(rollup_state.c.id == STATE_ID).scalar_subquery()
    source = select(
        messages.c.id,
        bindparam("day", type_=Integer),
        bindparam("month", type_=Integer),
        func.coalesce(messages.c.agency_id, 0),
        func.coalesce(messages.c.category_id, 0),
        func.coalesce(messages.c.subcategory_id, 0),
        messages.c.status,
    ).where(
        messages.c.id == bindparam("id"),
        messages.c.created_at == bindparam("at", type_=UTCDateTime()),
        tz_now == bindparam("tz", type_=String),
    )
    stmt = module.insert(message_facts).from_select(
        ["message_id", "day", "month", "agency_id", "category_id", "subcategory_id", "status"],
        source,
    )
    return stmt.on_conflict_do_nothing().returning(
        message_facts.c.agency_id,
        message_facts.c.category_id,
        message_facts.c.subcategory_id,
        message_facts.c.status,
    )


@functools.cache
def _count_new_statement() -> Any:
    """PostgreSQL: :func:`_insert_new_fact` and the count move of :func:`_count_move`
    for the fact it inserted, in one statement of data-modifying ``WITH`` queries.
    Nothing inserted: nothing counted. Returns the fact's ``status``.

    Lock order: the main query reads ``new_fact`` first; PostgreSQL then runs the
    other writing ``WITH`` queries last one first — totals, then counts — the
    order :func:`_upsert_many`'s statement (counts as ``WITH``, totals as the main
    query) takes them in too; each upsert takes its day row before its month row,
    as every other transaction does. PostgreSQL calls that order an implementation
    detail; the concurrency test of the roll-ups would show a change (deadlocks)."""
    from sqlalchemy.dialects import postgresql

    fact = _insert_new_fact("postgresql").cte("new_fact")
    counted = fact.c.status != WITHDRAWN

    def per_grain(*columns: Any) -> Any:
        return union_all(
            *(
                select(
                    literal(grain, String).label("grain"),
                    bindparam(period, type_=Integer).label("period"),
                    *columns,
                ).where(counted)
                for grain, period in ((DAY, "day"), (MONTH, "month"))
            )
        )

    count_columns = [c.name for c in rollup_counts.c]
    counts = postgresql.insert(rollup_counts).from_select(
        count_columns,
        per_grain(
            fact.c.agency_id,
            fact.c.category_id,
            fact.c.subcategory_id,
            fact.c.status,
            literal(1, BigInteger).label("n"),
        ),
    )
    counts = counts.on_conflict_do_update(
        index_elements=[c.name for c in rollup_counts.primary_key.columns],
        set_={"n": rollup_counts.c.n + counts.excluded.n},
    )
    totals = postgresql.insert(rollup_totals).from_select(
        ["grain", "period", "submitted", "closed"],
        per_grain(
            literal(1, BigInteger).label("submitted"), literal(0, BigInteger).label("closed")
        ),
    )
    totals = totals.on_conflict_do_update(
        index_elements=[c.name for c in rollup_totals.primary_key.columns],
        set_={"submitted": rollup_totals.c.submitted + totals.excluded.submitted},
    )
    return select(fact.c.status).add_cte(counts.cte("count_new")).add_cte(totals.cte("total_new"))


def _count_new(conn: Connection, event: MessageSubmitted) -> bool:
    """Count a new message without reading it first: its fact is inserted from its
    row when the time zone last read is still the roll-ups' and the message was
    created at ``event.at``, and counted (on PostgreSQL in the same statement);
    False (nothing written) otherwise, and :func:`_sync` does it the general way."""
    tz = _TZ.get(conn.engine)
    if tz is None:
        return False
    local = event.at.astimezone(ZoneInfo(tz)).date()
    day, month = local.toordinal(), month_index(local)
    params = {"id": event.message_id, "day": day, "month": month, "at": event.at, "tz": tz}
    if conn.dialect.name == "postgresql":
        return bool(fast.rows(conn, _count_new_statement(), params))
    found = fast.rows(conn, _insert_new_fact(conn.dialect.name), params)
    if not found:
        return False
    fact = Fact(
        day,
        month,
        found[0].agency_id,
        found[0].category_id,
        found[0].subcategory_id,
        found[0].status,
    )
    _count_move(conn, None, fact)
    return True


def _add_duration(conn: Connection, kind: str, fact: Fact, agency_id: int, us: int) -> None:
    fine = fine_bin(us)
    coarse = coarse_bin(fine)
    periods = ((DAY, fact.day), (MONTH, fact.month))
    _upsert(
        conn,
        rollup_duration_bins,
        [
            {
                "grain": g,
                "period": p,
                "kind": kind,
                "agency_id": agency_id,
                "coarse": coarse,
                "n": 1,
            }
            for g, p in periods
        ],
        ["n"],
    )
    _upsert(
        conn,
        rollup_duration_fine,
        [
            {
                "kind": kind,
                "coarse": coarse,
                "grain": g,
                "period": p,
                "agency_id": agency_id,
                "fine": fine,
                "n": 1,
                "total_us": us,
            }
            for g, p in periods
        ],
        ["n", "total_us"],
    )


def _last_start() -> Any:
    s = message_log.alias("s")
    f = message_log.alias("f")
    last_forward = (
        select(func.max(f.c.at))
        .where(
            f.c.message_id == s.c.message_id,
            f.c.action.in_((Action.FORWARD.value, Action.REFORWARD.value)),
            f.c.id < s.c.id,
        )
        .scalar_subquery()
    )
    return (
        select(s.c.at, s.c.agency_id, type_coerce(last_forward, UTCDateTime).label("forward_at"))
        .where(s.c.message_id == bindparam("id"), s.c.action == Action.START.value)
        .order_by(s.c.id.desc())
        .limit(1)
    )


#: The message's ``start`` entry, with the last forward before it.
_LAST_START = _last_start()
#: The message's ``done`` entry.
_LAST_DONE = (
    select(message_log.c.at)
    .where(
        message_log.c.message_id == bindparam("id"),
        message_log.c.to_status == Status.DONE.value,
    )
    .order_by(message_log.c.id.desc())
    .limit(1)
)


def _add_confirm(conn: Connection, fact: Fact, message_id: int) -> None:
    row = conn.execute(_LAST_START, {"id": message_id}).first()
    if row is None or row.forward_at is None:
        return
    _add_duration(conn, CONFIRM, fact, row.agency_id or 0, duration_us(row.at, row.forward_at))


def _add_close(
    conn: Connection, tz: str, fact: Fact, created_at: datetime, message_id: int
) -> None:
    at = conn.execute(_LAST_DONE, {"id": message_id}).scalar()
    if at is None:
        return
    local = at.astimezone(ZoneInfo(tz)).date()
    _upsert(
        conn,
        rollup_totals,
        [
            {"grain": DAY, "period": local.toordinal(), "submitted": 0, "closed": 1},
            {"grain": MONTH, "period": month_index(local), "submitted": 0, "closed": 1},
        ],
        ["closed"],
    )
    if fact.counted:
        _add_duration(conn, CLOSE, fact, fact.agency_id, duration_us(at, created_at))


def _add_rating(conn: Connection, fact: Fact, stars: int) -> None:
    if not fact.counted:
        return
    _upsert(
        conn,
        rollup_ratings,
        [
            {"grain": g, "period": p, "agency_id": fact.agency_id, "stars": stars, "n": 1}
            for g, p in ((DAY, fact.day), (MONTH, fact.month))
        ],
        ["stars", "n"],
    )


def apply_event(conn: Connection, event: Event) -> None:
    """Bring the roll-ups in step with ``event``, in its transaction (``conn``).

    Called by the plugin's ``aspirasi_in_transaction``. Does nothing when the
    roll-ups are not built (see :func:`rollup_timezone`) and for events that
    change nothing they hold (``MessageOverdue``, account events…)."""
    if not isinstance(event, MessageSubmitted | StatusChanged | MessageRated):
        return
    if not _tables_exist(conn):
        return
    if isinstance(event, MessageSubmitted) and _count_new(conn, event):
        return
    synced = _sync(conn, event.message_id)
    if synced is None:
        return
    fact, created_at, tz = synced
    if isinstance(event, StatusChanged):
        if event.action == Action.START:
            _add_confirm(conn, fact, event.message_id)
        if event.to_status == Status.DONE and event.from_status != Status.DONE:
            _add_close(conn, tz, fact, created_at, event.message_id)
    elif isinstance(event, MessageRated):
        _add_rating(conn, fact, event.stars)


# ----------------------------------------------------------------------------- rebuild


def _epoch_us(conn: Connection, column: Any) -> ColumnElement[Any]:
    """A UTC timestamp column as whole microseconds since 1970 (exact on both
    dialects: SQLite's own date functions round to milliseconds)."""
    if conn.dialect.name == "postgresql":
        return cast(func.round(func.extract("epoch", column) * 1_000_000), BigInteger)
    raw = type_coerce(column, String)
    return cast(func.strftime("%s", func.substr(raw, 1, 19)), Integer) * 1_000_000 + cast(
        func.substr(raw, 21, 6), Integer
    )


def _fine_sql(us: Any) -> ColumnElement[Any]:
    # Integer division truncates towards 0 in SQL: floor by hand below 0.
    return case(
        (us >= 0, us // literal(FINE_US, BigInteger)),
        else_=-((literal(FINE_US - 1, BigInteger) - us) // literal(FINE_US, BigInteger)),
    )


def _coarse_sql(fine: Any) -> ColumnElement[Any]:
    """:func:`coarse_bin` in SQL: a binary search over :data:`COARSE_EDGES`."""

    def search(lo: int, hi: int) -> Any:
        if lo == hi:
            return literal(lo, Integer)
        mid = (lo + hi) // 2
        return case((fine < COARSE_EDGES[mid], search(lo, mid)), else_=search(mid + 1, hi))

    return case((fine < 0, literal(-1, Integer)), else_=search(0, len(COARSE_EDGES)))


def _calendar(conn: Connection, tz: str) -> Table:
    """A temporary table of the local days (UTC start and end, day and month
    periods) spanning every submission and log entry."""
    m, lg = messages, message_log
    bounds = conn.execute(select(func.min(m.c.created_at), func.max(m.c.created_at))).first()
    log_bounds = conn.execute(
        select(func.min(lg.c.at), func.max(lg.c.at)).where(lg.c.to_status == Status.DONE.value)
    ).first()
    instants = [v for v in (*(bounds or ()), *(log_bounds or ())) if v is not None]
    cal = Table(
        "evaluator_tmp_calendar",
        MetaData(),
        Column("day", Integer, primary_key=True, autoincrement=False),
        Column("month", Integer, nullable=False),
        Column("starts_at", UTCDateTime, nullable=False, unique=True),
        Column("ends_at", UTCDateTime, nullable=False),
        prefixes=["TEMPORARY"],
    )
    cal.drop(conn, checkfirst=True)
    cal.create(conn)
    if not instants:
        return cal
    zone = ZoneInfo(tz)
    first = min(instants).astimezone(zone).date() - timedelta(days=1)
    last = max(instants).astimezone(zone).date() + timedelta(days=1)
    rows = []
    day = first
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    while day <= last:
        nxt = day + timedelta(days=1)
        end = datetime.combine(nxt, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        rows.append(
            {"day": day.toordinal(), "month": month_index(day), "starts_at": start, "ends_at": end}
        )
        day, start = nxt, end
    for chunk in range(0, len(rows), 5000):
        conn.execute(insert(cal), rows[chunk : chunk + 5000])
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE evaluator_tmp_calendar"))
    return cal


def _durations(conn: Connection, cal: Table) -> Table:
    """A temporary table of every duration of the medians (kind, day, month,
    agency, microseconds, fine bin)."""
    f = message_facts
    m, lg = messages, message_log
    tmp = Table(
        "evaluator_tmp_durations",
        MetaData(),
        Column("kind", String(8), nullable=False),
        Column("day", Integer, nullable=False),
        Column("month", Integer, nullable=False),
        Column("agency_id", BigInteger, nullable=False),
        Column("us", BigInteger, nullable=False),
        Column("fine", BigInteger, nullable=False),
        prefixes=["TEMPORARY"],
    )
    tmp.drop(conn, checkfirst=True)
    tmp.create(conn)
    s = lg.alias("s")
    fw = lg.alias("fw")
    last_forward = (
        select(func.max(fw.c.at))
        .where(
            fw.c.message_id == s.c.message_id,
            fw.c.action.in_((Action.FORWARD.value, Action.REFORWARD.value)),
            fw.c.id < s.c.id,
        )
        .scalar_subquery()
    )
    starts = (
        select(
            literal(CONFIRM).label("kind"),
            f.c.day,
            f.c.month,
            func.coalesce(s.c.agency_id, 0).label("agency_id"),
            s.c.at.label("later"),
            type_coerce(last_forward, UTCDateTime).label("earlier"),
        )
        .select_from(s.join(f, f.c.message_id == s.c.message_id))
        .where(s.c.action == Action.START.value, f.c.status != WITHDRAWN)
        .subquery("starts")
    )
    dones = (
        select(
            literal(CLOSE).label("kind"),
            f.c.day,
            f.c.month,
            f.c.agency_id,
            lg.c.at.label("later"),
            m.c.created_at.label("earlier"),
        )
        .select_from(
            lg.join(m, m.c.id == lg.c.message_id).join(f, f.c.message_id == lg.c.message_id)
        )
        .where(lg.c.to_status == Status.DONE.value, f.c.status != WITHDRAWN)
        .subquery("dones")
    )
    for source in (starts, dones):
        us = (_epoch_us(conn, source.c.later) - _epoch_us(conn, source.c.earlier)).label("us")
        inner = (
            select(source.c.kind, source.c.day, source.c.month, source.c.agency_id, us)
            .where(source.c.earlier.is_not(None))
            .subquery("d")
        )
        conn.execute(
            insert(tmp).from_select(
                ["kind", "day", "month", "agency_id", "us", "fine"],
                select(
                    inner.c.kind,
                    inner.c.day,
                    inner.c.month,
                    inner.c.agency_id,
                    inner.c.us,
                    _fine_sql(inner.c.us),
                ),
            )
        )
    return tmp


def rebuild(conn: Connection, timezone: str, *, now: datetime | None = None) -> None:
    """Empty the roll-ups and fill them again from the core's tables, with days
    in ``timezone`` (``ASPIRASI_TIMEZONE``), in the caller's transaction.

    Takes seconds per million messages (``INSERT … SELECT`` over the core's
    tables). On PostgreSQL it first locks ``messages``, ``message_log`` and
    ``ratings`` in ``SHARE`` mode: it waits for the writers under way, and new
    ones wait for it (reads go on), so no change falls between the rebuild and
    the roll-ups' upkeep. On SQLite the caller's write transaction does that.
    """
    ZoneInfo(timezone)  # refuse an unknown zone before touching anything
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE messages, message_log, ratings IN SHARE MODE"))
    conn.execute(delete(rollup_state))
    for table in reversed(ROLLUP_TABLES):
        conn.execute(delete(table))
    f, m, lg = message_facts, messages, message_log
    cal = _calendar(conn, timezone)

    # Facts: every message's key.
    conn.execute(
        insert(f).from_select(
            ["message_id", "day", "month", "agency_id", "category_id", "subcategory_id", "status"],
            select(
                m.c.id,
                cal.c.day,
                cal.c.month,
                func.coalesce(m.c.agency_id, 0),
                func.coalesce(m.c.category_id, 0),
                func.coalesce(m.c.subcategory_id, 0),
                m.c.status,
            ).select_from(
                m.join(cal, and_(cal.c.starts_at <= m.c.created_at, cal.c.ends_at > m.c.created_at))
            ),
        )
    )
    periods = ((DAY, f.c.day), (MONTH, f.c.month))
    # Counts.
    for grain, period in periods:
        keys = (period, f.c.agency_id, f.c.category_id, f.c.subcategory_id, f.c.status)
        conn.execute(
            insert(rollup_counts).from_select(
                [*_COUNT_KEY, "n"],
                select(literal(grain), *keys, func.count())
                .where(f.c.status != WITHDRAWN)
                .group_by(*keys),
            )
        )
    # The trend: submitted by submission day, closed by the day of the done entry.
    for grain, name in ((DAY, "day"), (MONTH, "month")):
        submitted = select(
            f.c[name].label("period"),
            literal_column("1").label("s"),
            literal_column("0").label("c"),
        ).where(f.c.status != WITHDRAWN)
        closed = (
            select(
                cal.c[name].label("period"),
                literal_column("0").label("s"),
                literal_column("1").label("c"),
            )
            .select_from(lg.join(cal, and_(cal.c.starts_at <= lg.c.at, cal.c.ends_at > lg.c.at)))
            .where(lg.c.to_status == Status.DONE.value)
        )
        both = union_all(submitted, closed).subquery("u")
        conn.execute(
            insert(rollup_totals).from_select(
                ["grain", "period", "submitted", "closed"],
                select(
                    literal(grain), both.c.period, func.sum(both.c.s), func.sum(both.c.c)
                ).group_by(both.c.period),
            )
        )
    # Ratings.
    for grain, period in periods:
        conn.execute(
            insert(rollup_ratings).from_select(
                ["grain", "period", "agency_id", "stars", "n"],
                select(
                    literal(grain), period, f.c.agency_id, func.sum(ratings.c.stars), func.count()
                )
                .select_from(ratings.join(f, f.c.message_id == ratings.c.message_id))
                .where(f.c.status != WITHDRAWN)
                .group_by(period, f.c.agency_id),
            )
        )
    # Durations of the medians.
    tmp = _durations(conn, cal)
    binned = select(
        tmp.c.kind,
        tmp.c.day,
        tmp.c.month,
        tmp.c.agency_id,
        tmp.c.us,
        tmp.c.fine,
        _coarse_sql(tmp.c.fine).label("coarse"),
    ).subquery("b")
    for grain, name in ((DAY, "day"), (MONTH, "month")):
        b = binned.c
        by_bin = (b[name], b.kind, b.agency_id, b.coarse)
        conn.execute(
            insert(rollup_duration_bins).from_select(
                ["grain", "period", "kind", "agency_id", "coarse", "n"],
                select(literal(grain), *by_bin, func.count()).group_by(*by_bin),
            )
        )
        by_fine = (b.kind, b.coarse, b[name], b.agency_id, b.fine)
        conn.execute(
            insert(rollup_duration_fine).from_select(
                ["kind", "coarse", "grain", "period", "agency_id", "fine", "n", "total_us"],
                select(
                    b.kind, b.coarse, literal(grain), *by_fine[2:], func.count(), func.sum(b.us)
                ).group_by(*by_fine),
            )
        )
    tmp.drop(conn)
    cal.drop(conn)
    conn.execute(
        insert(rollup_state).values(
            id=STATE_ID, timezone=timezone, rebuilt_at=now or datetime.now(UTC)
        )
    )


def rebuild_database(url: str, timezone: str | None = None) -> bool:
    """:func:`rebuild` on the database at ``url``, in its own transaction, with
    ``timezone`` or else ``ASPIRASI_TIMEZONE`` (or its default) — for scripts
    that wrote rows around the use cases (the benchmark's seeder). False (and
    nothing done) when the plugin's tables are not there (its migrations did
    not run: the plugin is disabled)."""
    from aspirasi_core.storage import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if not _tables_exist(conn):
                return False
            rebuild(conn, timezone or default_timezone())
        if engine.dialect.name == "postgresql":
            # Fresh statistics and visibility map for the planner.
            with engine.connect() as conn:
                auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                for table in (rollup_state, *ROLLUP_TABLES):
                    auto.execute(text(f"VACUUM ANALYZE {table.name}"))
        return True
    finally:
        engine.dispose()


def default_timezone() -> str:
    """``ASPIRASI_TIMEZONE`` from the environment, else the setting's default."""
    import os

    from aspirasi_core.settings import Settings

    return os.environ.get("ASPIRASI_TIMEZONE") or Settings().timezone
