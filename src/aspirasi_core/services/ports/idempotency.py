"""The idempotency keys' port."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

import attrs


@attrs.frozen
class NewIdempotencyClaim:
    """A claim on an idempotency key: who sent it, the request's digest, and the
    random token that owns the key until ``locked_until``."""

    account_id: int | None
    request_hash: bytes = attrs.field(repr=False)
    claim_token: bytes = attrs.field(repr=False)
    created_at: datetime
    locked_until: datetime
    expires_at: datetime


@attrs.frozen
class IdempotencyRecord:
    """A stored idempotency key (see :class:`IdempotencyRepository`)."""

    id: int
    account_id: int | None
    request_hash: bytes = attrs.field(repr=False)
    #: ``in_progress`` (claimed until ``locked_until``) or ``done`` (with the answer).
    status: str
    claim_token: bytes = attrs.field(repr=False)
    locked_until: datetime | None
    response_status: int | None
    response_headers: Mapping[str, str]
    response_body: bytes | None = attrs.field(repr=False)
    created_at: datetime
    expires_at: datetime


class IdempotencyRepository(Protocol):
    """Idempotency keys, by ``key_hash`` (unique: who sent it and the key)."""

    def insert_claim(self, key_hash: bytes, claim: NewIdempotencyClaim) -> int | None:
        """Store a new key as ``in_progress`` under ``claim``; its id, or None (and
        nothing written) when the key exists."""

    def get(self, key_hash: bytes, *, for_update: bool = False) -> IdempotencyRecord | None:
        """The stored key; ``for_update`` locks its row until the transaction ends."""

    def take_over(self, record_id: int, claim: NewIdempotencyClaim) -> None:
        """Claim an existing key afresh (it expired, or its claim ran out): it
        becomes ``in_progress`` under ``claim``, its old answer forgotten."""

    def complete(
        self,
        record_id: int,
        claim_token: bytes,
        *,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> bool:
        """Store the answer and mark the key ``done``, only if it is still
        ``in_progress`` under ``claim_token``; whether it was."""

    def release(self, record_id: int, claim_token: bytes) -> bool:
        """Forget a claim that created nothing (still ``in_progress`` under
        ``claim_token``); whether it was there."""

    def delete_expired(self, now: datetime, *, limit: int) -> int:
        """Remove up to ``limit`` keys whose lifetime ended; how many."""

    def delete_for_account(self, account_id: int) -> int:
        """Remove every key of the account (its answers may quote its texts); how many."""
