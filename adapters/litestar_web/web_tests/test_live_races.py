"""Races, resends and deadlocks against real servers: the demo served by
``aspirasi serve --workers 2`` on SQLite and on PostgreSQL, driven over HTTP by
threads started together (no mocks).

* 20 rounds of each race: re-forward against confirm, two re-forwards, two
  replies, two ratings, withdraw against forward. Each round has exactly one
  winner and one 409, and the log has one entry for the win. Even rounds send
  the version the client saw (``If-Match``): the loser is told
  ``message_changed``; odd rounds send none, and the server's own locking still
  lets one win.
* The same ``Idempotency-Key`` sent 100 times at once creates one message.
* PostgreSQL: a real deadlock inside a transition is retried and answers 200; a
  lock that stays taken answers 503 with ``Retry-After`` once the lock timeout
  ran out, without a retry, and the same request succeeds once the lock is gone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from tests.racing import run_threads, wait_for_lock_waiter

from .live_demo import BACKENDS, DemoServer, new_database, serve_demo

ROUNDS = 20


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    """The demo served by two workers, on SQLite and on PostgreSQL."""
    folder = tmp_path_factory.mktemp(f"live-{request.param}")
    with (
        new_database(request, folder, request.param) as url,
        serve_demo(folder, url, workers=2) as server,
    ):
        yield server


# ---------------------------------------------------------------------- the workflow


def _ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def _submit(s: DemoServer, subject: str = "Jalan rusak") -> dict[str, Any]:
    with s.client("warga") as c:
        return _ok(c.post("/api/v1/messages", json={"subject": subject, "body": "Berlubang."}), 201)


def _forward_body(s: DemoServer, agency: str) -> dict[str, Any]:
    return s.forward_body(agency)


def _forwarded(s: DemoServer) -> dict[str, Any]:
    mid = _submit(s)["id"]
    with s.client("admin") as c:
        return _ok(c.post(f"/api/v1/messages/{mid}/forward", json=_forward_body(s, "pupr")))


def _in_progress(s: DemoServer) -> dict[str, Any]:
    mid = _forwarded(s)["id"]
    with s.client("operator.pupr") as c:
        return _ok(c.post(f"/api/v1/messages/{mid}/start", json={}))


def _done(s: DemoServer) -> dict[str, Any]:
    mid = _in_progress(s)["id"]
    with s.client("operator.pupr") as c:
        return _ok(c.post(f"/api/v1/messages/{mid}/reply", json={"answer": "Sudah."}))


def _detail(s: DemoServer, mid: int) -> dict[str, Any]:
    with s.client("admin") as c:
        return _ok(c.get(f"/api/v1/messages/{mid}"))


Call = Callable[[httpx.Client, dict[str, str]], httpx.Response]


def _race(
    s: DemoServer,
    message: dict[str, Any],
    round_: int,
    one: tuple[str, Call],
    other: tuple[str, Call],
) -> tuple[bool, list[httpx.Response]]:
    """Send ``one`` and ``other`` (login, call) at the same moment, each from its own
    client; on even rounds with ``If-Match`` set to the version both saw."""
    with_version = round_ % 2 == 0
    headers = {"If-Match": f'"{message["version"]}"'} if with_version else {}
    with s.client(one[0]) as a, s.client(other[0]) as b:
        pairs = ((a, one[1]), (b, other[1]))
        answers = run_threads(2, lambda i: pairs[i][1](pairs[i][0], headers))
    return with_version, answers


def _one_winner(
    with_version: bool, answers: list[httpx.Response], win: int, lose_codes: set[str]
) -> int:
    """Exactly one ``win`` and one 409; the index of the winner."""
    statuses = sorted(r.status_code for r in answers)
    assert statuses == sorted([win, 409]), [(r.status_code, r.text) for r in answers]
    loser = next(r for r in answers if r.status_code == 409)
    code = loser.json()["code"]
    if with_version:
        assert code == "message_changed", loser.text
    else:
        assert code in lose_codes, loser.text
    return next(i for i, r in enumerate(answers) if r.status_code == win)


def _actions(detail: dict[str, Any]) -> list[str]:
    return [entry["action"] for entry in detail["log"]]


def test_reforward_against_confirm(live: DemoServer) -> None:
    """Issue 19 item 1: the re-forward must never be undone by the old agency's
    confirm (a lost update), nor the old agency learn "not found"."""
    s = live
    for round_ in range(ROUNDS):
        message = _forwarded(s)
        mid = message["id"]
        with_version, answers = _race(
            s,
            message,
            round_,
            (
                "admin",
                lambda c, h: c.post(
                    f"/api/v1/messages/{mid}/forward", json=_forward_body(s, "biro"), headers=h
                ),
            ),
            (
                "operator.pupr",
                lambda c, h: c.post(f"/api/v1/messages/{mid}/start", json={}, headers=h),
            ),
        )
        winner = _one_winner(with_version, answers, 200, {"message_changed", "illegal_transition"})
        detail = _detail(s, mid)
        actions = _actions(detail)
        assert actions.count("reforward") + actions.count("start") == 1, actions
        if winner == 0:  # the re-forward
            assert (detail["status"], detail["agency"]["id"]) == ("forwarded", s.ids["biro"])
        else:
            assert (detail["status"], detail["agency"]["id"]) == ("in_progress", s.ids["pupr"])
        assert detail["version"] == message["version"] + 1


def test_two_reforwards(live: DemoServer) -> None:
    """Issue 19 item 2: two admins re-forward what they both saw; the second one is
    told, instead of silently overwriting the first."""
    s = live
    for round_ in range(ROUNDS):
        message = _forwarded(s)
        mid = message["id"]
        headers = {"If-Match": str(message["version"])}  # both acted on what they saw
        targets = ("biro", "dishub")
        with s.client("admin") as a, s.client("superadmin") as b:
            clients = (a, b)
            answers = run_threads(
                2,
                lambda i: clients[i].post(
                    f"/api/v1/messages/{mid}/forward",
                    json=_forward_body(s, targets[i]),
                    headers=headers,
                ),
            )
        winner = _one_winner(True, answers, 200, set())
        detail = _detail(s, mid)
        assert _actions(detail).count("reforward") == 1
        assert detail["agency"]["id"] == s.ids[targets[winner]], round_


def test_two_replies(live: DemoServer) -> None:
    s = live
    for round_ in range(ROUNDS):
        message = _in_progress(s)
        mid = message["id"]
        answers_text = ("Jawaban satu.", "Jawaban dua.")
        with_version, answers = _race(
            s,
            message,
            round_,
            (
                "operator.pupr",
                lambda c, h: c.post(
                    f"/api/v1/messages/{mid}/reply", json={"answer": answers_text[0]}, headers=h
                ),
            ),
            (
                "operator.pupr",
                lambda c, h: c.post(
                    f"/api/v1/messages/{mid}/reply", json={"answer": answers_text[1]}, headers=h
                ),
            ),
        )
        winner = _one_winner(with_version, answers, 200, {"illegal_transition", "message_changed"})
        detail = _detail(s, mid)
        assert _actions(detail).count("reply") == 1
        assert detail["status"] == "done"
        assert detail["reply"]["answer"] == answers_text[winner]


def test_two_ratings(live: DemoServer) -> None:
    s = live
    for round_ in range(ROUNDS):
        message = _done(s)
        mid = message["id"]
        with_version, answers = _race(
            s,
            message,
            round_,
            (
                "warga",
                lambda c, h: c.post(
                    f"/api/v1/messages/{mid}/rating", json={"stars": 2, "comment": ""}, headers=h
                ),
            ),
            (
                "warga",
                lambda c, h: c.post(
                    f"/api/v1/messages/{mid}/rating", json={"stars": 5, "comment": ""}, headers=h
                ),
            ),
        )
        winner = _one_winner(with_version, answers, 201, {"rating_exists", "message_changed"})
        detail = _detail(s, mid)
        assert detail["rating"]["stars"] == (2, 5)[winner]
        assert detail["version"] == message["version"] + 1


def test_withdraw_against_forward(live: DemoServer) -> None:
    s = live
    for round_ in range(ROUNDS):
        message = _submit(s)
        mid = message["id"]
        message = {**message, "version": 1}
        with_version, answers = _race(
            s,
            message,
            round_,
            ("warga", lambda c, h: c.delete(f"/api/v1/messages/{mid}", headers=h)),
            (
                "admin",
                lambda c, h: c.post(
                    f"/api/v1/messages/{mid}/forward", json=_forward_body(s, "pupr"), headers=h
                ),
            ),
        )
        withdrawn = answers[0].status_code == 204
        win = 204 if withdrawn else 200
        statuses = sorted(r.status_code for r in answers)
        assert statuses == sorted([win, 409]), [(r.status_code, r.text) for r in answers]
        loser = next(r for r in answers if r.status_code == 409)
        if with_version:
            assert loser.json()["code"] == "message_changed"
        else:
            assert loser.json()["code"] in {"message_changed", "illegal_transition"}
        if withdrawn:  # gone from every page: the log is in the database only
            with s.client("warga") as c:
                assert c.get(f"/api/v1/messages/{mid}").status_code == 404
            assert _log_actions_in_database(s, mid) == ["submit", "withdraw"]
        else:
            assert _actions(_detail(s, mid)) == ["submit", "forward"]


def _log_actions_in_database(s: DemoServer, mid: int) -> list[str]:
    engine = create_engine(
        s.database_url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT action FROM message_log WHERE message_id = :m ORDER BY id"),
                    {"m": mid},
                ).scalars()
            )
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- idempotency


def test_one_key_sent_100_times_at_once_creates_one_message(live: DemoServer) -> None:
    s = live
    key = str(uuid.uuid4())
    subject = f"Sekali saja {key[:8]}"
    token = s.token("warga")

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=s.base_url, timeout=60) as c:
            return c.post(
                "/api/v1/messages",
                json={"subject": subject, "body": "Dikirim ulang oleh ponsel."},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            )

    answers = run_threads(100, send)
    created = [r for r in answers if r.status_code == 201]
    busy = [r for r in answers if r.status_code == 409]
    assert len(created) + len(busy) == 100, [(r.status_code, r.text) for r in answers]
    assert created, "no request got the message"
    assert {r.content for r in created} == {created[0].content}
    assert {r.json()["code"] for r in busy} <= {"idempotency_in_progress"}
    with s.client("warga") as c:
        mine = c.get("/api/v1/me/messages", params={"limit": 100}).json()["items"]
        assert [m["subject"] for m in mine].count(subject) == 1
        # Later resends get the first answer, marked as such; another body is refused.
        again = c.post(
            "/api/v1/messages",
            json={"subject": subject, "body": "Dikirim ulang oleh ponsel."},
            headers={"Idempotency-Key": key},
        )
        assert again.status_code == 201 and again.content == created[0].content
        assert again.headers["Idempotent-Replayed"] == "true"
        other = c.post(
            "/api/v1/messages",
            json={"subject": subject, "body": "Isi lain."},
            headers={"Idempotency-Key": key},
        )
        assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


# ---------------------------------------------------------------------- deadlocks and locks


@pytest.fixture
def pg_live(live: DemoServer) -> DemoServer:
    if live.dialect != "postgresql":
        pytest.skip("row locks and deadlocks: PostgreSQL (SQLite runs one write at a time)")
    return live


def _external(s: DemoServer) -> Any:
    engine = create_engine(
        s.database_url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool
    )
    return engine


def test_a_deadlock_in_a_transition_is_retried(pg_live: DemoServer) -> None:
    """Another session holds the target agency's row and then asks for the message
    the forward has locked: PostgreSQL aborts the forward (40P01, the first to
    wait); the server runs it again and answers 200, with one log entry."""
    s = pg_live
    mid = _submit(s)["id"]
    engine = _external(s)
    try:
        with engine.connect() as other:
            other.begin()
            # Only the server's session checks for deadlocks in time: it is the victim.
            other.execute(text("SET LOCAL deadlock_timeout = '30s'"))
            other.execute(
                text("SELECT id FROM agencies WHERE id = :a FOR UPDATE"), {"a": s.ids["biro"]}
            )
            other_pid = other.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with s.client("admin") as admin:
                holder: dict[str, httpx.Response] = {}

                def forward(i: int) -> None:
                    if i == 0:
                        holder["r"] = admin.post(
                            f"/api/v1/messages/{mid}/forward", json=_forward_body(s, "biro")
                        )
                        return
                    # The forward holds the message and waits for the agency row.
                    assert wait_for_lock_waiter(engine, exclude_pid=other_pid)
                    other.execute(
                        text("SELECT id FROM messages WHERE id = :m FOR UPDATE"), {"m": mid}
                    )
                    other.commit()

                run_threads(2, forward)
    finally:
        engine.dispose()
    assert holder["r"].status_code == 200, holder["r"].text
    assert [e["reason"] for e in s.events("transaction_retried")].count("40P01") >= 1
    assert _actions(_detail(s, mid)) == ["submit", "forward"]


def _named_busy(s: DemoServer) -> int:
    return sum(e.get("code") == "database_busy" for e in s.events("service_unavailable"))


def test_a_lock_that_stays_taken_answers_503_then_recovers(pg_live: DemoServer) -> None:
    """Another session holds the message's row: the forward waits
    ``ASPIRASI_DB_LOCK_TIMEOUT_MS`` (the default, 3 s) for it once, then answers
    503 ``database_busy`` without retrying (the lock is most likely still held)."""
    s = pg_live
    gave_up, named = len(s.events("transaction_gave_up")), _named_busy(s)
    mid = _submit(s)["id"]
    engine = _external(s)
    try:
        with engine.connect() as other:
            other.begin()
            other.execute(text("SELECT id FROM messages WHERE id = :m FOR UPDATE"), {"m": mid})
            with s.client("admin") as admin:
                r = admin.post(f"/api/v1/messages/{mid}/forward", json=_forward_body(s, "pupr"))
            other.rollback()
    finally:
        engine.dispose()
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["code"] == "database_busy"
    assert "55P03" not in [e["reason"] for e in s.events("transaction_retried")]
    assert len(s.events("transaction_gave_up")) == gave_up
    assert _named_busy(s) == named + 1  # one named warning, no traceback
    assert _actions(_detail(s, mid)) == ["submit"]  # nothing was written
    # The lock is gone: the same request goes through, no restart needed.
    with s.client("admin") as admin:
        r = admin.post(f"/api/v1/messages/{mid}/forward", json=_forward_body(s, "pupr"))
    assert r.status_code == 200, r.text
