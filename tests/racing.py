"""Helpers of the race tests: start threads together, name a database's URL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text


def db_url(db: Any) -> str:
    """The URL of a :class:`~aspirasi_core.storage.SqlDatabase`, password included."""
    return str(db.engine.url.render_as_string(hide_password=False))


def run_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Run ``target(i)`` in ``count`` threads started together; re-raise the first error."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def wait_for_lock_waiter(engine: Any, *, exclude_pid: int | None = None) -> bool:
    """Until a session of ``engine``'s PostgreSQL database (other than the backend
    ``exclude_pid``) waits for a lock — observed in ``pg_stat_activity``, not slept
    on; False when none did within 30 s."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND pid <> :exclude"
    )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        for _ in range(3000):
            if conn.execute(query, {"exclude": exclude_pid or 0}).scalar_one():
                return True
            time.sleep(0.01)
    return False
