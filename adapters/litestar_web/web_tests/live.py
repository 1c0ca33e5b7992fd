"""``aspirasi serve`` as a real process, for tests of what happens between
processes: faults of the database, server limits, kills."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from tests.deployment import deployment_env

from aspirasi_core.bootstrap import bootstrap, migrate
from aspirasi_core.settings import Settings

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a test deployment (see :func:`tests.deployment.deployment_env`)."""
    return deployment_env(database_url, tmp_path / "files", **extra)


def prepare_database(env: Mapping[str, str], *, superadmin: tuple[str, str, str]) -> None:
    """Migrate and create a super admin ``(email, username, password)``, in this process."""
    settings = Settings.from_env(env)
    migrate(settings)
    app = bootstrap(settings)
    try:
        app.admin.create_superadmin(*superadmin)
    finally:
        app.deps.db.dispose()  # type: ignore[attr-defined]


class LiveServer:
    """``aspirasi serve`` on a free port; its output goes to ``log_path``."""

    def __init__(self, env: Mapping[str, str], log_path: Path, *args: str) -> None:
        self.env = dict(env)
        self.port = free_port()
        self.log_path = log_path
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "aspirasi"), "serve", "--port", str(self.port), *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped at start:\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.base_url + "/healthz", timeout=1.0).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=kwargs.pop("timeout", 15.0), **kwargs)
