"""The runnable examples run."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import anyio
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_embedding_the_core_routes_a_message_to_done() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed_core.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    actions = [line.split()[2] for line in lines if line[:4].isdigit() and "[" not in line]
    assert actions == ["submit", "forward", "start", "progress", "reply"]
    assert lines[-1].startswith("tracking ") and lines[-1].endswith(": done")


# ---------------------------------------------------------------- another province
PROVINCE = ROOT / "examples" / "province_kaltara"
BIN = Path(sys.executable).parent


def _province_env() -> dict[str, str]:
    """province.env as the shell reads it (``set -a; . province.env``)."""
    out = subprocess.run(
        ["bash", "-c", f"set -a; . {PROVINCE / 'province.env'}; env -0"],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        check=True,
    ).stdout.decode()
    pairs = (item.split("=", 1) for item in out.split("\0") if "=" in item)
    return {k: v for k, v in pairs if k.startswith("ASPIRASI_")}


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_another_province_is_configuration_and_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    province = _province_env()
    assert province["ASPIRASI_PROVINCE_NAME"] == "Provinsi Kalimantan Utara"
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASPIRASI_")}
    db = {
        "ASPIRASI_DATABASE_URL": f"sqlite:///{tmp_path / 'kaltara.db'}",
        "ASPIRASI_STORAGE_PATH": str(tmp_path / "storage"),
    }
    env = {**base, **province, **db}
    _run([str(BIN / "aspirasi"), "db", "upgrade"], env)
    _run(
        [
            str(BIN / "aspirasi"),
            "users",
            "create-superadmin",
            "--email",
            "root@kaltara.example",
            "--username",
            "root",
            "--password",
            "a-long-root-password",
        ],
        env,
    )
    script = [sys.executable, str(PROVINCE / "load_province.py"), "--as", "root"]
    first = _run(script, env)
    assert "created agency dkp" in first and "created sub-category aduan/perikanan" in first
    assert _run(script, env).splitlines()[-1].startswith("0 created")  # idempotent

    from litestar.testing import TestClient

    from aspirasi_core.bootstrap import bootstrap
    from aspirasi_core.plugins import create_plugin_manager
    from aspirasi_core.settings import Settings
    from aspirasi_web import hookspecs as web_hookspecs
    from aspirasi_web.app import create_app

    monkeypatch.chdir(ROOT)  # the logo's path in province.env is relative to the root
    settings = Settings.from_env({**province, **db})
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    core = bootstrap(settings, plugin_manager=pm)
    try:
        app = create_app(aspirasi=core, run_outbox=False)
        with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
            home = client.get("/")
            assert home.status_code == 200
            html = home.text
            assert '<html lang="id">' in html
            assert "Provinsi Kalimantan Utara" in html and "ASPIRASI BENUANTA" in html
            assert "Kalimantan Timur" not in html
            assert "Cara menyampaikan pesan" in html  # the Indonesian pages
            assert 'src="/brand/logo"' in html
            logo = client.get("/brand/logo")
            assert logo.status_code == 200
            assert logo.content == (PROVINCE / "logo.svg").read_bytes()
            assert logo.headers["content-type"].startswith("image/svg+xml")
            assert "#14532d" in client.get("/brand.css").text
            # The home page's picture is the province's own, described in its words.
            assert "Sungai Kayan di Tanjung Selor" in html
            hero = client.get("/brand/hero")
            assert hero.content == (PROVINCE / "hero.svg").read_bytes()
            # Where it happened: the province's own regencies, none of East Kalimantan's.
            regions = client.get("/api/v1/regions")
            assert regions.status_code == 200, regions.text
            assert "Kota Tarakan" in regions.text and "Samarinda" not in regions.text
        agencies = {a.code for a in anyio.run(lambda: core.admin.agencies())}
        assert {"dkp", "pupr-perkim", "biro-perekonomian"} <= agencies
        assert "pupr-pera" not in agencies  # East Kalimantan's demo agencies are not there
    finally:
        core.deps.db.dispose()


# ---------------------------------------------------------------- a third-party plugin
WEBHOOK = ROOT / "examples" / "webhook_plugin"
UV = ROOT / ".tools" / "bin" / "uv"


class _Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(
            {"path": self.path, "type": self.headers["Content-Type"], "json": json.loads(body)}
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _install_webhook_plugin(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A fresh venv with the core and the plugin (uv); or, when uv cannot, the plugin
    alone on PYTHONPATH next to this venv. Returns the bin folder and extra env."""
    uv = str(UV) if UV.exists() else shutil.which("uv")
    if uv:
        venv = tmp_path / "venv"
        try:
            subprocess.run(
                [uv, "venv", "-q", str(venv), "--python", sys.executable],
                check=True,
                capture_output=True,
                timeout=60,
            )
            subprocess.run(
                [
                    uv,
                    "pip",
                    "install",
                    "-q",
                    "--python",
                    str(venv / "bin" / "python"),
                    str(ROOT),
                    str(WEBHOOK),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            return str(venv / "bin"), {}
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
    target = tmp_path / "site"
    # (this venv is made by uv and has no pip of its own)
    installer = [uv, "pip"] if uv else [shutil.which("python3") or "python3", "-m", "pip"]
    subprocess.run(
        [*installer, "install", "-q", "--no-deps", "--target", str(target), str(WEBHOOK)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # Only the core and the example: the bundled plugins of this venv stay out.
    return str(BIN), {"PYTHONPATH": str(target), "ASPIRASI_PLUGINS": "webhook"}


def test_a_third_party_plugin_posts_a_webhook_when_a_message_is_closed(tmp_path: Path) -> None:
    bin_dir, extra = _install_webhook_plugin(tmp_path)
    _Hook.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = {k: v for k, v in os.environ.items() if not k.startswith("ASPIRASI_")}
        env = {
            **base,
            **extra,
            "ASPIRASI_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/aspirasi-hook",
            "ASPIRASI_DATABASE_URL": f"sqlite:///{tmp_path / 'hook.db'}",
        }
        listed = _run([f"{bin_dir}/aspirasi", "plugins", "list"], env)
        assert any(
            line.startswith("webhook 0.1.0")
            and "aspirasi_outbox_items" in line
            and "aspirasi_deliver_outbox_item" in line
            for line in listed.splitlines()
        ), listed
        out = _run([f"{bin_dir}/python", str(WEBHOOK / "route_a_message.py")], env)
        assert "outbox: delivered 1" in out, out
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Hook.received) == 1, _Hook.received
    call = _Hook.received[0]
    assert call["path"] == "/aspirasi-hook" and call["type"] == "application/json"
    payload = call["json"]
    assert isinstance(payload, dict)
    ticket = next(line.split()[1] for line in out.splitlines() if line.startswith("message "))
    assert payload["event"] == "message.closed"
    assert payload["ticket"] == ticket
    assert payload["status"] == "done" and payload["from_status"] == "in_progress"
    assert isinstance(payload["message_id"], int) and isinstance(payload["delivery_id"], int)
    assert payload["closed_at"].endswith("+00:00")
