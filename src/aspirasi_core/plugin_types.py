"""Values and small interfaces that hooks receive or return.

Kept apart from :mod:`aspirasi_core.hookspecs` so plugins can import them at
run time without importing pluggy's markers twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import attrs

from .domain.events import Event
from .domain.model import Account, Actor, Agency


@attrs.frozen
class CategoryDecl:
    """A sub-category (under a category, created too if missing) that must exist."""

    category_code: str
    category_name: str
    code: str
    name: str


@attrs.frozen
class SubmissionDraft:
    """A message about to be stored, as ``aspirasi_validate_submission`` sees it."""

    subject: str
    body: str
    confidential: bool
    anonymous: bool
    attachment_count: int


@attrs.frozen
class UseCaseCall:
    """What ``aspirasi_before_use_case`` is told about the call to come."""

    name: str
    actor: Actor | None = None
    client_ip: str | None = None
    subject: str | None = attrs.field(default=None, repr=False)
    #: For ``login``: the id of a trusted device, a client that proved with its
    #: signed device token that it logged in to this account before (see
    #: :mod:`aspirasi_core.security.devices`); None for untrusted clients.
    device: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class OutboxMessage:
    """A side effect for the outbox: ``topic`` chooses the deliverer
    (``email`` for notify_email); ``payload`` must be JSON-serializable. Payloads
    are stored encrypted, since they may carry links with tokens. A payload meant
    for one person names their e-mail address under ``to``: when that account is
    deleted, its items not yet sent are dropped."""

    topic: str
    payload: Mapping[str, Any]


@attrs.frozen
class ComponentStatus:
    """How one thing the service depends on is doing, for ``/readyz``.

    ``ok`` False with ``essential`` True makes the whole service not ready (503);
    a non-essential component that is down only shows as ``degraded`` (the
    service works without it, as rate limits do with in-memory counters).
    ``detail`` is shown as it is: plain JSON values, never a secret.
    """

    name: str
    ok: bool
    essential: bool = True
    detail: Mapping[str, Any] = attrs.field(factory=dict)


class Directory(Protocol):
    """Code → id look-ups for hooks (cached by the core)."""

    def category_id(self, code: str) -> int | None: ...

    def subcategory_id(self, category_code: str, code: str) -> int | None: ...

    def agency_id(self, code: str) -> int | None: ...


class RecipientLookup(Directory, Protocol):
    """Finds the people a side effect is for, inside the current transaction.

    Also a :class:`Directory` (code → id look-ups), so a plugin can tell whether
    an event concerns its sub-category."""

    def account(self, account_id: int) -> Account | None: ...

    def with_role(self, role: str) -> list[Account]:
        """Active, verified accounts of this level."""

    def operators_of(self, agency_id: int) -> list[Account]: ...

    def agency(self, agency_id: int) -> Agency | None:
        """The agency (for its name in a mail), or None."""

    def with_permission(self, permission: str) -> list[Account]:
        """Accounts granted the permission (and super admins)."""


class Transaction(Protocol):
    """One open transaction, as a plugin sees it: what
    :meth:`aspirasi_core.plugin_api.PluginContext.read` hands to its function, and
    what ``aspirasi_in_transaction`` receives.

    A plugin reads the core's tables through
    :data:`aspirasi_core.plugin_api.schema` and reads and writes its own tables
    with :meth:`execute`; the core's tables are only ever written by the core.
    """

    #: The database's SQLAlchemy dialect name: ``sqlite`` or ``postgresql``.
    dialect: str
    #: Accounts, agencies and code → id look-ups, in this transaction.
    lookup: RecipientLookup

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run a SQLAlchemy Core statement in this transaction; returns its ``Result``."""

    def notify(
        self,
        account_ids: Iterable[int],
        *,
        kind: str,
        text: str,
        params: Mapping[str, str],
        message_id: int | None = None,
    ) -> int:
        """Add an in-app notification (the bell) for each account, in this
        transaction; ``text`` is an English msgid the web app translates with
        ``params``. Returns how many were added."""


class WriteTransaction(Transaction, Protocol):
    """A write transaction (:meth:`aspirasi_core.plugin_api.PluginContext.write`)."""

    def record(self, event: Event) -> None:
        """Record a domain event of this change: ``aspirasi_outbox_items`` turns it
        into outbox items in this transaction, and the ``aspirasi_after_*`` hooks
        hear about it once the change is committed."""
