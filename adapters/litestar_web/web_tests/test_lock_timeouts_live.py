"""One held lock does not stall everything: with a lock held by another
connection, a request that needs it answers 503 with ``Retry-After`` once the
lock timeout runs out (not 500, not after minutes), and the same request
succeeds once the lock is gone. Real server, real databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from .live import LiveServer, base_env, prepare_database

ROOT = ("root@example.org", "root", "root-long-password")
LOCK_TIMEOUT_MS = 400
#: The client's timeout: generous, only a request stalled behind the lock reaches it.
SAFETY = 30.0


def _login(http: Any) -> dict[str, str]:
    login = http.post(
        "/api/v1/auth/login",
        json={"login": "root", "password": ROOT[2]},
        headers={"Authorization": "Bearer none"},
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


def _serve(url: str, tmp_path: Path) -> LiveServer:
    env = base_env(
        url,
        tmp_path,
        ASPIRASI_DB_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS),
        ASPIRASI_SQLITE_BUSY_TIMEOUT_MS=str(LOCK_TIMEOUT_MS),
    )
    prepare_database(env, superadmin=ROOT)
    return LiveServer(env, tmp_path / "server.log").start()


def _assert_busy(response: Any) -> None:
    # An answer at all is the point: the holder never lets go here, so a request
    # waiting for it would run into the client's SAFETY timeout and fail the test.
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_busy"
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.postgres
def test_a_table_lock_held_elsewhere_answers_503_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    server = _serve(pg_url, tmp_path)
    holder = psycopg.connect(make_url(pg_url).set(drivername="postgresql").render_as_string(False))
    try:
        with server.client(timeout=SAFETY) as http:
            bearer = _login(http)
            assert http.get("/api/v1/me", headers=bearer).status_code == 200
            holder.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")  # and keep it
            _assert_busy(http.get("/api/v1/me", headers=bearer))
            holder.rollback()  # the lock is gone
            assert http.get("/api/v1/me", headers=bearer).status_code == 200
    finally:
        holder.close()
        server.stop()
    assert "unhandled_error" not in server.log()
    assert '"code": "database_busy"' in server.log()


def test_a_write_lock_held_elsewhere_answers_503_on_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    server = _serve(sqlite_url, tmp_path)
    holder = sqlite3.connect(make_url(sqlite_url).database or "", isolation_level=None)
    try:
        with server.client(timeout=SAFETY) as http:
            bearer = _login(http)
            change = {"full_name": "Root Admin"}
            assert http.patch("/api/v1/me", headers=bearer, json=change).status_code == 200
            holder.execute("BEGIN IMMEDIATE")  # another process's writer, holding on
            _assert_busy(http.patch("/api/v1/me", headers=bearer, json=change))
            # Reads go on meanwhile (WAL).
            assert http.get("/api/v1/me", headers=bearer).status_code == 200
            holder.execute("ROLLBACK")
            assert http.patch("/api/v1/me", headers=bearer, json=change).status_code == 200
    finally:
        holder.close()
        server.stop()
    assert "unhandled_error" not in server.log()
