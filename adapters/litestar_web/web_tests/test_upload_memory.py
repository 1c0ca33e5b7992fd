"""A served worker's memory stays bounded under concurrent large photo uploads.

Issue 18, item 8: a 621 KB JPEG of 40 megapixels cost ~570 MB to decode, and four at
once took a worker from 160 MB to 2.1 GB. Here ``aspirasi serve`` (one uvicorn
worker, as in production) receives eight such uploads at once; its peak resident
memory (``VmHWM``) must stay under 400 MB, and every photo is stored, reduced.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx
import pytest
from PIL import Image

from aspirasi_core.bootstrap import bootstrap, migrate
from aspirasi_core.security.uploads import MAX_LONG_SIDE
from aspirasi_core.services import Context, RegisterInput
from aspirasi_core.settings import Settings

from .live import LiveServer, base_env

UPLOADS = 8
LIMIT_MB = 400

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads the worker's memory from /proc"
)


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _photo_40mp() -> bytes:
    """7728 x 5152 pixels (a 40 MP camera) in about 600 KB, like the photo of the issue."""
    small = Image.linear_gradient("L").resize((484, 323)).convert("RGB")
    out = io.BytesIO()
    small.resize((7728, 5152), Image.Resampling.BICUBIC).save(out, "JPEG", quality=70)
    return out.getvalue()


CITIZEN = ("warga", "warga-long-password")


def _prepare(settings: Settings) -> None:
    """``aspirasi db upgrade`` and one verified citizen, in this process."""
    migrate(settings)
    app = bootstrap(settings)
    login, password = CITIZEN
    try:
        account = anyio.run(
            lambda: app.accounts.register(
                Context(),
                RegisterInput(
                    email="warga@example.org",
                    username=login,
                    full_name="Warga",
                    nik="6472045504910001",
                    password=password,
                    password_confirm=password,
                ),
            )
        )
        assert account is not None
        now = app.deps.clock.now()
        app.deps.db.run_sync(lambda uow: uow.accounts.update(account.id, email_verified_at=now))
    finally:
        app.deps.db.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[LiveServer]:
    """``aspirasi serve`` with one uvicorn worker, as in production."""
    env = base_env(f"sqlite:///{tmp_path / 'aspirasi.db'}", tmp_path, ASPIRASI_LOG_LEVEL="WARNING")
    _prepare(Settings.from_env(env))
    live = LiveServer(env, tmp_path / "serve.log").start(timeout=60)
    try:
        yield live
    finally:
        live.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="VmHWM is Linux's")
def test_eight_concurrent_40_megapixel_uploads_stay_under_400_mb(served: LiveServer) -> None:
    photo = _photo_40mp()
    assert 400_000 < len(photo) < 1_000_000
    login, password = CITIZEN
    with httpx.Client(base_url=served.base_url, timeout=120) as client:
        r = client.post(
            "/api/v1/auth/login",
            json={"login": login, "password": password},
            headers={"Authorization": "Bearer none"},  # an API client: no CSRF cookie
        )
        assert r.status_code == 200, r.text
        headers = {"Authorization": "Bearer " + r.json()["token"]}
    before_kb = _memory_kb(served.process.pid, "VmRSS")

    def upload(n: int) -> httpx.Response:
        with httpx.Client(base_url=served.base_url, timeout=120, headers=headers) as c:
            return c.post(
                "/api/v1/messages",
                data={"subject": f"Jalan rusak {n}", "body": "Foto terlampir."},
                files={"attachment": (f"foto-{n}.jpg", photo, "image/jpeg")},
            )

    with ThreadPoolExecutor(UPLOADS) as pool:
        answers = list(pool.map(upload, range(UPLOADS)))
    peak_kb = _memory_kb(served.process.pid, "VmHWM")
    assert [a.status_code for a in answers] == [201] * UPLOADS, [a.text for a in answers]
    assert peak_kb < LIMIT_MB * 1024, (
        f"worker peak {peak_kb // 1024} MB (before the uploads {before_kb // 1024} MB)"
    )

    with httpx.Client(base_url=served.base_url, timeout=30, headers=headers) as client:
        detail = client.get(f"/api/v1/messages/{answers[0].json()['id']}").json()
        stored = client.get(detail["attachments"][0]["url"])
    assert stored.status_code == 200
    assert Image.open(io.BytesIO(stored.content)).size == (MAX_LONG_SIDE, 1707)
