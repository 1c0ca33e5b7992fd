"""``aspirasi-open311 keys issue|list|revoke`` against the world's database."""

from __future__ import annotations

import hashlib

from click.testing import CliRunner
from test_open311_admin import rows

from aspirasi_open311.cli import main

BASE = "/open311/v2"


def env(world, tmp_path):
    url = world.core.deps.db.engine.url.render_as_string(hide_password=False)
    return {
        "ASPIRASI_DATABASE_URL": url,
        "ASPIRASI_SECRET_KEY": "test-secret-key-" * 3,
        "ASPIRASI_STORAGE_PATH": str(tmp_path / "cli-files"),
        "ASPIRASI_ARGON2_TIME_COST": "1",
        "ASPIRASI_ARGON2_MEMORY_KIB": "1024",
    }


def test_issue_list_and_revoke_on_the_command_line(world, tmp_path):
    runner = CliRunner()
    e = env(world, tmp_path)
    issued = runner.invoke(
        main,
        [
            "keys",
            "issue",
            "--client",
            "Kota",
            "--account",
            "kota",
            "--rate-limit",
            "5/minute",
            "--as",
            "root",
        ],
        env=e,
    )
    assert issued.exit_code == 0, issued.output
    key = issued.output.strip().splitlines()[-1]
    assert key.startswith("o311_")
    [row] = rows(world)
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    listed = runner.invoke(main, ["keys", "list"], env=e)
    assert listed.exit_code == 0
    assert "Kota" in listed.output and "active" in listed.output and key not in listed.output
    assert world.client.get(f"{BASE}/requests.json", params={"api_key": key}).status_code == 200
    revoked = runner.invoke(main, ["keys", "revoke", str(row["id"]), "--as", "root"], env=e)
    assert revoked.exit_code == 0, revoked.output
    assert world.client.get(f"{BASE}/requests.json", params={"api_key": key}).status_code == 403


def test_the_command_line_refuses_what_the_page_refuses(world, tmp_path):
    runner = CliRunner()
    e = env(world, tmp_path)
    for args in (
        [
            "keys",
            "issue",
            "--client",
            "X",
            "--account",
            "kota",
            "--as",
            "admin",
        ],  # not a super admin
        [
            "keys",
            "issue",
            "--client",
            "X",
            "--account",
            "admin",
            "--as",
            "root",
        ],  # staff never file
        ["keys", "issue", "--client", "", "--account", "kota", "--as", "root"],
        [
            "keys",
            "issue",
            "--client",
            "X",
            "--account",
            "kota",
            "--rate-limit",
            "lots",
            "--as",
            "root",
        ],
        ["keys", "revoke", "999", "--as", "root"],
    ):
        answer = runner.invoke(main, args, env=e)
        assert answer.exit_code == 1, (args, answer.output)
        assert "Error:" in answer.output
    assert rows(world) == []
