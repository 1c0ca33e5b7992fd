"""Idempotency keys: the first answer to a request, kept for a resend of it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ...services.ports import IdempotencyRecord, NewIdempotencyClaim
from ..tables import idempotency_keys
from ._util import insert_unless_taken

k = idempotency_keys

IN_PROGRESS = "in_progress"
DONE = "done"

_COLUMNS = (
    "key_hash",
    "account_id",
    "request_hash",
    "status",
    "claim_token",
    "locked_until",
    "created_at",
    "expires_at",
)


@functools.cache
def _insert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (key_hash) DO NOTHING RETURNING id: a key that exists
    returns no row instead of aborting the transaction."""
    return insert_unless_taken(k, _COLUMNS, "key_hash", dialect)


def _claim_values(claim: NewIdempotencyClaim) -> dict[str, Any]:
    return {
        "account_id": claim.account_id,
        "request_hash": claim.request_hash,
        "claim_token": claim.claim_token,
        "locked_until": claim.locked_until,
        "created_at": claim.created_at,
        "expires_at": claim.expires_at,
    }


class SqlIdempotencyRepository:
    """:class:`~aspirasi_core.services.ports.IdempotencyRepository`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert_claim(self, key_hash: bytes, claim: NewIdempotencyClaim) -> int | None:
        values = {"key_hash": key_hash, "status": IN_PROGRESS, **_claim_values(claim)}
        row = self._conn.execute(_insert(self._conn.dialect.name), values).first()
        return None if row is None else int(row.id)

    def get(self, key_hash: bytes, *, for_update: bool = False) -> IdempotencyRecord | None:
        stmt = select(k).where(k.c.key_hash == key_hash)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._conn.execute(stmt).first()
        if row is None:
            return None
        return IdempotencyRecord(
            id=row.id,
            account_id=row.account_id,
            request_hash=bytes(row.request_hash),
            status=row.status,
            claim_token=bytes(row.claim_token),
            locked_until=row.locked_until,
            response_status=row.response_status,
            response_headers=dict(row.response_headers or {}),
            response_body=None if row.response_body is None else bytes(row.response_body),
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    def take_over(self, record_id: int, claim: NewIdempotencyClaim) -> None:
        self._conn.execute(
            update(k)
            .where(k.c.id == record_id)
            .values(
                status=IN_PROGRESS,
                response_status=None,
                response_headers=None,
                response_body=None,
                **_claim_values(claim),
            )
        )

    def complete(
        self,
        record_id: int,
        claim_token: bytes,
        *,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> bool:
        result = self._conn.execute(
            update(k)
            .where(k.c.id == record_id, k.c.claim_token == claim_token, k.c.status == IN_PROGRESS)
            .values(
                status=DONE,
                locked_until=None,
                response_status=status,
                response_headers=dict(headers),
                response_body=body,
            )
        )
        return result.rowcount == 1

    def release(self, record_id: int, claim_token: bytes) -> bool:
        result = self._conn.execute(
            delete(k).where(
                k.c.id == record_id, k.c.claim_token == claim_token, k.c.status == IN_PROGRESS
            )
        )
        return result.rowcount == 1

    def delete_expired(self, now: datetime, *, limit: int) -> int:
        doomed = select(k.c.id).where(k.c.expires_at <= now).order_by(k.c.id).limit(limit)
        ids = list(self._conn.execute(doomed).scalars())
        if not ids:
            return 0
        return self._conn.execute(delete(k).where(k.c.id.in_(ids))).rowcount

    def delete_for_account(self, account_id: int) -> int:
        return self._conn.execute(delete(k).where(k.c.account_id == account_id)).rowcount
