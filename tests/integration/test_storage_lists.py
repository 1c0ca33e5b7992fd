"""The message lists: keyset pages, filters and access scopes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aspirasi_core.domain.model import Status
from aspirasi_core.domain.policy import MessageScope
from aspirasi_core.services.ports import BackofficeFilter

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _all_pages(fetch, page_size: int) -> list[int]:
    """Walk every page the way the services do; fail on an overlap."""
    ids: list[int] = []
    before = None
    while True:
        page = fetch(before, page_size)
        assert len(page) <= page_size
        ids += [m.id for m in page]
        if len(page) < page_size:
            break
        before = page[-1].id
    assert len(ids) == len(set(ids)), "pages overlap"
    return ids


def test_list_by_author_pages_without_gaps_or_overlaps(database, make) -> None:
    author, other = make.account(), make.account()
    mine = [make.message(author.id) for _ in range(11)]
    make.message(other.id)
    make.message(author.id, status=Status.WITHDRAWN)
    expected = sorted((m.id for m in mine), reverse=True)

    for size in (1, 3, 11, 50):
        got = _all_pages(
            lambda before, limit: database.run_sync(
                lambda uow: uow.messages.list_by_author(author.id, before_id=before, limit=limit),
                write=False,
            ),
            size,
        )
        assert got == expected
    first = database.run_sync(
        lambda uow: uow.messages.list_by_author(author.id, before_id=None, limit=1)
    )
    assert first[0] == mine[-1] and first[0].attachments == ()


def test_list_public(database, make) -> None:
    author = make.account()
    agency = make.agency()
    shown = [
        make.message(
            author.id, status=Status.FORWARDED, agency_id=agency.id, subject="Banjir 50% rumah"
        ),
        make.message(author.id, status=Status.IN_PROGRESS, agency_id=agency.id, body="JALAN_RUSAK"),
        make.message(author.id, status=Status.DONE, agency_id=agency.id, subject="Lampu jalan"),
    ]
    make.message(author.id)  # submitted
    make.message(author.id, status=Status.REJECTED)
    make.message(author.id, status=Status.WITHDRAWN)
    make.message(
        author.id, status=Status.DONE, agency_id=agency.id, confidential=True, subject="Jalan"
    )

    def public(text=None, before=None, limit=50):
        return [
            m.id
            for m in database.run_sync(
                lambda uow: uow.messages.list_public(before_id=before, limit=limit, text=text),
                write=False,
            )
        ]

    assert public() == [m.id for m in reversed(shown)]
    assert (
        _all_pages(
            lambda b, n: [
                m
                for m in database.run_sync(
                    lambda uow: uow.messages.list_public(before_id=b, limit=n)
                )
            ],
            2,
        )
        == public()
    )
    assert public("jalan") == [shown[2].id, shown[1].id]  # subject or body, any case
    assert public("50%") == [shown[0].id]
    assert public("5_%") == []  # "_" and "%" are literal
    assert public("n_r") == [shown[1].id]
    assert public("") == public()


def test_list_backoffice_filters(database, make) -> None:
    author = make.account()
    a1, a2 = make.agency(), make.agency()
    s1, s2 = make.subcategory("aduan"), make.subcategory("aspirasi")
    m1 = make.message(
        author.id,
        status=Status.FORWARDED,
        agency_id=a1.id,
        category_id=s1.category_id,
        subcategory_id=s1.id,
        created_at=T0,
        subject="Jembatan putus",
    )
    m2 = make.message(
        author.id,
        status=Status.IN_PROGRESS,
        agency_id=a2.id,
        category_id=s2.category_id,
        subcategory_id=s2.id,
        created_at=T0 + timedelta(days=1),
        body="Sekolah bocor",
    )
    m3 = make.message(author.id, created_at=T0 + timedelta(days=2))
    make.message(author.id, status=Status.WITHDRAWN, created_at=T0 + timedelta(days=1))

    def bo(**kw):
        flt = BackofficeFilter(**kw)
        return [
            m.id
            for m in database.run_sync(
                lambda uow: uow.messages.list_backoffice(flt, before_id=None, limit=50), write=False
            )
        ]

    assert bo() == [m3.id, m2.id, m1.id]
    assert bo(statuses=frozenset({Status.FORWARDED, Status.IN_PROGRESS})) == [m2.id, m1.id]
    assert bo(statuses=frozenset({Status.WITHDRAWN})) == []
    assert bo(statuses=frozenset()) == []
    assert bo(agency_id=a1.id) == [m1.id]
    assert bo(category_id=s2.category_id) == [m2.id]
    assert bo(subcategory_id=s1.id) == [m1.id]
    assert bo(created_from=T0 + timedelta(days=1)) == [m3.id, m2.id]
    assert bo(created_to=T0 + timedelta(days=1)) == [m1.id]  # exclusive
    assert bo(created_from=T0, created_to=T0 + timedelta(days=2)) == [m2.id, m1.id]
    assert bo(text="JEMBATAN") == [m1.id]
    assert bo(text="bocor") == [m2.id]
    assert bo(text=m3.ticket.lower()) == [m3.id]
    assert bo(restrict_agency_id=a2.id) == [m2.id]
    assert bo(restrict_agency_id=a2.id, agency_id=a1.id) == []
    assert _all_pages(
        lambda b, n: database.run_sync(
            lambda uow: uow.messages.list_backoffice(BackofficeFilter(), before_id=b, limit=n)
        ),
        1,
    ) == [m3.id, m2.id, m1.id]


def test_list_backoffice_scopes_agree_with_message_scope_matches(database, make) -> None:
    author = make.account()
    a1, a2 = make.agency(), make.agency()
    s1, s2 = make.subcategory("aduan"), make.subcategory("aduan")
    messages = []
    for agency in (None, a1, a2):
        for sub in (None, s1, s2):
            for status in (Status.SUBMITTED, Status.FORWARDED, Status.DONE, Status.WITHDRAWN):
                if status is not Status.SUBMITTED and agency is None:
                    continue
                messages.append(
                    make.message(
                        author.id,
                        status=status,
                        agency_id=agency.id if agency else None,
                        category_id=sub.category_id if sub else None,
                        subcategory_id=sub.id if sub else None,
                    )
                )
    land = MessageScope("land", subcategory_ids=frozenset({s1.id}))
    agency_scope = MessageScope(
        "agency", agency_ids=frozenset({a2.id}), statuses=frozenset({Status.DONE, Status.WITHDRAWN})
    )
    nothing = MessageScope("nothing", category_ids=frozenset())
    everything = MessageScope("everything")
    cases = [
        (),
        (land,),
        (agency_scope,),
        (land, agency_scope),
        (nothing,),
        (everything,),
        (nothing, land),
    ]
    for scopes in cases:
        flt = BackofficeFilter(scopes=scopes)
        got = [
            m.id
            for m in database.run_sync(
                lambda uow, flt=flt: uow.messages.list_backoffice(flt, before_id=None, limit=500)
            )
        ]
        expected = sorted(
            (m.id for m in messages if any(s.matches(m) for s in scopes)), reverse=True
        )
        assert got == expected, scopes
    assert database.run_sync(
        lambda uow: uow.messages.list_backoffice(
            BackofficeFilter(scopes=(land,), restrict_agency_id=a1.id), before_id=None, limit=500
        )
    ) == sorted(
        (m for m in messages if land.matches(m) and m.agency_id == a1.id),
        key=lambda m: m.id,
        reverse=True,
    )


def test_list_by_authors(database, make) -> None:
    ani, budi, citra = make.account(), make.account(), make.account()
    a1 = make.message(ani.id)
    b1 = make.message(budi.id)
    make.message(citra.id)
    a2 = make.message(ani.id, status=Status.DONE)
    make.message(ani.id, status=Status.WITHDRAWN)

    def tracking(ids, limit=50):
        return [
            m.id
            for m in database.run_sync(lambda uow: uow.messages.list_by_authors(ids, limit=limit))
        ]

    assert tracking([ani.id, budi.id]) == [a2.id, b1.id, a1.id]
    assert tracking([ani.id, budi.id], limit=2) == [a2.id, b1.id]
    assert tracking([]) == []


def test_an_agencys_list_pages_across_statuses(database, make) -> None:
    """One agency's list is merged from one index range per status: pages must still
    come out newest first, without gaps or overlaps, whatever the status mix."""
    author = make.account()
    mine, other = make.agency(), make.agency()
    cycle = [Status.FORWARDED, Status.DONE, Status.IN_PROGRESS, Status.DONE, Status.REJECTED]
    ours = [
        make.message(author.id, status=cycle[i % len(cycle)], agency_id=mine.id) for i in range(17)
    ]
    make.message(author.id, status=Status.FORWARDED, agency_id=other.id)
    make.message(author.id)

    def walk(**kw):
        flt = BackofficeFilter(**kw)
        return _all_pages(
            lambda b, n: database.run_sync(
                lambda uow: uow.messages.list_backoffice(flt, before_id=b, limit=n), write=False
            ),
            3,
        )

    newest_first = sorted((m.id for m in ours), reverse=True)
    assert walk(restrict_agency_id=mine.id) == newest_first
    assert walk(agency_id=mine.id) == newest_first
    done = frozenset({Status.DONE})
    assert walk(restrict_agency_id=mine.id, statuses=done) == [
        m.id for m in sorted(ours, key=lambda m: -m.id) if m.status is Status.DONE
    ]
    two = frozenset({Status.DONE, Status.FORWARDED, Status.WITHDRAWN})
    assert walk(restrict_agency_id=mine.id, statuses=two, text="subject") == [
        m.id for m in sorted(ours, key=lambda m: -m.id) if m.status in two
    ]
    assert walk(restrict_agency_id=mine.id, statuses=frozenset()) == []
    [first] = database.run_sync(
        lambda uow: uow.messages.list_backoffice(
            BackofficeFilter(restrict_agency_id=mine.id), before_id=None, limit=1
        )
    )
    assert first == ours[-1] and first.created_at.tzinfo is UTC


def _rows_removed(plan: dict) -> int:
    """Rows every node of an EXPLAIN ANALYZE (JSON) plan read and threw away."""
    removed = int(plan.get("Rows Removed by Filter", 0)) * int(plan.get("Actual Loops", 1))
    return removed + sum(_rows_removed(p) for p in plan.get("Plans", ()))


def test_the_public_list_reads_no_newer_unpublished_messages(pg_database, make) -> None:
    """Thousands of newer messages that are not public (submitted, confidential) do
    not slow the first public page: it reads index ranges of the public statuses
    instead of walking the primary key backwards past every newer message."""
    from sqlalchemy import text

    from aspirasi_core.storage.repositories.message_lists import public_statement

    author = make.account()
    insert = (
        "INSERT INTO messages (ticket, author_id, subject, body, status, confidential,"
        " anonymous, created_at, updated_at) SELECT :prefix || g, :author, 's', 'b',"
        " (ARRAY[{statuses}])[1 + g % {n}], false, false, now(), now()"
        " FROM generate_series(1, :count) g"
    )

    def pile_up(uow) -> list[int]:
        conn = uow.connection
        # Mostly public messages, as in a service that has run for a while...
        conn.execute(
            text(insert.format(statuses="'forwarded', 'in_progress', 'done'", n=3)),
            {"prefix": "OLD-", "author": author.id, "count": 6000},
        )
        public = conn.execute(
            text("SELECT id FROM messages WHERE status <> 'submitted' ORDER BY id DESC LIMIT 20")
        ).scalars()
        # ...then thousands of new ones nobody has forwarded yet.
        conn.execute(
            text(insert.format(statuses="'submitted'", n=1)),
            {"prefix": "NEW-", "author": author.id, "count": 3000},
        )
        conn.execute(text("ANALYZE messages"))
        return list(public)

    newest_public = pg_database.run_sync(pile_up)

    def explain(uow) -> dict:
        # The statement as the repository runs it, with a page of 20.
        compiled = public_statement(False, False).compile(dialect=uow.connection.dialect)
        plan = uow.connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + compiled.string, {**compiled.params, "limit": 20}
        ).scalar()
        return plan[0]["Plan"]

    plan = pg_database.run_sync(explain, write=False)
    assert _rows_removed(plan) < 100, plan
    page = pg_database.run_sync(
        lambda uow: uow.messages.list_public(before_id=None, limit=20), write=False
    )
    assert [m.id for m in page] == newest_public
