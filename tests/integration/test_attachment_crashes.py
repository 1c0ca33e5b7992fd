"""Files and rows stay consistent: a process killed (SIGKILL) between storing an
upload and committing the message that names it leaves no orphan file once the
outbox worker has swept, and one killed after the commit loses no file."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.deployment import deployment_env
from tests.outbox_support import BIN

from aspirasi_core.bootstrap import bootstrap, migrate
from aspirasi_core.services import Context
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.settings import Settings
from aspirasi_core.storage.tables import attachments, messages

ROOT = Path(__file__).resolve().parents[2]


def _env(database_url: str, storage: Path) -> dict[str, str]:
    # No plugin: the child processes and the worker start sooner.
    return deployment_env(
        database_url,
        storage,
        ASPIRASI_DISABLED_PLUGINS="notify_email,evaluator,land_issue,rate_limit",
    )


def _kill_at(point: str, env: dict[str, str], tmp_path: Path) -> None:
    """Run the child until it reaches ``point``, then kill -9 it."""
    ready = tmp_path / f"{point}.ready"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.attachment_child", point, str(ready)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert child.poll() is None, f"the child stopped before {point}"
            assert time.monotonic() < deadline, f"the child never reached {point}"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()


def _files(storage: Path) -> set[Path]:
    return {p for p in storage.rglob("*") if p.is_file()}


@pytest.mark.parametrize("backend", ["sqlite", "pg"])
def test_no_orphan_file_survives_a_kill_and_the_next_sweep(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    storage = tmp_path / "files"
    env = _env(url, storage)
    settings = Settings.from_env(env)
    migrate(settings)
    app = bootstrap(settings)
    try:
        account = asyncio.run(
            app.accounts.register(
                Context(),
                RegisterInput(
                    "warga@example.org",
                    "warga",
                    "Warga",
                    "6472045504910001",
                    "warga-pass-1234",
                    "warga-pass-1234",
                ),
            )
        )
        assert account is not None
        now = app.deps.clock.now()
        app.deps.db.run_sync(lambda uow: uow.accounts.update(account.id, email_verified_at=now))

        _kill_at("before-commit", env, tmp_path)  # the file is stored, no row names it
        _kill_at("after-commit", env, tmp_path)  # the row committed, the file not promoted

        def rows() -> tuple[int, list[str]]:
            with app.deps.db.engine.connect() as conn:  # type: ignore[attr-defined]
                count = len(conn.execute(messages.select()).all())
                keys = [r.storage_key for r in conn.execute(attachments.select())]
            return count, keys

        count, keys = rows()
        assert count == 1 and len(keys) == 1  # the first submission left nothing in the tables
        pending = storage / "pending"
        assert {p.name for p in pending.iterdir()} > set(keys)  # and one file more
        assert len(list(pending.iterdir())) == 2
        # An hour goes by.
        for path in pending.iterdir():
            then = time.time() - 2 * 3600
            os.utime(path, (then, then))

        worker = subprocess.Popen(
            [str(BIN / "aspirasi"), "outbox", "run", "--poll", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while any(pending.iterdir()):
                assert time.monotonic() < deadline, "the outbox worker did not sweep"
                time.sleep(0.1)
        finally:
            worker.terminate()
            worker.wait(10)

        # Every file on disk belongs to a row, and the committed one is in its place.
        assert {p.name for p in _files(storage)} == set(keys)
        assert app.deps.files.get(keys[0])[:3] == b"\xff\xd8\xff"
        assert app.deps.files.path_for(keys[0]).parent != pending  # type: ignore[attr-defined]
    finally:
        app.deps.db.dispose()  # type: ignore[attr-defined]
