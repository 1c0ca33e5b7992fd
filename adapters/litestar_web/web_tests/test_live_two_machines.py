"""More than one machine (issue 23): two ``aspirasi serve`` processes stand for two
app machines — each with its own attachment folder, none shared — on one
PostgreSQL, one Redis (rate-limit counters) and one S3 server (moto's server
mode), with the outbox worker (``aspirasi outbox run``) as a third process mailing
a real SMTP server.

A citizen files a message with a photo on machine A; staff and the citizen read
it and download the photo on machine B: streamed through B, or (B hands out
presigned URLs) redirected to the object store, after B's own access checks. The
bytes are the row's SHA-256 on both machines, nothing is on either machine's
disk, and every mail reached the SMTP server exactly once.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool
from tests.deployment import deployment_env
from tests.outbox_support import HoldingSmtpSink, OutboxWorker
from tests.s3_support import S3Server, s3_bucket, s3_env, s3_server

from aspirasi_core.storage.tables import attachments, outbox

from .live import LiveServer
from .live_demo import DemoServer, new_database, prepare_demo

__all__ = ["s3_bucket", "s3_server"]

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

REDIS_URL = os.environ.get("ASPIRASI_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


def redis_reachable() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis is unreachable at {REDIS_URL}: {exc} (set ASPIRASI_TEST_REDIS_URL)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 64), (20, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def poll(check: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)
    return result


class Machines:
    def __init__(self, a: DemoServer, b: DemoServer, database_url: str, folders: list[Path]):
        self.a, self.b = a, b
        self.database_url = database_url
        self.folders = folders


@pytest.fixture
def machines(
    request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> Iterator[tuple[Machines, HoldingSmtpSink]]:
    redis_reachable()
    shared = {
        **s3_env(s3_server, s3_bucket, ASPIRASI_S3_PREFIX="kaltim"),
        "ASPIRASI_DEMO": "1",
        "ASPIRASI_REDIS_URL": REDIS_URL,
        "ASPIRASI_RATE_LIMIT_KEY_PREFIX": "aspirasi-two-machines-" + secrets.token_hex(4),
        "ASPIRASI_MAIL_FROM": "ASPIRASI ETAM <noreply@kaltimprov.go.id>",
    }
    with HoldingSmtpSink() as sink, new_database(request, tmp_path, "pg") as url:
        shared["ASPIRASI_SMTP_HOST"] = "127.0.0.1"
        shared["ASPIRASI_SMTP_PORT"] = str(sink.port)

        def env_of(name: str, **extra: str) -> dict[str, str]:
            return deployment_env(url, tmp_path / name / "files", **shared, **extra)

        prepare_demo(env_of("setup"))
        started: list[LiveServer] = []
        worker = OutboxWorker(env_of("worker"), tmp_path / "outbox.log")
        try:
            for name, extra in (("a", {}), ("b", {"ASPIRASI_S3_PRESIGNED_URLS": "1"})):
                (tmp_path / name).mkdir()
                started.append(LiveServer(env_of(name, **extra), tmp_path / name / "serve.log"))
            # The two machines boot at once, as they would.
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda p: p.start(timeout=60), started))
            servers = [DemoServer(p.base_url, url, p.log_path, p) for p in started]
            folders = [tmp_path / n / "files" for n in ("a", "b", "worker", "setup")]
            yield Machines(servers[0], servers[1], url, folders), sink
        finally:
            worker.stop()
            for process in started:
                process.stop()
        for process in started:
            assert "Traceback" not in process.log(), process.log()
        assert "Traceback" not in (tmp_path / "outbox.log").read_text()


def test_filed_on_one_machine_downloaded_on_the_other(
    machines: tuple[Machines, HoldingSmtpSink], s3_server: S3Server, s3_bucket: str
) -> None:
    m, sink = machines
    a, b = m.a, m.b
    for server in (a, b):
        ready = httpx.get(server.base_url + "/readyz", timeout=15).json()["components"]
        assert ready["storage"] == {"status": "ok"}  # the bucket answers
        assert ready["redis"] == {"status": "ok"}

    # Filed on machine A.
    with a.client("warga") as warga_a:
        r = warga_a.post(
            "/api/v1/messages",
            data={"subject": "Jalan rusak di Samarinda", "body": "Lubang besar di depan pasar."},
            files={"attachment": ("jalan.jpg", jpeg(), "image/jpeg")},
        )
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    engine = create_engine(
        m.database_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            row = conn.execute(select(attachments).where(attachments.c.message_id == mid)).one()

            def done_items() -> list[str]:
                return list(conn.execute(select(outbox.c.status)).scalars())

            # The object is in the shared bucket, promoted; no machine has it on disk.
            listed = s3_server.client().list_objects_v2(Bucket=s3_bucket)  # type: ignore[attr-defined]
            assert {o["Key"] for o in listed["Contents"]} == {f"kaltim/{row.storage_key}"}
            for folder in m.folders:
                assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))

            download = f"/api/v1/messages/{mid}/attachments/{row.id}"
            # Machine B: the admin reads the message and is redirected to a
            # short-lived URL of the store, after B checked the access.
            with b.client("admin") as admin_b:
                detail = admin_b.get(f"/api/v1/messages/{mid}")
                assert detail.status_code == 200
                assert detail.json()["attachments"][0]["url"] == download
                moved = admin_b.get(download)
                assert moved.status_code == 302, moved.text
                assert moved.headers["cache-control"] == "no-store"
                target = moved.headers["location"]
                assert target.startswith(s3_server.url) and "X-Amz-Expires=60" in target
                fetched = httpx.get(target)
                assert fetched.status_code == 200
                assert hashlib.sha256(fetched.content).hexdigest() == row.sha256
                assert fetched.headers["content-type"] == "image/jpeg"
                assert fetched.headers["content-disposition"].startswith("attachment;")
            # Another citizen gets no URL from B: the check stays on the server.
            with b.client("warga2") as other_b:
                refused = other_b.get(download)
                assert refused.status_code == 404 and "location" not in refused.headers
            # The sender downloads it on A, streamed through the app.
            with a.client("warga") as warga_a:
                streamed = warga_a.get(download)
                assert streamed.status_code == 200
                assert "location" not in streamed.headers
                assert hashlib.sha256(streamed.content).hexdigest() == row.sha256

            # The outbox worker (a third process) sent every mail the submission
            # queued exactly once.
            def settled() -> list[str] | None:
                statuses = done_items()
                quiet = statuses and all(s == "done" for s in statuses)
                return statuses if quiet and len(sink.accepted) == len(statuses) else None

            statuses = poll(settled, "every mail sent")
    finally:
        engine.dispose()
    assert len(statuses) >= 1
    assert sink.accepted and "" not in sink.accepted
    assert {mid_: n for mid_, n in Counter(sink.accepted).items() if n > 1} == {}
