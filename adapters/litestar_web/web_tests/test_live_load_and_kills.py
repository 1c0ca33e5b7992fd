"""Issue 19 under load, against real processes: the demo served by ``aspirasi
serve --workers 2`` on SQLite and on PostgreSQL, mailing through ``aspirasi
outbox run`` workers to a real aiosmtpd server, driven by many concurrent client
tasks (httpx AsyncClient).

* A deadlock-prone mixed load: workflow sequences (submit → forward → start →
  reply → rate, by citizens and staff, with every bundled plugin on, the
  evaluator's counts among them, and the outbox worker's sweeps running every
  second; in every third sequence two admins forward and the citizen rates twice
  at once) alongside submissions with attachments. No answer is a 500, no two
  concurrent steps both win; a 409 (the message changed) or a 503 with
  ``Retry-After`` is an acceptable outcome, counted.
* kill -9 of each serving worker in turn under submission load, and of the
  outbox worker while it is in the middle of a mail: afterwards every
  acknowledged (201) message is there with its attachment (the file's SHA-256 is
  the row's, on disk and downloaded), every mail reached the SMTP server exactly
  once (counted by Message-ID), and once the sweep ran no file is left that no
  row names.
* The moment those kills hit only by chance, made certain: the workers are
  killed while a submission's file is stored and its transaction is held back by
  another session; the sweep removes the orphan.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from PIL import Image
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool
from tests.outbox_support import HoldingSmtpSink, OutboxWorker

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.services import Aspirasi
from aspirasi_core.settings import Settings
from aspirasi_core.storage.tables import attachments, messages

from .live_demo import BACKENDS, DemoServer, new_database, serve_demo

CITIZENS = ("warga", "warga2")
STAFF = ("admin", "superadmin", "operator.pupr")


class Served:
    """The server, the SMTP sink it mails to, and the core of the same deployment
    opened in this process (to read the database and the files)."""

    def __init__(self, server: DemoServer, sink: HoldingSmtpSink, folder: Path) -> None:
        self.server = server
        self.sink = sink
        self.folder = folder
        assert server.process is not None
        self.env = server.process.env
        self.core: Aspirasi = bootstrap(Settings.from_env(self.env))
        self.storage = Path(self.env["ASPIRASI_STORAGE_PATH"])
        (folder / "outbox").mkdir(exist_ok=True)
        #: The ``aspirasi outbox run`` workers started so far; the last one runs.
        self.outbox: list[OutboxWorker] = []
        self.start_outbox_worker()

    def start_outbox_worker(self) -> None:
        log = self.folder / "outbox" / f"worker-{len(self.outbox) + 1}.log"
        self.outbox.append(OutboxWorker(self.env, log))

    def ready(self) -> int:
        """Until two serving workers answer (a test may have killed them): the pid
        of the server's supervisor."""
        process = self.server.process
        assert process is not None and process.process is not None
        parent = process.process.pid
        wait_for(lambda: len(workers_of(parent)) == 2, "two serving workers")
        wait_for(lambda: healthy(self.server), "the server answers")
        return parent

    def close(self) -> None:
        for worker in self.outbox:
            worker.stop()
        self.core.deps.db.dispose()  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp(f"load-{request.param}")
    with (
        HoldingSmtpSink() as sink,
        new_database(request, folder, request.param) as url,
        serve_demo(
            folder,
            url,
            workers=2,
            ASPIRASI_SMTP_HOST="127.0.0.1",
            ASPIRASI_SMTP_PORT=str(sink.port),
            ASPIRASI_MAIL_FROM="ASPIRASI ETAM <noreply@kaltimprov.go.id>",
            ASPIRASI_OUTBOX_LEASE_SECONDS="4",
            # The outbox worker's sweeps (orphan files among them) every second.
            ASPIRASI_SOP_SWEEP_SECONDS="1",
        ) as server,
    ):
        for login in (*CITIZENS, *STAFF):
            server.token(login)
        found = Served(server, sink, folder)
        try:
            yield found
        finally:
            found.close()


def jpeg(n: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (n % 256, (n * 7) % 256, (n * 13) % 256)).save(buf, "JPEG")
    return buf.getvalue()


class Tally:
    """Every answer by step and status; the 5xx kept for the failure message."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        self.bad: list[str] = []
        self.cut = 0  # connections a killed worker dropped

    def add(self, step: str, r: httpx.Response, ok: int) -> bool:
        self.counts[(step, r.status_code)] += 1
        if r.status_code == ok:
            return True
        if r.status_code == 409:
            assert r.json()["code"], r.text
        elif r.status_code == 503:
            if int(r.headers.get("Retry-After", "0")) < 1:
                self.bad.append(f"{step}: 503 without Retry-After: {r.text}")
        else:
            self.bad.append(f"{step}: {r.status_code} {r.text[:300]}")
        return False

    def of(self, status: int) -> int:
        return sum(n for (_, s), n in self.counts.items() if s == status)


async def submit(
    http: httpx.AsyncClient, s: DemoServer, citizen: str, n: int, tally: Tally
) -> dict[str, Any] | None:
    r = await http.post(
        "/api/v1/messages",
        data={"subject": f"Beban campuran {n}", "body": "Jalan berlubang di depan sekolah."},
        files={"attachment": (f"foto-{n}.jpg", jpeg(n), "image/jpeg")},
        headers=s.bearer(citizen),
    )
    return r.json() if tally.add("submit", r, 201) else None  # type: ignore[no-any-return]


async def sequence(http: httpx.AsyncClient, s: DemoServer, n: int, tally: Tally) -> bool:
    """One message from submission to rating; stops at the first refusal. Every
    third sequence has its forward sent by two admins at once, and its rating twice
    at once, both with the version they saw (``If-Match``): one may win, never both."""
    citizen = CITIZENS[n % 2]
    sent = await submit(http, s, citizen, n, tally)
    if sent is None:
        return False
    mid, version = sent["id"], sent.get("version", 1)
    contended = n % 3 == 0
    steps: list[tuple[str, tuple[str, ...], dict[str, Any], int]] = [
        ("forward", STAFF[:2] if contended else (STAFF[n % 2],), s.forward_body("pupr"), 200),
        ("start", ("operator.pupr",), {}, 200),
        ("reply", ("operator.pupr",), {"answer": "Sudah ditambal."}, 200),
        ("rating", (citizen, citizen) if contended else (citizen,), {"stars": 1 + n % 5}, 201),
    ]
    for step, who, body, ok in steps:
        headers = {"If-Match": f'"{version}"'} if len(who) > 1 else {}
        answers = await gather(
            *(
                http.post(
                    f"/api/v1/messages/{mid}/{step}",
                    json=body,
                    headers={**s.bearer(login), **headers},
                )
                for login in who
            )
        )
        wins = [r for r in answers if tally.add(step, r, ok)]
        assert len(wins) <= 1, [(r.status_code, r.text) for r in answers]  # no lost update
        if not wins:
            return False
        version = wins[0].json().get("version", version)
    return True


async def gather(*calls: Awaitable[httpx.Response]) -> list[httpx.Response]:
    """Run ``calls`` at once; their answers in order."""
    answers: list[httpx.Response | None] = [None] * len(calls)

    async def one(i: int, call: Awaitable[httpx.Response]) -> None:
        answers[i] = await call

    async with anyio.create_task_group() as tg:
        for i, call in enumerate(calls):
            tg.start_soon(one, i, call)
    return [a for a in answers if a is not None]


SEQUENCE_TASKS, SEQUENCES_EACH = 16, 4
SUBMIT_TASKS, SUBMISSIONS_EACH = 16, 4


def test_a_deadlock_prone_mixed_load_answers_no_500(served: Served) -> None:
    s = served.server
    served.ready()
    tally = Tally()
    done: list[bool] = []

    async def main() -> None:
        limits = httpx.Limits(max_connections=SEQUENCE_TASKS + SUBMIT_TASKS)
        async with (
            httpx.AsyncClient(base_url=s.base_url, timeout=60, limits=limits) as http,
            anyio.create_task_group() as tg,
        ):

            async def sequences(task: int) -> None:
                for i in range(SEQUENCES_EACH):
                    done.append(await sequence(http, s, 1000 + task * 100 + i, tally))

            async def submissions(task: int) -> None:
                for i in range(SUBMISSIONS_EACH):
                    await submit(http, s, CITIZENS[i % 2], 5000 + task * 100 + i, tally)

            for task in range(SEQUENCE_TASKS):
                tg.start_soon(sequences, task)
            for task in range(SUBMIT_TASKS):
                tg.start_soon(submissions, task)

    anyio.run(main)
    summary = dict(sorted(tally.counts.items()))
    retried = Counter(e["reason"] for e in s.events("transaction_retried"))
    print(
        f"\n{s.dialect}: {sum(done)}/{len(done)} sequences completed; answers {summary};"
        f" transactions retried {dict(retried)}"
    )
    assert tally.of(500) == 0 and tally.bad == [], "\n".join(tally.bad)
    assert len(done) == SEQUENCE_TASKS * SEQUENCES_EACH
    assert any(done), summary  # the load did get through
    assert not s.events("unhandled_error")


# --------------------------------------------------------------------------- kill -9


def workers_of(parent: int) -> set[int]:
    """The uvicorn worker processes under ``aspirasi serve`` (its children that
    run the app, not multiprocessing's resource tracker), read from ``/proc``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # gone meanwhile
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid ...": comm may hold spaces, so split after it.
            fields = stat[stat.rindex(")") + 2 :].split()
            mine = int(fields[1]) == parent and fields[0] != "Z"  # zombies: dead
            if mine and b"resource_tracker" not in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
    return found


def poll(check: Any, timeout: float) -> Any:
    """``check()`` until it returns something true, for at most ``timeout``
    seconds; its last result."""
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def wait_for(check: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)
    return result


def outbox_totals(core: Aspirasi) -> dict[str, int]:
    return core.deps.db.run_sync(lambda uow: uow.outbox.totals(), write=False)  # type: ignore[no-any-return]


KILL_SUBMIT_TASKS, KILL_SUBMISSIONS_EACH = 6, 8


def test_kill_9_of_serving_and_outbox_workers_loses_nothing_and_sends_nothing_twice(
    served: Served,
) -> None:
    s, sink, core = served.server, served.sink, served.core
    parent = served.ready()
    first = workers_of(parent)
    tally = Tally()
    acked: dict[int, str] = {}  # message id -> the attachment's file name
    killed: list[int] = []
    finished: list[bool] = []
    # The outbox worker is killed in the middle of its 3rd mail from now (after
    # RCPT, before the server accepted it); that mail goes out once, from the next.
    sink.hold("RCPT", 3)
    outboxes = len(served.outbox)

    async def main() -> None:
        async with httpx.AsyncClient(base_url=s.base_url, timeout=60) as http:

            async def submissions(task: int) -> None:
                for i in range(KILL_SUBMISSIONS_EACH):
                    n = 20_000 + task * 100 + i
                    try:
                        sent = await submit(http, s, CITIZENS[i % 2], n, tally)
                    except httpx.TransportError:
                        tally.cut += 1  # the worker died under this request
                        continue
                    if sent is not None:
                        acked[sent["id"]] = f"foto-{n}.jpg"

            async def killer() -> None:
                total = KILL_SUBMIT_TASKS * KILL_SUBMISSIONS_EACH
                for victim, after in zip(sorted(first), (total // 4, total // 2), strict=True):
                    while len(acked) < after and not finished:
                        await anyio.sleep(0.02)  # polls the load's progress
                    if finished:
                        return
                    os.kill(victim, signal.SIGKILL)  # the supervisor starts another
                    killed.append(victim)

            async def outbox_killer() -> None:
                reached = await anyio.to_thread.run_sync(sink.reached.wait, 60)
                assert reached, "the outbox worker sent nothing"
                served.outbox[-1].kill()
                sink.release()
                served.start_outbox_worker()

            async with anyio.create_task_group() as load:
                load.start_soon(killer)
                load.start_soon(outbox_killer)
                async with anyio.create_task_group() as clients:
                    for task in range(KILL_SUBMIT_TASKS):
                        clients.start_soon(submissions, task)
                finished.append(True)

    try:
        anyio.run(main)
        assert len(killed) == 2 and len(served.outbox) == outboxes + 1
        print(
            f"\n{s.dialect}: {len(acked)} acknowledged, {tally.cut} cut by a kill;"
            f" answers {dict(sorted(tally.counts.items()))}"
        )
        assert tally.of(500) == 0 and tally.bad == [], "\n".join(tally.bad)
        assert acked

        # Every mail queued (this load's, and what the module queued before) is
        # sent: nothing waits, and the server holds one mail per item done (read
        # in that order: an item is marked done just after the server took it).
        def settled() -> dict[str, int] | None:
            totals = outbox_totals(core)
            delivered = len(sink.accepted)
            quiet = totals["pending"] == totals["sending"] == 0
            return totals if quiet and delivered == totals["done"] else None

        totals = poll(settled, timeout=60) or outbox_totals(core)
    finally:
        sink.release()
    assert totals["dead"] == 0, totals
    duplicates = {m: n for m, n in Counter(sink.accepted).items() if n > 1}
    assert duplicates == {}, duplicates
    assert totals["pending"] == totals["sending"] == 0, totals
    assert len(sink.accepted) == totals["done"], (len(sink.accepted), totals)
    assert "" not in sink.accepted  # every mail has its Message-ID
    for log in (served.folder / "outbox").iterdir():
        assert "Traceback" not in log.read_text(), log.read_text()

    sweep(served)
    files, on_disk = files_match_rows(served)
    with core.deps.db.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = set(conn.execute(select(messages.c.id)).scalars())
    by_message = {r.message_id: r for r in files.values()}
    with s.client("warga") as warga, s.client("warga2") as warga2:
        for mid, filename in acked.items():
            assert mid in rows, f"acknowledged message {mid} is missing"
            assert mid in by_message, f"the attachment of {mid} is missing"
            row = by_message[mid]
            assert row.filename == filename
            digest = hashlib.sha256(on_disk[row.storage_key].read_bytes()).hexdigest()
            assert digest == row.sha256, mid
            for http in (warga, warga2):
                r = http.get(f"/api/v1/messages/{mid}/attachments/{row.id}")
                if r.status_code == 200:
                    assert hashlib.sha256(r.content).hexdigest() == row.sha256
                    break
            else:
                raise AssertionError(f"the attachment of {mid} cannot be downloaded")


def sweep(served: Served) -> None:
    """What killed requests left in ``pending/`` waits an hour (its files are made
    two hours old); the running outbox worker's sweep (every second here) settles
    it: until ``pending/`` is empty."""
    pending = served.storage / "pending"
    if not pending.is_dir():
        return
    for path in pending.iterdir():
        then = time.time() - 2 * 3600
        os.utime(path, (then, then))
    wait_for(lambda: not any(pending.iterdir()), "the outbox worker sweeps pending/")


def files_match_rows(served: Served) -> tuple[dict[str, Any], dict[str, Path]]:
    """No orphan: every file on disk is named by an attachment's row, and every
    row's file is there. The rows and the files by storage key."""
    with served.core.deps.db.engine.connect() as conn:  # type: ignore[attr-defined]
        files = {
            r.storage_key: r
            for r in conn.execute(select(attachments).where(attachments.c.removed_at.is_(None)))
        }
    on_disk = {p.name: p for p in served.storage.rglob("*") if p.is_file()}
    assert set(on_disk) == set(files), set(on_disk) ^ set(files)
    pending = served.storage / "pending"
    assert not pending.is_dir() or not any(pending.iterdir())
    return files, on_disk


@contextlib.contextmanager
def writes_held(served: Served) -> Iterator[None]:
    """Another session holds the database's write lock (SQLite) or the messages
    table against inserts (PostgreSQL) until the block ends: a submission stores
    its file and then waits, without committing."""
    url = served.env["ASPIRASI_DATABASE_URL"]
    if url.startswith("sqlite"):
        raw = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            raw.execute("BEGIN IMMEDIATE")
            yield
            raw.execute("ROLLBACK")
        finally:
            raw.close()
        return
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool
    )
    try:
        with engine.connect() as other:
            other.execute(text("LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE"))
            yield
            other.rollback()
    finally:
        engine.dispose()


def test_a_worker_killed_between_storing_an_upload_and_its_commit_leaves_no_orphan(
    served: Served,
) -> None:
    """The moment the kills under load hit only by chance: a worker dies after the
    upload's file is stored and before its transaction commits (the write is held
    back by another session); the file no row names is gone after the sweep."""
    s = served.server
    parent = served.ready()
    pending = served.storage / "pending"
    files_before = {p.name for p in pending.iterdir()} if pending.is_dir() else set()
    answer: list[Any] = []

    def send() -> None:
        try:
            with s.client("warga") as http:
                answer.append(
                    http.post(
                        "/api/v1/messages",
                        data={"subject": "Terputus", "body": "Dikirim saat server mati."},
                        files={"attachment": ("putus.jpg", jpeg(7), "image/jpeg")},
                    )
                )
        except httpx.TransportError as exc:
            answer.append(exc)

    with writes_held(served):
        client = threading.Thread(target=send)
        client.start()
        stored = wait_for(
            lambda: pending.is_dir() and {p.name for p in pending.iterdir()} - files_before,
            "the upload is stored",
        )
        victims = workers_of(parent)
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        client.join(60)
    assert len(answer) == 1 and isinstance(answer[0], httpx.TransportError), answer
    with served.core.deps.db.engine.connect() as conn:  # type: ignore[attr-defined]
        named = set(conn.execute(select(attachments.c.storage_key)).scalars())
    assert stored - named == stored  # an orphan: no row names it
    sweep(served)
    files_match_rows(served)
    assert not stored & {p.name for p in served.storage.rglob("*")}


def healthy(s: DemoServer) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(s.base_url + "/healthz", timeout=2).status_code == 200
    return False
