"""The outbox is operable: listings say how many items match and when they are
cut short, with totals per status; dead letters are retried all at once (or a
filtered set), in one transaction, from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from aspirasi_core.bootstrap import bootstrap, migrate
from aspirasi_core.cli import main
from aspirasi_core.settings import Settings

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A SQLite deployment with cheap password hashes."""
    return {
        "ASPIRASI_DATABASE_URL": f"sqlite:///{tmp_path / 'outbox.db'}",
        "ASPIRASI_STORAGE_PATH": str(tmp_path / "files"),
        "ASPIRASI_ARGON2_MEMORY_KIB": "1024",
        "ASPIRASI_ARGON2_TIME_COST": "1",
    }


def run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _queue(env: dict[str, str]) -> None:
    """250 dead letters (150 mails refused by the server, 60 mails to a host that
    was down, 40 webhooks), 7 pending items and 3 delivered ones."""
    settings = Settings.from_env(env)
    migrate(settings)
    app = bootstrap(settings)

    def fill(uow) -> None:  # type: ignore[no-untyped-def]
        dead = (
            [("email", "SMTPRecipientsRefused: <address> refused")] * 150
            + [("email", "ConnectionRefusedError: [Errno 111] Connection refused")] * 60
            + [("webhook", "HTTP 500 from the receiver")] * 40
        )
        for topic, error in dead:
            uow.outbox.fail(uow.outbox.add(topic, {"n": 1}, created_at=NOW), error, retry_at=None)
        for _ in range(7):
            uow.outbox.add("email", {"n": 1}, created_at=NOW)
        for _ in range(3):
            uow.outbox.complete(uow.outbox.add("email", {"n": 1}, created_at=NOW), NOW)

    try:
        app.deps.db.run_sync(fill)
    finally:
        app.deps.db.dispose()  # type: ignore[attr-defined]


def test_listing_says_how_many_match_and_when_it_is_cut_short(env: dict[str, str]) -> None:
    _queue(env)
    listed = run(env, "outbox", "list", "--status", "dead")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert len(lines) == 100 and all("\tdead\t" in line for line in lines)
    assert "100 of 250 matching (cut short" in listed.stderr
    assert "totals: pending 7, sending 0, done 3, dead 250" in listed.stderr
    everything = run(env, "outbox", "list", "--status", "dead", "--limit", "1000")
    assert len(everything.stdout.splitlines()) == 250
    assert "250 of 250 matching" in everything.stderr and "cut short" not in everything.stderr
    webhooks = run(env, "outbox", "list", "--status", "dead", "--topic", "webhook")
    assert len(webhooks.stdout.splitlines()) == 40 and "40 of 40" in webhooks.stderr
    down = run(env, "outbox", "list", "--error", "connection REFUSED")  # any case
    assert len(down.stdout.splitlines()) == 60


def test_dead_letters_are_retried_by_filter_or_all_at_once(env: dict[str, str]) -> None:
    _queue(env)
    assert run(env, "outbox", "retry").exit_code != 0  # nothing named: refused
    down = run(env, "outbox", "retry", "--all-dead", "--error", "Connection refused")
    assert down.exit_code == 0 and "60 dead letters queued again" in down.stdout
    hooks = run(env, "outbox", "retry", "--all-dead", "--topic", "webhook")
    assert "40 dead letters queued again" in hooks.stdout
    listed = run(env, "outbox", "list", "--status", "dead", "--limit", "1")
    assert "totals: pending 107, sending 0, done 3, dead 150" in listed.stderr
    first_dead = int(listed.stdout.split("\t")[0])
    one = run(env, "outbox", "retry", str(first_dead))
    assert one.exit_code == 0 and "1 dead letter queued again" in one.stdout
    again = run(env, "outbox", "retry", str(first_dead))
    assert again.exit_code != 0 and "is not a dead letter" in again.output
    rest = run(env, "outbox", "retry", "--all-dead")
    assert "149 dead letters queued again" in rest.stdout
    final = run(env, "outbox", "list", "--status", "pending", "--limit", "1")
    assert "totals: pending 257, sending 0, done 3, dead 0" in final.stderr
