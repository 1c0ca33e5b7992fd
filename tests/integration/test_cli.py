"""The `aspirasi` command line, run in-process with click's runner on a temp SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aspirasi_core.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "ASPIRASI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ASPIRASI_STORAGE_PATH": str(tmp_path / "files"),
        "ASPIRASI_ARGON2_MEMORY_KIB": "1024",
        "ASPIRASI_ARGON2_TIME_COST": "1",
        "ASPIRASI_DEMO": "0",
    }


def run(env: dict[str, str], *args: str, **extra: str):
    return CliRunner().invoke(main, list(args), env={**env, **extra}, catch_exceptions=False)


def test_plugins_list_shows_the_four_bundled_plugins(env: dict[str, str]) -> None:
    result = run(env, "plugins", "list")
    assert result.exit_code == 0
    names = {line.split()[0] for line in result.output.splitlines()}
    assert {"land_issue", "evaluator", "notify_email", "rate_limit", "aspirasi_core"} <= names
    blocked = run(env, "plugins", "list", ASPIRASI_DISABLED_PLUGINS="evaluator,rate_limit")
    names = {line.split()[0] for line in blocked.output.splitlines()}
    assert "evaluator" not in names and "rate_limit" not in names and "land_issue" in names


def test_upgrade_demo_and_superadmin(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "db", "upgrade").exit_code == 0  # twice is fine
    refused = run(env, "demo")
    assert refused.exit_code != 0 and "ASPIRASI_DEMO=1" in refused.output
    demo = run(env, "demo", ASPIRASI_DEMO="1")
    assert demo.exit_code == 0, demo.output
    for username in ("superadmin", "admin", "operator.pupr", "operator.biro", "evaluator", "warga"):
        assert username in demo.output
    again = run(env, "demo", ASPIRASI_DEMO="1")  # idempotent
    assert again.exit_code == 0, again.output

    weak = run(
        env,
        "users",
        "create-superadmin",
        "--email",
        "boss@example.org",
        "--username",
        "boss",
        "--password",
        "short",
    )
    assert weak.exit_code != 0 and "password" in weak.output
    ok = run(
        env,
        "users",
        "create-superadmin",
        "--email",
        "boss@example.org",
        "--username",
        "boss",
        "--password",
        "a-long-boss-password",
    )
    assert ok.exit_code == 0 and "super admin boss" in ok.output
    dup = run(
        env,
        "users",
        "create-superadmin",
        "--email",
        "boss@example.org",
        "--username",
        "boss2",
        "--password",
        "a-long-boss-password",
    )
    assert dup.exit_code != 0


def test_outbox_commands(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "demo", ASPIRASI_DEMO="1").exit_code == 0
    listed = run(env, "outbox", "list")
    assert listed.exit_code == 0
    delivered = run(env, "outbox", "run", "--once", ASPIRASI_DEMO="1")
    assert delivered.exit_code == 0
    assert any(line.startswith("delivered ") for line in delivered.output.splitlines())
    missing = run(env, "outbox", "retry", "999999")
    assert missing.exit_code != 0 and "not a dead letter" in missing.output


def test_bad_settings_are_refused_with_the_variable_name(env: dict[str, str]) -> None:
    result = run(env, "plugins", "list", ASPIRASI_SMTP_PORT="many")
    assert result.exit_code != 0 and "ASPIRASI_SMTP_PORT" in result.output
    prod = run(env, "db", "upgrade", ASPIRASI_ENV="production")
    assert prod.exit_code != 0 and "demo key" in prod.output


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_sop_commands(env: dict[str, str]) -> None:
    import sqlite3

    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "demo", ASPIRASI_DEMO="1").exit_code == 0
    path = env["ASPIRASI_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        open_count = conn.execute(
            "SELECT count(*) FROM messages WHERE due_at IS NOT NULL"
        ).fetchone()[0]
        assert open_count > 0  # the demo's open messages have deadlines
        conn.execute(
            "UPDATE messages SET due_at = '2020-01-01 00:00:00.000000' WHERE due_at IS NOT NULL"
        )
    swept = run(env, "sop", "sweep", ASPIRASI_DEMO="1")
    assert swept.exit_code == 0
    assert _last_line(swept.output) == f"overdue messages announced: {open_count}"
    again = run(env, "sop", "sweep", ASPIRASI_DEMO="1")
    assert _last_line(again.output) == "overdue messages announced: 0"  # each deadline once
    recomputed = run(env, "sop", "recompute", ASPIRASI_SOP_REPLY_DAYS="30")
    assert recomputed.exit_code == 0
    assert _last_line(recomputed.output) == f"deadlines moved: {open_count}"


def _counts(output: str) -> list[str]:
    return [line for line in output.splitlines() if " removed: " in line and "[" not in line]


def test_retention_sweep(env: dict[str, str]) -> None:
    import sqlite3

    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "demo", ASPIRASI_DEMO="1").exit_code == 0
    path = env["ASPIRASI_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO attachments (message_id, kind, filename, content_type, size,"
            " storage_key, sha256, created_at)"
            " SELECT id, 'message', 'a.jpg', 'image/jpeg', 1, '', '', created_at FROM messages"
            " WHERE status IN ('done', 'rejected')"
        )
        closed = conn.execute("SELECT count(*) FROM attachments").fetchone()[0]
        assert closed > 0  # the demo has closed messages
        conn.execute("UPDATE messages SET updated_at = '2020-01-01 00:00:00.000000'")
        for at in ("2020-01-01 00:00:00.000000", "2999-01-01 00:00:00.000000"):
            conn.execute(
                "INSERT INTO audit_log (at, action, reason, client_ip, details)"
                " VALUES (?, 'account.read', '', '203.0.113.9', '{}')",
                (at,),
            )
    kept = run(env, "retention", "sweep", ASPIRASI_DEMO="1")
    # Attachment retention is off by default; audit entries go after 730 days.
    assert _counts(kept.output) == ["attachments removed: 0", "audit entries removed: 1"]
    swept = run(env, "retention", "sweep", ASPIRASI_ATTACHMENT_RETENTION_DAYS="30")
    assert swept.exit_code == 0, swept.output
    assert _counts(swept.output) == [
        f"attachments removed: {closed}",
        "audit entries removed: 0",
    ]
    with sqlite3.connect(path) as conn:
        (left,) = conn.execute("SELECT min(at) FROM audit_log").fetchone()
    assert left > "2020-01-02"
    with sqlite3.connect(path) as conn:
        removed = conn.execute(
            "SELECT count(*) FROM attachments WHERE removed_reason = 'retention'"
        ).fetchone()[0]
    assert removed == closed


def test_users_sweep_unverified(env: dict[str, str]) -> None:
    import sqlite3

    assert run(env, "db", "upgrade").exit_code == 0
    path = env["ASPIRASI_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        for n, created in enumerate(("2020-01-01 00:00:00.000000", "2999-01-01 00:00:00.000000")):
            conn.execute(
                "INSERT INTO accounts (email, username, full_name, role, created_at, password_hash)"
                " VALUES (?, ?, 'X', 'user', ?, 'h')",
                (f"u{n}@example.org", f"user{n}", created),
            )
    swept = run(env, "users", "sweep-unverified")
    assert swept.exit_code == 0, swept.output
    assert _last_line(swept.output) == "unverified accounts removed: 1"
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT username FROM accounts")] == ["user1"]


def test_privacy_recompute_public(env: dict[str, str]) -> None:
    """The masked public copies are computed again with the current masker: a
    stale copy is replaced, a missing one filled, one without need removed."""
    import sqlite3

    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "demo", ASPIRASI_DEMO="1").exit_code == 0
    path = env["ASPIRASI_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM messages ORDER BY id LIMIT 3")]
        conn.execute(
            "UPDATE messages SET body = 'WA 0812-3456-7890', body_public = NULL WHERE id = ?",
            (ids[0],),
        )
        conn.execute(
            "UPDATE messages SET subject = 'Tanggal 08.12.2024',"
            " subject_public = 'Tanggal 0812****024' WHERE id = ?",
            (ids[1],),
        )
    done = run(env, "privacy", "recompute-public", ASPIRASI_DEMO="1")
    assert done.exit_code == 0, done.output
    assert _last_line(done.output) == "messages changed: 2"
    with sqlite3.connect(path) as conn:
        first = conn.execute("SELECT body_public FROM messages WHERE id = ?", (ids[0],)).fetchone()
        second = conn.execute(
            "SELECT subject_public FROM messages WHERE id = ?", (ids[1],)
        ).fetchone()
    assert first == ("WA 0812*****890",) and second == (None,)
    again = run(env, "privacy", "recompute-public", ASPIRASI_DEMO="1")
    assert _last_line(again.output) == "messages changed: 0"
