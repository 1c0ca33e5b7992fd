"""Domain errors: a small hierarchy the adapters map to their own answers.

Every error carries a stable machine ``code`` (API clients and tests rely on it)
and an English ``message`` that doubles as the gettext msgid, with ``params``
for interpolation. The web adapter maps the classes to HTTP statuses in one
table: :class:`Invalid` → 422, :class:`NotFound` → 404, :class:`NotAllowed` →
403, :class:`Unauthenticated` → 401, :class:`Conflict` → 409,
:class:`Throttled` → 429, :class:`StorageFull` → 507, :class:`Unavailable` → 503.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    default_code = "domain_error"

    def __init__(
        self, message: str, *, code: str | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        self.code = code or self.default_code
        self.message = message
        self.params: dict[str, Any] = dict(params or {})
        super().__init__(self.render())

    def render(self) -> str:
        """The English text with its parameters filled in."""
        try:
            return self.message % self.params if self.params else self.message
        except (KeyError, TypeError, ValueError):
            return self.message


@attrs.frozen
class FieldError:
    """One problem with one input field; ``message`` is a gettext msgid."""

    field: str
    code: str
    message: str
    params: Mapping[str, Any] = attrs.field(factory=dict)

    def render(self) -> str:
        try:
            return self.message % dict(self.params) if self.params else self.message
        except (KeyError, TypeError, ValueError):
            return self.message


class Invalid(DomainError):
    """The input is wrong; ``errors`` lists each field's problems."""

    default_code = "invalid"

    def __init__(
        self,
        message: str = "The input is not valid.",
        *,
        errors: Iterable[FieldError] = (),
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__(message, code=code, params=params)

    @classmethod
    def field(cls, field: str, code: str, message: str, **params: Any) -> Invalid:
        """Shortcut for an error about a single field."""
        return cls(errors=[FieldError(field, code, message, params)], code=code)


class NotFound(DomainError):
    """The record does not exist, or the actor may not know that it exists."""

    default_code = "not_found"


class NotAllowed(DomainError):
    """The actor is known but may not do this."""

    default_code = "not_allowed"


class Unauthenticated(DomainError):
    """No actor, or the credentials are wrong (never says which)."""

    default_code = "unauthenticated"


class Conflict(DomainError):
    """The action clashes with the current state (status, uniqueness, rated twice)."""

    default_code = "conflict"


class IllegalTransition(Conflict):
    """The status machine has no such move from the message's status."""

    default_code = "illegal_transition"

    def __init__(self, status: str, action: str) -> None:
        self.status = status
        self.action = action
        super().__init__(
            "The action '%(action)s' is not possible while the message is '%(status)s'.",
            params={"status": status, "action": action},
        )


class Throttled(DomainError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    default_code = "throttled"

    def __init__(
        self,
        message: str = "Too many attempts. Please try again in %(seconds)s seconds.",
        *,
        retry_after: int,
        code: str | None = None,
    ) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, code=code, params={"seconds": self.retry_after})


class Unavailable(DomainError):
    """Something the service needs is out of reach for a moment (the database is
    down, or busy past its timeouts and retries); nothing was written, and the
    same request may succeed after ``retry_after`` seconds. The web answers 503
    with ``Retry-After``.

    Generic on purpose: the storage layer raises it for faults it recognises
    (``database_unavailable``; ``database_busy`` for a lock or statement timeout
    and for a transaction still deadlocked after its retries), and other parts of
    the core may raise it with a code of their own.
    """

    default_code = "unavailable"

    def __init__(
        self,
        message: str = "The service is briefly unavailable. Please try again in a moment.",
        *,
        retry_after: int = 5,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, code=code, params=params)


class StorageFull(Unavailable):
    """The disk (or the database's disk) has no room for what was sent; nothing
    was stored. The web answers 507 with ``Retry-After``."""

    default_code = "storage_full"

    def __init__(
        self,
        message: str = "We cannot store this right now. Please try again later.",
        *,
        retry_after: int = 300,
        code: str | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after, code=code)
