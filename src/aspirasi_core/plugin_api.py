"""The public API of the core for plugins: what a plugin may import besides
:mod:`aspirasi_core.hookspecs`' markers, :mod:`aspirasi_core.plugin_types`, the
domain (:mod:`aspirasi_core.domain`) and the settings.

:class:`PluginContext` is the whole surface a plugin needs at run time, in the
way Datasette hands ``datasette`` to its plugins: read and write transactions
(:class:`~aspirasi_core.plugin_types.Transaction`, a declared port: no
connection or repository to reach for), the settings, the clock, the outbox,
the role policy, the message queries and the signed-in actor of a request. The
core hands it to the historic hook ``aspirasi_startup``; the web app gives it
to a request's handler through ``aspirasi_web.context.plugin_context(request)``.

:data:`schema` describes the core's tables a plugin may query (read only:
only the core writes them). It leaves out what is secret or personal: password
hashes, NIKs, e-mail addresses, tokens, the sender of a message
(``messages.author_id``) and the actor of a log entry (``message_log.actor_id``);
read people through ``tx.lookup`` and messages through :attr:`PluginContext.queries`,
which hide the sender of an anonymous message.

:class:`OutboxItem` is what ``aspirasi_deliver_outbox_item`` receives.

A storage plugin (hook ``aspirasi_attachment_store``) implements
:class:`AttachmentStore` with the core's keys: :func:`new_attachment_key` makes
one, :func:`validate_attachment_key` refuses anything else (``../x``), and
pending files older than :data:`ATTACHMENT_ORPHAN_AGE` seconds are swept.

Plugins never import ``aspirasi_core.storage`` or ``aspirasi_core.services.core``
(an import-linter contract in ``pyproject.toml`` says so).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

import attrs
from sqlalchemy import TableClause, column, table

from .domain.errors import Unauthenticated
from .domain.model import Actor
from .domain.policy import Policy
from .hookspecs import hookimpl
from .plugin_types import Transaction, WriteTransaction
from .services.context import Context
from .services.core import CoreDeps, HookTransaction, run_write
from .services.outbox import OutboxDispatcher
from .services.ports import AttachmentStore, Clock, OutboxItem
from .services.queries import QueryService
from .settings import Settings
from .storage import tables as _core_tables
from .storage.files import ORPHAN_AGE as ATTACHMENT_ORPHAN_AGE
from .storage.files import new_key as new_attachment_key
from .storage.files import validate_key as validate_attachment_key
from .storage.types import Id, UTCDateTime

if TYPE_CHECKING:
    from .services import Aspirasi

__all__ = [
    "ATTACHMENT_ORPHAN_AGE",
    "AttachmentStore",
    "CoreSchema",
    "Id",
    "OutboxItem",
    "PluginContext",
    "Transaction",
    "UTCDateTime",
    "WriteTransaction",
    "hookimpl",
    "new_attachment_key",
    "schema",
    "validate_attachment_key",
]

T = TypeVar("T")

#: Columns of the core's tables that plugins do not see (secret, or personal
#: data whose reads the core audits itself).
_HIDDEN: dict[str, frozenset[str]] = {
    "accounts": frozenset(
        {
            "email",
            "username",
            "permissions",
            "password_hash",
            "nik_encrypted",
            "nik_index",
            "nik_masked",
            "auth_version",
            "email_verified_at",
        }
    ),
    "messages": frozenset({"author_id"}),
    # The chain's hashes cover actor_id: with every other column at hand, a
    # plugin could find an anonymous sender's id by trying each account's.
    "message_log": frozenset({"actor_id", "prev_hash", "entry_hash"}),
    "replies": frozenset(),
    "ratings": frozenset(),
}
_TABLES = (
    "agencies",
    "categories",
    "subcategories",
    "accounts",
    "messages",
    "message_log",
    "replies",
    "ratings",
    "days_off",
    "log_roots",
)


def _read_only(name: str) -> TableClause:
    core = getattr(_core_tables, name)
    hidden = _HIDDEN.get(name, frozenset())
    return table(name, *(column(c.name, c.type) for c in core.columns if c.name not in hidden))


@attrs.frozen
class CoreSchema:
    """The core's tables a plugin may query, as SQLAlchemy ``TableClause``
    objects with the core's column types (timestamps come back as aware UTC
    ``datetime`` values): ``select(schema.messages.c.id).where(...)``, run with
    ``tx.execute(...)``. A copy apart from the core's own ``MetaData``; columns
    the core renames or drops break a plugin's tests, not silently its results."""

    agencies: TableClause
    categories: TableClause
    subcategories: TableClause
    #: ``id``, ``full_name``, ``role``, ``agency_id``, ``is_active``,
    #: ``language``, ``created_at``, ``deleted_at``.
    accounts: TableClause
    #: Every column but ``author_id``.
    messages: TableClause
    #: Every column but ``actor_id`` and the hashes (``prev_hash``, ``entry_hash``).
    message_log: TableClause
    replies: TableClause
    ratings: TableClause
    days_off: TableClause
    #: The daily roots over all messages' hash chains (``day``, ``root``,
    #: ``prev_root``, ``chains``, ``created_at``): public, as the province
    #: publishes them (docs/audit.md).
    log_roots: TableClause

    @property
    def tables(self) -> MappingProxyType[str, TableClause]:
        """The tables by name (read only)."""
        return MappingProxyType({name: getattr(self, name) for name in _TABLES})


#: The core's tables a plugin may query (see :class:`CoreSchema`).
schema = CoreSchema(**{name: _read_only(name) for name in _TABLES})


@attrs.frozen
class PluginContext:
    """What a plugin gets from the core (see the module docstring). Build it
    with :meth:`of`; it is cheap, and the same for every request of an app."""

    settings: Settings
    clock: Clock
    #: Roles and permissions (``policy.allows(actor, "hello.greet")``).
    policy: Policy
    #: The outbox (``outbox.list("dead")``, ``outbox.dispatch_once()``); a plugin
    #: queues items by recording events in :meth:`write` or from
    #: ``aspirasi_outbox_items``.
    outbox: OutboxDispatcher
    #: The core's message queries (``backoffice``, ``message``, ``logs``), which
    #: apply the reader's scope and hide anonymous senders.
    queries: QueryService
    _deps: CoreDeps = attrs.field(repr=False, alias="deps")

    @classmethod
    def of(cls, app: Aspirasi) -> PluginContext:
        """The context of an application built by :func:`aspirasi_core.bootstrap.bootstrap`."""
        deps = app.deps
        return cls(
            settings=deps.settings,
            clock=deps.clock,
            policy=deps.policy,
            outbox=app.outbox,
            queries=app.queries,
            deps=deps,
        )

    async def read(self, fn: Callable[[Transaction], T], *, report: bool = False) -> T:
        """Run ``fn`` in one read transaction (in a worker thread) and return its result.
        ``report=True``: a long report (aggregates over a period, an export), which
        PostgreSQL lets run up to ``ASPIRASI_DB_REPORT_STATEMENT_TIMEOUT_MS`` instead
        of the service's statement timeout."""
        deps = self._deps
        return await deps.db.transaction(
            lambda uow: fn(HookTransaction(uow, deps)), write=False, report=report
        )

    async def write(self, fn: Callable[[WriteTransaction], T]) -> T:
        """Run ``fn`` in one write transaction: commit if it returns, roll back if
        it raises. The events it records become outbox items in the same
        transaction, and reach the ``aspirasi_after_*`` hooks after the commit.
        ``fn`` may run more than once (a transaction the database gave up on is
        run again): it must only work through the transaction it is given."""
        deps = self._deps
        return await run_write(deps, lambda uow, events: fn(HookTransaction(uow, deps, events)))

    def actor(self, ctx: Context) -> Actor:
        """The signed-in actor of ``ctx``; :class:`Unauthenticated` without one."""
        if ctx.actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        return ctx.actor

    def require(self, ctx: Context, permission: str) -> Actor:
        """The signed-in actor of ``ctx`` when it holds ``permission``;
        ``Unauthenticated`` without an actor, ``NotAllowed`` without the permission."""
        actor = self.actor(ctx)
        self.policy.require(actor, permission)
        return actor
