"""Mail is sent once in practice: real ``aspirasi outbox run`` workers, killed
with SIGKILL or cut off from PostgreSQL at the worst moments, deliver every
queued mail to a real SMTP server exactly once.

The one moment left where a mail can go out twice lies between the server's
answer to ``DATA`` and the worker's record of it (one database round trip):
delivery is at least once in principle. Every other moment is covered here."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.outbox_support import (
    HoldingSmtpSink,
    OutboxWorker,
    mail_deployment_env,
    outbox_counts,
    queue_mails,
)
from tests.tcp_proxy import (  # noqa: F401 - the fixture
    TcpProxy,
    proxied_database,
    tcp_proxy_factory,
)

MAILS = 24
FIRST_RUN = 8
LEASE = "4"  # seconds: a killed worker's batch comes back quickly


def _wait_all_done(app, sink: HoldingSmtpSink, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if outbox_counts(app)["done"] == MAILS:
            return
        time.sleep(0.2)
    raise AssertionError(f"not all delivered: {outbox_counts(app)}, {len(sink.accepted)} received")


WAITING = "outbox_waiting_for_database"


def _wait_until(condition: Any, what: str, timeout: float = 40.0) -> None:
    """Until ``condition()`` holds (polled)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


def _wait_for_log(paths: list[Path], text: str) -> None:
    """Until one of the logs at ``paths`` contains ``text`` (polled)."""
    _wait_until(
        lambda: any(p.exists() and text in p.read_text("utf-8", "replace") for p in paths),
        f"{text!r} in the workers' logs",
    )


def _assert_each_once(sink: HoldingSmtpSink) -> None:
    assert len(sink.accepted) == MAILS, sorted(sink.accepted)
    assert len(set(sink.accepted)) == MAILS


@pytest.mark.parametrize("backend", ["sqlite", "pg"])
def test_killed_workers_deliver_every_mail_exactly_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    with HoldingSmtpSink() as sink:
        env = mail_deployment_env(url, tmp_path, sink.port, ASPIRASI_OUTBOX_LEASE_SECONDS=LEASE)
        # A first run of mails: one worker sends them over one connection.
        app = queue_mails(env, FIRST_RUN)
        workers: list[OutboxWorker] = []
        try:
            # 1. Killed while saying goodbye to the server after the run: every mail
            #    of it was recorded as sent meanwhile (the goodbye waits for nothing
            #    the worker records), so none is sent again.
            sink.hold("QUIT", 1)
            workers.append(OutboxWorker(env, tmp_path / "worker-1.log"))
            assert sink.reached.wait(30), "the first worker never said goodbye"
            _wait_until(lambda: outbox_counts(app)["done"] == FIRST_RUN, "the run recorded")
            workers[-1].kill()
            sink.release()
            assert len(sink.accepted) == FIRST_RUN
            queue_mails(env, MAILS - FIRST_RUN, app=app)
            # 2. Killed in the middle of a mail (before the server accepted it):
            #    that mail is sent again, once.
            sink.hold("RCPT", 4)
            workers.append(OutboxWorker(env, tmp_path / "worker-2.log"))
            assert sink.reached.wait(30), "the second worker sent nothing"
            workers[-1].kill()
            sink.release()
            # 3. Two workers finish the queue, including the killed ones' batches.
            workers += [OutboxWorker(env, tmp_path / f"worker-{n}.log") for n in (3, 4)]
            _wait_all_done(app, sink)
            _assert_each_once(sink)
        finally:
            for worker in workers:
                worker.stop()
            app.deps.db.dispose()  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_a_database_outage_right_after_a_mail_was_accepted_sends_it_once(
    pg_url: str,
    tmp_path: Path,
    tcp_proxy_factory: type[TcpProxy],  # noqa: F811
) -> None:
    proxy, proxied = proxied_database(tcp_proxy_factory, pg_url)
    with HoldingSmtpSink() as sink:
        env = mail_deployment_env(proxied, tmp_path, sink.port, ASPIRASI_OUTBOX_LEASE_SECONDS="6")
        # The test itself queues and counts over a connection of its own.
        app = queue_mails({**env, "ASPIRASI_DATABASE_URL": pg_url}, MAILS)
        # The database goes away after the server received the 3rd mail and before
        # it answers, so the worker learns of its success with no database to
        # record it in.
        sink.hold("DATA", 3, on_reach=proxy.stop)
        workers = [OutboxWorker(env, tmp_path / f"worker-{n}.log") for n in (1, 2)]
        try:
            assert sink.reached.wait(30), "nothing was sent"
            sink.release()
            # The outage lasts until a worker has noticed it (and waits to retry).
            _wait_for_log([tmp_path / f"worker-{n}.log" for n in (1, 2)], WAITING)
            proxy.start()
            _wait_all_done(app, sink)
            _assert_each_once(sink)
        finally:
            for worker in workers:
                worker.stop()
            app.deps.db.dispose()  # type: ignore[attr-defined]
        logs = "".join((tmp_path / f"worker-{n}.log").read_text() for n in (1, 2))
        assert WAITING in logs
        assert "Traceback" not in logs
