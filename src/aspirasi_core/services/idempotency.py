"""Idempotency keys: a request sent again with the same key gets the first answer.

A client that timed out does not know whether its request was carried out; it
sends the request again with the same ``Idempotency-Key``, and the service must
not create a second message (a second ticket, second mails). The key is kept for
24 hours per sender: an account, or for anonymous requests (registration) a
fingerprint of the client that the adapter computes.

The life of a key:

1. :meth:`IdempotencyService.begin` (its own short transaction) claims the key
   (``in_progress``, for :data:`CLAIM_SECONDS`) — or returns the stored answer
   when the key is ``done``, refuses it (``idempotency_key_reused``, 422) when it
   came with another request, or answers ``idempotency_in_progress`` (409) while
   another request holds it.
2. The adapter hands the claim to the use case in :attr:`Context.idempotency`,
   bound to a function that turns the use case's result into the answer
   (:meth:`IdempotencyClaim.bind`). The use case's own transaction stores that
   answer and marks the key ``done`` (:func:`aspirasi_core.services.core.run_write`):
   the key and what it created commit together or not at all.
3. A use case that fails created nothing: the adapter releases the claim
   (:meth:`IdempotencyService.release`) and the same request may be sent again.
   A process killed in between leaves a claim that ends after
   :data:`CLAIM_SECONDS`; the next resend then takes the key over.

Keys whose 24 hours are over are ignored, and removed by :meth:`sweep` (one of
the outbox worker's :func:`~aspirasi_core.services.periodic_sweeps`).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
import attrs
import structlog

from ..domain.errors import Conflict, FieldError, Invalid
from .core import CoreDeps
from .ports import NewIdempotencyClaim, UnitOfWork

log = structlog.get_logger("aspirasi.idempotency")

#: How long a key and its answer are kept.
KEY_LIFETIME = timedelta(hours=24)
#: How long a claim holds a key before a resend may take it over (a request that
#: was killed or hangs).
CLAIM_SECONDS = 60
#: Longest key accepted (the IETF draft and Stripe allow 255 characters).
MAX_KEY_LENGTH = 255
#: Keys removed per statement by the sweep.
SWEEP_BATCH = 500


def check_key(value: object) -> str:
    """An ``Idempotency-Key`` as sent: 1–255 visible ASCII characters (a UUID, say).
    Raises :class:`Invalid` (``idempotency_key_invalid``)."""
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_KEY_LENGTH
        or not all("!" <= c <= "~" for c in value)
    ):
        raise Invalid(
            "The Idempotency-Key must be 1 to 255 visible ASCII characters.",
            code="idempotency_key_invalid",
            errors=[
                FieldError(
                    "Idempotency-Key",
                    "idempotency_key_invalid",
                    "The Idempotency-Key must be 1 to 255 visible ASCII characters.",
                )
            ],
        )
    return value


@attrs.frozen
class StoredResponse:
    """An answer as it was sent: status, headers that matter, body."""

    status: int
    body: bytes = attrs.field(repr=False)
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class IdempotencyRequest:
    """A request that came with an idempotency key.

    ``request``: what the request asks for (method, path and body in a canonical
    form, built by the adapter); the same key with another request is refused.
    Only a keyed digest of it is stored (it may hold a password). The key belongs
    to ``account_id``, or with no account to ``client`` (an anonymous client's
    fingerprint, e.g. a hash of its address and user agent).
    """

    key: str
    request: bytes = attrs.field(repr=False)
    account_id: int | None = None
    client: str = ""

    def owner(self) -> str:
        """Whose key it is: ``a:<account id>`` or ``c:<client fingerprint>``."""
        return f"a:{self.account_id}" if self.account_id is not None else f"c:{self.client}"


@attrs.define
class IdempotencyClaim:
    """A key claimed by this request. The creating use case's transaction calls
    :meth:`complete`; ``response`` is the answer it stored."""

    record_id: int
    token: bytes = attrs.field(repr=False)
    render: Callable[[Any], StoredResponse] | None = None
    response: StoredResponse | None = None

    def bind(self, render: Callable[[Any], StoredResponse]) -> IdempotencyClaim:
        """This claim with ``render``: the use case's result → the answer to keep."""
        self.render = render
        return self

    def complete(self, uow: UnitOfWork, result: Any) -> None:
        """Inside the creating transaction: store the answer and mark the key done.
        Raises :class:`Conflict` (``idempotency_in_progress``) when another request
        took the key over meanwhile (this claim ran out): then nothing commits."""
        if self.render is None:
            raise RuntimeError("IdempotencyClaim.bind() was not called")
        response = self.render(result)
        if not uow.idempotency.complete(
            self.record_id,
            self.token,
            status=response.status,
            headers=response.headers,
            body=response.body,
        ):
            raise in_progress()
        self.response = response


def in_progress() -> Conflict:
    """The error for a key another request is still working on (409)."""
    return Conflict(
        "A request with this Idempotency-Key is still being processed. Try again shortly.",
        code="idempotency_in_progress",
    )


def reused() -> Invalid:
    """The error for a key sent with another request (422)."""
    message = "This Idempotency-Key was already used for a different request."
    return Invalid(
        message,
        code="idempotency_key_reused",
        errors=[FieldError("Idempotency-Key", "idempotency_key_reused", message)],
    )


class IdempotencyService:
    """Claims, answers and forgets idempotency keys (see the module docstring)."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    def _claim(self, uow: UnitOfWork, request: IdempotencyRequest) -> Any:
        now = self._d.clock.now()
        digest = self._d.crypto.idempotency_digest
        key_hash = digest(f"{request.owner()}\0{request.key}".encode())
        request_hash = digest(request.request)
        token = secrets.token_bytes(16)
        claim = NewIdempotencyClaim(
            account_id=request.account_id,
            request_hash=request_hash,
            claim_token=token,
            created_at=now,
            locked_until=now + timedelta(seconds=CLAIM_SECONDS),
            expires_at=now + KEY_LIFETIME,
        )
        new_id = uow.idempotency.insert_claim(key_hash, claim)
        if new_id is not None:
            return IdempotencyClaim(record_id=new_id, token=token)
        record = uow.idempotency.get(key_hash, for_update=True)
        if record is None:  # removed between the two statements: the key is free
            new_id = uow.idempotency.insert_claim(key_hash, claim)
            if new_id is None:
                return in_progress()
            return IdempotencyClaim(record_id=new_id, token=token)
        if record.expires_at > now:
            if not hmac.compare_digest(record.request_hash, request_hash):
                return reused()
            if record.status == "done":
                return StoredResponse(
                    status=record.response_status or 200,
                    body=record.response_body or b"",
                    headers=dict(record.response_headers),
                )
            if record.locked_until is not None and record.locked_until > now:
                return in_progress()
        # Expired, or a claim that ran out (its request died): start afresh.
        uow.idempotency.take_over(record.id, claim)
        return IdempotencyClaim(record_id=record.id, token=token)

    async def begin(
        self, request: IdempotencyRequest, *, wait_seconds: float = 0
    ) -> IdempotencyClaim | StoredResponse:
        """Claim ``request``'s key, or return the answer stored for it.

        Raises :class:`Invalid` (``idempotency_key_reused``) when the key came with
        another request, :class:`Conflict` (``idempotency_in_progress``) when
        another request holds it — after waiting up to ``wait_seconds`` for that
        one to finish (forms: the second click of a double click gets the first
        one's answer)."""
        deadline = anyio.current_time() + wait_seconds
        pause = 0.05
        while True:
            outcome = await self._d.db.transaction(
                lambda uow: self._claim(uow, request), write=True
            )
            if isinstance(outcome, IdempotencyClaim | StoredResponse):
                if isinstance(outcome, StoredResponse):
                    log.info("idempotent_replay", status=outcome.status)
                return outcome
            if outcome.code != "idempotency_in_progress" or anyio.current_time() >= deadline:
                raise outcome
            await anyio.sleep(pause)
            pause = min(pause * 2, 0.5)

    async def release(self, claim: IdempotencyClaim) -> None:
        """Forget a claim whose request created nothing (it failed)."""
        await self._d.db.transaction(
            lambda uow: uow.idempotency.release(claim.record_id, claim.token), write=True
        )

    def sweep_sync(self, now: datetime | None = None) -> int:
        """Remove the keys whose lifetime ended; how many (batches of :data:`SWEEP_BATCH`)."""
        now = now or self._d.clock.now()
        removed = 0
        while True:
            count = self._d.db.run_sync(
                lambda uow: uow.idempotency.delete_expired(now, limit=SWEEP_BATCH), write=True
            )
            removed += count
            if count < SWEEP_BATCH:
                break
        if removed:
            log.info("idempotency_keys_swept", count=removed)
        return removed

    async def sweep(self) -> int:
        """:meth:`sweep_sync` in a worker thread."""
        return await anyio.to_thread.run_sync(self.sweep_sync)


__all__ = [
    "CLAIM_SECONDS",
    "KEY_LIFETIME",
    "IdempotencyClaim",
    "IdempotencyRequest",
    "IdempotencyService",
    "StoredResponse",
    "check_key",
]
