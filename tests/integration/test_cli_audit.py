"""``aspirasi audit verify|seal`` in-process on a temp SQLite file: OK with the
counts on the demo's messages; a log row changed with plain SQL makes it name the
message's ticket and the entry's id and exit 1, in Indonesian or English."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from aspirasi_core.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "ASPIRASI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ASPIRASI_STORAGE_PATH": str(tmp_path / "files"),
        "ASPIRASI_ARGON2_MEMORY_KIB": "1024",
        "ASPIRASI_ARGON2_TIME_COST": "1",
        "ASPIRASI_DEMO": "1",
    }


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_verify_says_ok_and_then_finds_a_row_changed_in_the_database(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "demo").exit_code == 0
    ok = run(env, "audit", "verify", "--lang", "en")
    assert ok.exit_code == 0, ok.output
    assert "\nOK: " in ok.output and "chains with" in ok.output
    assert "rantai" in run(env, "audit", "verify").output  # ASPIRASI_DEFAULT_LANGUAGE=id
    sealed = run(env, "audit", "seal", "--lang", "en")
    assert sealed.exit_code == 0 and "Daily roots written: " in sealed.output

    engine = create_engine(env["ASPIRASI_DATABASE_URL"])
    with engine.begin() as conn:
        entry_id, ticket = conn.execute(
            text(
                "SELECT message_log.id, messages.ticket FROM message_log"
                " JOIN messages ON messages.id = message_log.message_id"
                " WHERE message_log.action = 'forward' ORDER BY message_log.id LIMIT 1"
            )
        ).one()
        conn.execute(
            text("UPDATE message_log SET note = note || '.' WHERE id = :i"), {"i": entry_id}
        )
    engine.dispose()
    broken = run(env, "audit", "verify", "--lang", "en")
    assert broken.exit_code == 1
    assert (
        f"First broken link: ticket {ticket}, log entry {entry_id}: its content was changed."
        in broken.output
    )
    indonesian = run(env, "audit", "verify", "--lang", "id")
    assert indonesian.exit_code == 1
    assert f"tiket {ticket}, entri riwayat {entry_id}: isinya telah diubah" in indonesian.output
