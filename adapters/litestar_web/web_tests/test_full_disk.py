"""A full disk is named: the citizen is told to try again later (507 with
``Retry-After``, problem+json or the page in their language), nothing is half
written, and the log has a named warning, not an unknown error's traceback."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from structlog.testing import capture_logs

from .test_pages_public_support import message_count
from .world import WebWorld


def _photo() -> bytes:
    """A JPEG of noise: ~250 KB after re-encoding, more than the small disk holds."""
    buf = io.BytesIO()
    Image.effect_noise((700, 700), 120).convert("RGB").save(buf, "JPEG", quality=95)
    return buf.getvalue()


@pytest.fixture
def full_storage(web: WebWorld) -> Iterator[Path]:
    """The attachment folder on a 64 KB tmpfs.

    Mounting one needs root: without root the test is skipped, except in CI
    (``CI`` set), which runs as root and must run it: there, and for root anywhere,
    a tmpfs that cannot be mounted fails the test instead of hiding it."""
    root: Path = web.core.deps.files.root  # type: ignore[attr-defined]
    if os.geteuid() != 0 and not os.environ.get("CI"):
        pytest.skip("mounting a small tmpfs needs root (CI runs this test as root)")
    mount = shutil.which("mount")
    if mount is None:
        pytest.fail("no mount command: the full-disk test cannot run")
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(root)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.fail(
            "cannot mount a tmpfs for the full-disk test (needs root with CAP_SYS_ADMIN):"
            f" {done.stderr.decode().strip()}"
        )
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=True)


def test_a_full_attachment_disk_answers_507_and_keeps_nothing(
    web: WebWorld, full_storage: Path
) -> None:
    token = web.token("ani")
    with capture_logs() as logs:
        api = web.client.post(
            "/api/v1/messages",
            headers={"Authorization": f"Bearer {token}"},
            data={"subject": "Jalan rusak", "body": "Lubang besar"},
            files={"attachment": ("foto.jpg", _photo(), "image/jpeg")},
        )
    assert api.status_code == 507, api.text
    assert api.headers["content-type"].startswith("application/problem+json")
    assert int(api.headers["retry-after"]) >= 60
    assert api.json()["code"] == "storage_full"
    assert "try again later" in api.json()["detail"].lower() or "coba lagi" in api.json()["detail"]
    web.login("ani")
    page = web.client.post(
        "/my/messages/new?lang=id",
        data={"subject": "Jalan rusak", "body": "Lubang besar", "_csrf_token": web.csrf()},
        files={"attachment": ("foto.jpg", _photo(), "image/jpeg")},
    )
    assert page.status_code == 507
    assert int(page.headers["retry-after"]) >= 60  # the re-shown form says when, too
    assert "Silakan coba lagi nanti" in page.text
    # Nothing half-written: no message, no file, not even a temporary one.
    assert message_count(web) == 0
    assert [p for p in full_storage.rglob("*") if p.is_file()] == []
    named = [e for e in logs if e.get("event") == "service_unavailable"]
    assert named and named[0]["code"] == "storage_full"
    assert not [e for e in logs if e.get("event") == "unhandled_error"]


def test_a_full_sqlite_database_is_storage_full(web: WebWorld) -> None:
    db = web.core.deps.db
    with db.engine.connect() as conn:  # type: ignore[attr-defined]
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    # Every new connection gets a ceiling at the current size: the next growth fails.
    from sqlalchemy import event

    def ceiling(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    event.listen(db.engine, "connect", ceiling)  # type: ignore[attr-defined]
    db.engine.dispose()  # type: ignore[attr-defined]
    token = web.token("ani")
    long_body = "Laporan panjang. " * 290
    answers = []
    for n in range(40):  # until the file would have to grow
        response = web.client.post(
            "/api/v1/messages",
            headers={"Authorization": f"Bearer {token}"},
            data={"subject": f"Aduan {n}", "body": long_body},
        )
        answers.append(response.status_code)
        if response.status_code != 201:
            break
    assert answers[-1] == 507, answers  # before the 20 a day a citizen may send
    assert response.json()["code"] == "storage_full"
    assert set(answers[:-1]) <= {201}
    assert message_count(web) == len(answers) - 1
