"""The report's figures equal the ones computed in plain Python from the raw rows.

Rows are inserted directly into the core's tables (fast); the data sets are
random: statuses, submission times around the range's edges, forward /
re-forward / start / reply log entries, ratings, SOP deadlines before and after
"now", reprimands. Hypothesis drives the generator on SQLite; one fixed data
set runs on SQLite and PostgreSQL (same results on both dialects). Medians are
exact (``percentile_cont(0.5)``, Python's ``statistics.median``).
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from evaluator_support import migrate_evaluator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from aspirasi_core.storage.tables import (
    accounts,
    agencies,
    categories,
    message_log,
    messages,
    ratings,
    subcategories,
)
from aspirasi_evaluator.report import (
    NONE,
    OPEN_STATUSES,
    STATUS_BUCKETS,
    DateRange,
    DrillFilter,
    build_report,
    drill_rows,
    local_midnight,
    trend_bounds,
)
from aspirasi_evaluator.tables import reprimand_messages, reprimands

TZ = "Asia/Makassar"
RANGE = DateRange(date(2026, 3, 1), date(2026, 5, 1), TZ)
SHORT = DateRange(date(2026, 3, 10), date(2026, 4, 2), TZ)
NOW = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)
STATUSES = (*STATUS_BUCKETS, "withdrawn")


# ----------------------------------------------------------------------------- the data


def setup_directory(db: Any) -> dict[str, Any]:
    """Three agencies (one inactive), sub-categories, one author."""

    def go(uow: Any) -> dict[str, Any]:
        conn = uow
        now = datetime(2026, 1, 1, tzinfo=UTC)
        ids = []
        for i, active in enumerate((True, True, False)):
            ids.append(
                conn.execute(
                    insert(agencies)
                    .values(code=f"a{i}", name=f"Agency {i}", is_active=active)
                    .returning(agencies.c.id)
                ).scalar_one()
            )
        cats = {r.code: r.id for r in conn.execute(select(categories))}
        subs = []
        for cat, code in (("aduan", "s-jalan"), ("aduan", "s-air"), ("aspirasi", "s-ide")):
            subs.append(
                (
                    cats[cat],
                    conn.execute(
                        insert(subcategories)
                        .values(category_id=cats[cat], code=code, name=code.upper())
                        .returning(subcategories.c.id)
                    ).scalar_one(),
                )
            )
        author = conn.execute(
            insert(accounts)
            .values(
                email="author@example.org",
                username="author",
                full_name="Author",
                role="user",
                created_at=now,
                password_hash="x",
            )
            .returning(accounts.c.id)
        ).scalar_one()
        return {
            "agencies": ids,
            "pairs": [*subs, (cats["aduan"], None), (cats["aspirasi"], None)],
            "author": author,
        }

    return db.run_sync(go)


def make_dataset(rnd: random.Random, directory: dict[str, Any], size: int) -> dict[str, Any]:
    """Messages with their log entries and ratings, and reprimands."""
    agencies_ = directory["agencies"]
    edges = [RANGE.start, RANGE.end, SHORT.start, SHORT.end]
    msgs = []
    for i in range(size):
        if rnd.random() < 0.25:
            created = rnd.choice(edges) + timedelta(microseconds=rnd.choice((-1, 0, 1)))
        else:
            created = RANGE.start + timedelta(seconds=rnd.uniform(-10 * 86400, 70 * 86400))
        status = rnd.choice(STATUSES)
        agency = None
        pair: tuple[int, int | None] | None = None
        log: list[tuple[str, str | None, str, datetime, int | None]] = [
            ("submit", None, "submitted", created, None)
        ]
        t = created
        if status in ("forwarded", "in_progress", "done") or (
            status == "rejected" and rnd.random() < 0.3
        ):
            pair = rnd.choice(directory["pairs"])
        if status in ("forwarded", "in_progress", "done"):
            agency = rnd.choice(agencies_)
            forwards = rnd.randint(1, 3)
            for k in range(forwards):
                t += timedelta(seconds=rnd.uniform(1, 5 * 86400))
                to = agency if k == forwards - 1 else rnd.choice(agencies_)
                log.append(
                    (
                        "forward" if k == 0 else "reforward",
                        "submitted" if k == 0 else "forwarded",
                        "forwarded",
                        t,
                        to,
                    )
                )
            if status in ("in_progress", "done"):
                t += timedelta(seconds=rnd.uniform(1, 4 * 86400))
                log.append(("start", "forwarded", "in_progress", t, agency))
                for _ in range(rnd.randint(0, 2)):
                    t += timedelta(seconds=rnd.uniform(1, 86400))
                    log.append(("progress", "in_progress", "in_progress", t, agency))
            if status == "done":
                t += timedelta(seconds=rnd.uniform(1, 20 * 86400))
                log.append(("reply", "in_progress", "done", t, agency))
        elif status == "rejected":
            t += timedelta(seconds=rnd.uniform(1, 86400))
            log.append(("reject", "submitted", "rejected", t, None))
        elif status == "withdrawn":
            t += timedelta(seconds=rnd.uniform(1, 86400))
            log.append(("withdraw", "submitted", "withdrawn", t, None))
        due = None
        if status in OPEN_STATUSES and rnd.random() < 0.8:
            due = NOW + timedelta(seconds=rnd.choice((0, -1, 1, rnd.uniform(-9e5, 9e5))))
        stars = rnd.randint(1, 5) if status == "done" and rnd.random() < 0.6 else None
        if status == "submitted":
            pair = None
        msgs.append(
            {
                "i": i,
                "status": status,
                "created": created,
                "agency": agency,
                "category": pair[0] if pair else None,
                "subcategory": pair[1] if pair else None,
                "due": due,
                "log": log,
                "stars": stars,
            }
        )
    reps = [
        {
            "agency": rnd.choice(agencies_),
            "created": RANGE.start + timedelta(seconds=rnd.uniform(-5 * 86400, 70 * 86400)),
        }
        for _ in range(rnd.randint(0, 4))
    ]
    return {"messages": msgs, "reprimands": reps}


def milestones(log: list[tuple[str, str | None, str, datetime, int | None]]) -> dict[str, Any]:
    """The message's milestones as its transitions set them (the core's
    ``workflow.milestones``): last forward, the start, the final status."""
    out: dict[str, Any] = {}
    for action, _src, dst, at, _agency in log:
        if action in ("forward", "reforward"):
            out["forwarded_at"] = at
        if action == "start":
            out["started_at"] = at
        if dst in ("done", "rejected", "withdrawn"):
            out["closed_at"] = at
    return out


def load(db: Any, directory: dict[str, Any], data: dict[str, Any]) -> None:
    def go(uow: Any) -> None:
        conn = uow
        for table in (reprimand_messages, reprimands, ratings, message_log, messages):
            conn.execute(delete(table))
        for msg in data["messages"]:
            mid = conn.execute(
                insert(messages)
                .values(
                    ticket=f"T-{msg['i']}",
                    author_id=directory["author"],
                    subject=f"Subject {msg['i']}",
                    body="b",
                    status=msg["status"],
                    category_id=msg["category"],
                    subcategory_id=msg["subcategory"],
                    agency_id=msg["agency"],
                    created_at=msg["created"],
                    updated_at=msg["created"],
                    due_at=msg["due"],
                    **milestones(msg["log"]),
                )
                .returning(messages.c.id)
            ).scalar_one()
            msg["id"] = mid
            conn.execute(
                insert(message_log),
                [
                    {
                        "message_id": mid,
                        "action": action,
                        "from_status": src,
                        "to_status": dst,
                        "at": at,
                        "agency_id": agency,
                        "note": "",
                    }
                    for action, src, dst, at, agency in msg["log"]
                ],
            )
            if msg["stars"] is not None:
                conn.execute(
                    insert(ratings).values(
                        message_id=mid, stars=msg["stars"], created_at=msg["log"][-1][3]
                    )
                )
        for rep in data["reprimands"]:
            conn.execute(
                insert(reprimands).values(
                    agency_id=rep["agency"],
                    issued_by=directory["author"],
                    text="t",
                    created_at=rep["created"],
                )
            )

    db.run_sync(go)


# ----------------------------------------------------------------------------- the model


def expected(data: dict[str, Any], rng: DateRange) -> dict[str, Any]:
    inside = [
        m
        for m in data["messages"]
        if rng.start <= m["created"] < rng.end and m["status"] != "withdrawn"
    ]
    counts: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cat_counts: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sub_counts: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overdue: dict[Any, int] = defaultdict(int)
    sub_overdue: dict[Any, int] = defaultdict(int)
    confirm: dict[Any, list[float]] = defaultdict(list)
    close: dict[Any, list[float]] = defaultdict(list)
    stars: dict[Any, list[int]] = defaultdict(list)
    for m in inside:
        counts[m["agency"]][m["status"]] += 1
        counts["total"][m["status"]] += 1
        cat_counts[m["category"]][m["status"]] += 1
        sub_counts[(m["category"], m["subcategory"])][m["status"]] += 1
        late = m["due"] is not None and m["due"] <= NOW and m["status"] in OPEN_STATUSES
        if late:
            overdue[m["agency"]] += 1
            overdue["total"] += 1
            sub_overdue[(m["category"], m["subcategory"])] += 1
        last_forward = None
        for action, _src, dst, at, agency in m["log"]:
            if action in ("forward", "reforward"):
                last_forward = at
            if action == "start" and last_forward is not None:
                secs = (at - last_forward).total_seconds()
                confirm[agency].append(secs)
                confirm["total"].append(secs)
            if dst == "done":
                secs = (at - m["created"]).total_seconds()
                close[m["agency"]].append(secs)
                close["total"].append(secs)
        if m["stars"] is not None:
            stars[m["agency"]].append(m["stars"])
            stars["total"].append(m["stars"])
    reps: dict[Any, int] = defaultdict(int)
    for r in data["reprimands"]:
        if rng.start <= r["created"] < rng.end:
            reps[r["agency"]] += 1
            reps["total"] += 1
    _granularity, periods = trend_bounds(rng)
    bounds = [
        (local_midnight(a, rng.timezone), local_midnight(b, rng.timezone)) for a, b in periods
    ]
    submitted = [sum(1 for m in inside if lo <= m["created"] < hi) for lo, hi in bounds]
    closed = [
        sum(
            1
            for m in data["messages"]
            for _a, _s, dst, at, _g in m["log"]
            if dst == "done" and lo <= at < hi
        )
        for lo, hi in bounds
    ]
    return {
        "counts": counts,
        "cat_counts": cat_counts,
        "sub_counts": sub_counts,
        "overdue": overdue,
        "sub_overdue": sub_overdue,
        "confirm": confirm,
        "close": close,
        "stars": stars,
        "reprimands": reps,
        "submitted": submitted,
        "closed": closed,
        "inside": inside,
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def check_median(got: Any, values: list[float]) -> None:
    """The count and the value are exact (to the database's arithmetic on
    timestamps: well under a millisecond)."""
    want = _median(values)
    assert got.count == len(values)
    if want is None:
        assert got.seconds is None
    else:
        assert got.seconds == pytest.approx(want, abs=0.001)


def check_agency_line(row: Any, exp: dict[str, Any], key: Any) -> None:
    assert {s: row.count(s) for s in STATUS_BUCKETS} == {
        s: exp["counts"].get(key, {}).get(s, 0) for s in STATUS_BUCKETS
    }, key
    assert row.overdue == exp["overdue"].get(key, 0), key
    check_median(row.confirm, exp["confirm"].get(key, []))
    check_median(row.close, exp["close"].get(key, []))
    stars = exp["stars"].get(key, [])
    assert row.rating_count == len(stars)
    if stars:
        assert row.rating_average == pytest.approx(sum(stars) / len(stars))
    else:
        assert row.rating_average is None
    if key is not None:
        assert row.reprimands == exp["reprimands"].get(key, 0)


def check(db: Any, directory: dict[str, Any], data: dict[str, Any], rng: DateRange) -> None:
    exp = expected(data, rng)
    report = db.run_sync(lambda uow: build_report(uow, rng, NOW), write=False)
    # Agencies (the inactive one only with data) and the "no agency" line.
    by_key = {r.key: r for r in report.agencies}
    for key in directory["agencies"]:
        if key in by_key:
            check_agency_line(by_key[key], exp, key)
        else:
            assert key == directory["agencies"][2]
            assert not exp["counts"].get(key) and not exp["reprimands"].get(key)
            assert not exp["overdue"].get(key)
    if exp["counts"].get(None) or exp["overdue"].get(None):
        check_agency_line(by_key[None], exp, None)
    else:
        assert None not in by_key
    check_agency_line(report.total, exp, "total")
    assert report.total.reprimands == exp["reprimands"].get("total", 0)
    assert report.total.total == len(exp["inside"])
    # Categories (summed over their sub-categories) and sub-categories.
    for row in report.categories:
        assert {s: row.count(s) for s in STATUS_BUCKETS} == {
            s: exp["cat_counts"].get(row.key, {}).get(s, 0) for s in STATUS_BUCKETS
        }
        assert row.overdue == sum(
            n for (cat, _sub), n in exp["sub_overdue"].items() if cat == row.key
        )
    assert sum(r.total for r in report.categories) == len(exp["inside"])
    for row in report.subcategories:
        key = (row.parent_key, row.key)
        assert {s: row.count(s) for s in STATUS_BUCKETS} == {
            s: exp["sub_counts"].get(key, {}).get(s, 0) for s in STATUS_BUCKETS
        }
        assert row.overdue == exp["sub_overdue"].get(key, 0)
    assert sum(r.total for r in report.subcategories) == len(exp["inside"])
    # The trend.
    assert [p.submitted for p in report.trend.points] == exp["submitted"]
    assert [p.closed for p in report.trend.points] == exp["closed"]
    # Drill-down: each agency's count per status is the number of rows listed.
    for row in report.agencies:
        for status in STATUS_BUCKETS:
            flt = DrillFilter(
                range=rng, agency_id=NONE if row.key is None else row.key, status=status
            )
            got = db.run_sync(lambda uow, f=flt: drill_rows(uow, f, NOW, limit=10_000), write=False)
            assert len(got) == row.count(status)
        flt = DrillFilter(range=rng, agency_id=NONE if row.key is None else row.key, overdue=True)
        got = db.run_sync(lambda uow, f=flt: drill_rows(uow, f, NOW, limit=10_000), write=False)
        assert {r.id for r in got} == {
            m["id"]
            for m in exp["inside"]
            if m["agency"] == row.key
            and m["due"] is not None
            and m["due"] <= NOW
            and m["status"] in OPEN_STATUSES
        }
        assert all(r.overdue for r in got)


# ----------------------------------------------------------------------------- the tests


@pytest.fixture
def prepared(sqlite_database: Any) -> tuple[Any, dict[str, Any]]:
    migrate_evaluator(sqlite_database)
    return sqlite_database, setup_directory(sqlite_database)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rnd=st.randoms(use_true_random=False),
    size=st.integers(min_value=0, max_value=40),
    short=st.booleans(),
)
def test_the_report_equals_a_plain_python_count(prepared, rnd, size, short):
    db, directory = prepared
    data = make_dataset(rnd, directory, size)
    load(db, directory, data)
    check(db, directory, data, SHORT if short else RANGE)


def test_the_same_on_both_databases(database):
    migrate_evaluator(database)
    directory = setup_directory(database)
    data = make_dataset(random.Random(20261128), directory, 80)
    load(database, directory, data)
    check(database, directory, data, RANGE)
    check(database, directory, data, SHORT)
    report = database.run_sync(lambda uow: build_report(uow, RANGE, NOW), write=False)
    # The data set is rich enough to exercise every figure.
    assert report.total.confirm.count >= 3 and report.total.close.count >= 3
    assert report.total.overdue >= 1 and report.total.rating_count >= 1


def test_medians_of_even_and_odd_counts(sqlite_database):
    """Exact values: 1 h, 3 h, 5 h → 3 h; with 11 h added → 4 h."""
    migrate_evaluator(sqlite_database)
    directory = setup_directory(sqlite_database)
    agency = directory["agencies"][0]
    base = RANGE.start + timedelta(days=1)

    def message(i: int, hours: float) -> dict[str, Any]:
        forward = base + timedelta(minutes=5)
        start = forward + timedelta(hours=hours)
        reply = base + timedelta(hours=2 * hours)
        return {
            "i": i,
            "status": "done",
            "created": base,
            "agency": agency,
            "category": None,
            "subcategory": None,
            "due": None,
            "stars": None,
            "log": [
                ("submit", None, "submitted", base, None),
                ("forward", "submitted", "forwarded", forward, agency),
                ("start", "forwarded", "in_progress", start, agency),
                ("reply", "in_progress", "done", reply, agency),
            ],
        }

    for hours, want in (((1, 3, 5), 3), ((1, 3, 5, 11), 4)):
        data = {"messages": [message(i, h) for i, h in enumerate(hours)], "reprimands": []}
        load(sqlite_database, directory, data)
        report = sqlite_database.run_sync(lambda uow: build_report(uow, RANGE, NOW), write=False)
        [row] = [r for r in report.agencies if r.key == agency]
        assert row.confirm.seconds == pytest.approx(want * 3600, abs=0.01)
        assert row.close.seconds == pytest.approx(2 * want * 3600, abs=0.01)
        assert row.confirm.hours == pytest.approx(want, abs=1e-5)


def test_range_validation():
    now = datetime(2026, 7, 1, tzinfo=UTC)
    default = DateRange.parse(None, "", now=now, tz=TZ)
    assert (default.start_day, default.end_day) == (date(2026, 1, 1), date(2027, 1, 1))
    assert default.query() == {"from": "2026-01-01", "to": "2026-12-31"}
    # The local midnight of Asia/Makassar (UTC+8) is 16:00 UTC the day before.
    assert default.start == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    # ``to`` is the last day included: five years at most.
    ok = DateRange.parse("2021-02-28", "2026-02-27", now=now, tz=TZ)
    assert ok.days == 1826 and ok.last_day == date(2026, 2, 27)
    one_day = DateRange.parse("2026-05-01", "2026-05-01", now=now, tz=TZ)
    assert (one_day.start_day, one_day.end_day, one_day.days) == (
        date(2026, 5, 1),
        date(2026, 5, 2),
        1,
    )
    cases = {
        ("2026-13-01", "2026-12-01"): ("from", "date_format"),
        ("20260101", "2026-12-01"): ("from", "date_format"),
        ("2026-01-01", "tomorrow"): ("to", "date_format"),
        ("2026-05-02", "2026-05-01"): ("to", "range_order"),
        ("2026-05-09", "2026-05-01"): ("to", "range_order"),
        ("2020-01-01", "2025-01-01"): ("to", "range_too_long"),
    }
    from aspirasi_core.domain.errors import Invalid

    for (raw_from, raw_to), (field, code) in cases.items():
        with pytest.raises(Invalid) as caught:
            DateRange.parse(raw_from, raw_to, now=now, tz=TZ)
        assert [(e.field, e.code) for e in caught.value.errors] == [(field, code)]


def test_trend_periods_are_weeks_for_short_ranges_and_months_otherwise():
    kind, weeks = trend_bounds(SHORT)
    assert kind == "week"
    assert weeks[0] == (date(2026, 3, 10), date(2026, 3, 17))
    assert weeks[-1] == (date(2026, 3, 31), date(2026, 4, 2))
    kind, months = trend_bounds(DateRange(date(2026, 1, 15), date(2026, 12, 31), TZ))
    assert kind == "month"
    assert months[0] == (date(2026, 1, 15), date(2026, 2, 1))
    assert months[-1] == (date(2026, 12, 1), date(2026, 12, 31))
    assert len(months) == 12


def test_medians_are_exact_to_the_second(database):
    """Durations a few seconds apart (one minute's bin of the old roll-ups):
    the median is the middle one, on both databases."""
    migrate_evaluator(database)
    directory = setup_directory(database)
    agency = directory["agencies"][0]
    base = RANGE.start + timedelta(days=1)
    seconds = (3600, 3601, 3602, 3650, 3659)

    def message(i: int, secs: int) -> dict[str, Any]:
        start = base + timedelta(seconds=secs)
        return {
            "i": i,
            "status": "in_progress",
            "created": base,
            "agency": agency,
            "category": None,
            "subcategory": None,
            "due": None,
            "stars": None,
            "log": [
                ("submit", None, "submitted", base, None),
                ("forward", "submitted", "forwarded", base, agency),
                ("start", "forwarded", "in_progress", start, agency),
            ],
        }

    data = {"messages": [message(i, s) for i, s in enumerate(seconds)], "reprimands": []}
    load(database, directory, data)
    report = database.run_sync(lambda uow: build_report(uow, RANGE, NOW), write=False)
    assert report.total.confirm.count == 5
    assert report.total.confirm.seconds == pytest.approx(3602, abs=0.001)
    [row] = [r for r in report.agencies if r.key == agency]
    assert row.confirm == report.total.confirm


def test_overdue_follows_the_deadline(sqlite_database):
    """The SOP clock re-times ``due_at`` without a domain event: the report
    reads it live, so the overdue counts follow at once."""
    migrate_evaluator(sqlite_database)
    directory = setup_directory(sqlite_database)
    data = make_dataset(random.Random(7), directory, 60)
    load(sqlite_database, directory, data)
    late = [
        m
        for m in data["messages"]
        if m["status"] in OPEN_STATUSES
        and m["due"] is not None
        and m["due"] <= NOW
        and RANGE.start <= m["created"] < RANGE.end
    ]
    assert len(late) >= 2

    def overdue() -> int:
        report = sqlite_database.run_sync(lambda uow: build_report(uow, RANGE, NOW), write=False)
        return report.total.overdue

    assert overdue() == len(late)
    moved, cleared = late[0]["id"], late[1]["id"]
    later = NOW + timedelta(days=3)

    def retime(uow: Any) -> None:
        uow.execute(update(messages).where(messages.c.id == moved).values(due_at=later))
        uow.execute(update(messages).where(messages.c.id == cleared).values(due_at=None))

    sqlite_database.run_sync(retime)
    assert overdue() == len(late) - 2


def test_a_sub_category_of_another_category_is_still_counted(sqlite_database):
    """The classification is counted per known pair (sub-category and its
    category); a pair the use cases never write (imported rows) makes the
    totals differ, and the report counts the classification with a plain
    ``GROUP BY`` instead: every message is still in its category's line (the
    sub-category table lists the directory's pairs only)."""
    migrate_evaluator(sqlite_database)
    directory = setup_directory(sqlite_database)
    data = make_dataset(random.Random(11), directory, 40)
    (cat_a, sub_a), (cat_b, _none) = directory["pairs"][0], directory["pairs"][-1]
    assert cat_a != cat_b
    odd = next(m for m in data["messages"] if m["status"] == "forwarded")
    odd["category"], odd["subcategory"] = cat_b, sub_a  # sub_a belongs to cat_a
    stray = next(m for m in data["messages"] if m["status"] == "rejected")
    stray["category"], stray["subcategory"] = None, sub_a
    for msg in (odd, stray):
        msg["created"] = RANGE.start + timedelta(days=3)
    load(sqlite_database, directory, data)
    exp = expected(data, RANGE)
    report = sqlite_database.run_sync(lambda uow: build_report(uow, RANGE, NOW), write=False)
    assert sum(r.total for r in report.categories) == report.total.total == len(exp["inside"])
    for row in report.categories:
        assert {s: row.count(s) for s in STATUS_BUCKETS} == {
            s: exp["cat_counts"].get(row.key, {}).get(s, 0) for s in STATUS_BUCKETS
        }
    for row in report.subcategories:
        key = (row.parent_key, row.key)
        assert row.total == sum(exp["sub_counts"].get(key, {}).values())


def test_the_report_walks_indexes_and_sorts_nothing_on_sqlite(sqlite_database):
    """Every statement of the report on SQLite reads through an index (no
    ``SCAN`` of the core's tables) and builds no temporary B-tree (a sort of the
    range: seconds at a million messages), but for the medians' ordered middles."""
    from sqlalchemy import event

    migrate_evaluator(sqlite_database)
    directory = setup_directory(sqlite_database)
    load(sqlite_database, directory, make_dataset(random.Random(3), directory, 30))
    engine = sqlite_database.engine
    seen: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "messages" in statement or "message_log" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            build_report(conn, RANGE, NOW)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) >= 4
    with engine.connect() as conn:
        for statement, parameters in seen:
            plan = " | ".join(
                str(row[-1])
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            if "started_at" in statement or "closed_at" in statement:
                # The medians read the milestones from an index alone. (At 1M
                # messages SQLite needs the statistics the service gathers for
                # that; on these few rows, sampled statistics make its plans
                # vary from run to run, so the test reads the plans without.)
                assert "USING COVERING INDEX" in plan and "USING INDEX " not in plan, plan
            if "OFFSET" in statement:
                # A median on SQLite: the middle of an agency's (or every
                # agency's) durations in order, a bounded sort of its range.
                plan = plan.replace("USE TEMP B-TREE FOR ORDER BY", "")
            assert "TEMP B-TREE" not in plan, plan
            for table in ("messages", "message_log", "ratings"):
                assert f"SCAN {table}" not in plan, plan
