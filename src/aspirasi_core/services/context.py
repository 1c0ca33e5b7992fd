"""Who calls a use case, from where: passed by the adapters to every use case."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs

from ..domain.model import Actor

if TYPE_CHECKING:
    from .idempotency import IdempotencyClaim


@attrs.frozen
class Context:
    """The caller of a use case.

    ``actor`` is None for anonymous calls (register, public pages). ``client_ip``
    is what the adapter determined (it knows about trusted proxies) and feeds
    rate limits. ``language`` is the caller's language for texts the core stores
    (mail is in the recipient's language). ``idempotency``: the claimed key of a
    request that may be sent again (see :mod:`.idempotency`); the use cases that
    create something store their answer with it in their transaction.
    """

    actor: Actor | None = None
    client_ip: str | None = None
    request_id: str | None = None
    language: str = "id"
    idempotency: IdempotencyClaim | None = None

    @classmethod
    def system(cls) -> Context:
        """A call from the CLI or a script, with no person behind it."""
        return cls(actor=None, client_ip=None, request_id="system")


class SystemClock:
    """The real clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)
