"""The shared machinery of the use cases: dependencies, events, hooks.

:class:`CoreDeps` bundles what every use case needs. :class:`EventRecorder`
collects the domain events a transaction produces: before the commit it asks
plugins for outbox items (``aspirasi_outbox_items``) and stores them in the same
transaction; after the commit it calls the ``aspirasi_after_*`` hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import attrs
import structlog

from ..domain.errors import Unauthenticated
from ..domain.events import Event, MessageSubmitted, StatusChanged
from ..domain.model import Account, Actor, Agency, Role
from ..domain.policy import MessageScope, Policy
from ..domain.regions import Regions, load_regions
from ..plugin_types import OutboxMessage, RecipientLookup, UseCaseCall
from ..settings import Settings
from .context import Context
from .ports import (
    AttachmentStore,
    Clock,
    Database,
    KeyedCrypto,
    PasswordHashing,
    UnitOfWork,
)

if TYPE_CHECKING:
    from .idempotency import IdempotencyClaim

T = TypeVar("T")
log = structlog.get_logger("aspirasi.core")


@attrs.define
class CoreDeps:
    """Everything the use cases depend on. Built by :func:`aspirasi_core.bootstrap.bootstrap`.

    The services are ports (:mod:`aspirasi_core.services.ports`), so a test or an
    embedding application may pass its own; settings and the policy are values."""

    settings: Settings
    db: Database
    clock: Clock
    hasher: PasswordHashing
    crypto: KeyedCrypto
    policy: Policy
    #: ``pluggy.PluginManager.hook`` (duck-typed: the services never import pluggy).
    hook: Any
    files: AttachmentStore
    directory_cache: DirectoryCache = attrs.field(factory=lambda: DirectoryCache())
    #: Called (without arguments) after a commit that queued outbox items, so an
    #: in-process dispatcher can wake up.
    outbox_listeners: list[Callable[[], None]] = attrs.field(factory=list)
    #: Calls the ``aspirasi_after_*`` hook named by its first argument with the event,
    #: each plugin's implementation in isolation
    #: (:func:`aspirasi_core.plugins.isolated_after_hooks`, which ``bootstrap`` passes).
    #: None: the hook is called through :attr:`hook` at once, and the first
    #: implementation that raises keeps the later ones from the event.
    after_hooks: Callable[[str, Any], None] | None = None

    @property
    def regions(self) -> Regions:
        """The province's regencies and districts (``ASPIRASI_REGIONS_FILE``, else
        the bundled East Kalimantan file), read once."""
        return load_regions(self.settings.regions_file)

    async def before(
        self, name: str, ctx: Context, subject: str | None = None, *, device: str | None = None
    ) -> None:
        """Run the ``aspirasi_before_use_case`` veto hook in a worker thread (a
        limiter may talk to Redis; the event loop must not wait for it)."""
        caller = self.hook.aspirasi_before_use_case
        if not caller.get_hookimpls():
            return  # no plugin vetoes use cases: no trip to a worker thread
        call = UseCaseCall(
            name=name, actor=ctx.actor, client_ip=ctx.client_ip, subject=subject, device=device
        )
        await anyio.to_thread.run_sync(lambda: caller(call=call))

    def scopes_for(
        self, actor: Actor | None, uow: UnitOfWork | None = None
    ) -> tuple[MessageScope, ...]:
        """Plugin visibility scopes of ``actor`` (empty for anonymous and citizens)."""
        if (
            actor is None
            or not actor.verified
            or (actor.role == Role.USER and not actor.permissions)
        ):
            return ()
        directory = DirectoryLookup(self.directory_cache, uow, self.db)
        scopes: list[MessageScope] = []
        for result in self.hook.aspirasi_visibility_scopes(actor=actor, directory=directory):
            if result:
                scopes.extend(result)
        return tuple(scopes)


class DirectoryCache:
    """Code → id look-ups. Ids never change for a code, so hits are cached forever;
    misses are not (a sub-category may be created later)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, ...], int] = {}

    def get(self, key: tuple[str, ...]) -> int | None:
        return self._ids.get(key)

    def put(self, key: tuple[str, ...], value: int | None) -> int | None:
        if value is not None:
            self._ids[key] = value
        return value


class DirectoryLookup:
    """The ``Directory`` handed to hooks; uses the open unit of work when there is one."""

    def __init__(self, cache: DirectoryCache, uow: UnitOfWork | None, db: Database) -> None:
        self._cache = cache
        self._uow = uow
        self._db = db

    def _run(self, fn: Callable[[UnitOfWork], T]) -> T:
        if self._uow is not None:
            return fn(self._uow)
        return self._db.run_sync(fn, write=False)

    def category_id(self, code: str) -> int | None:
        key = ("category", code)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found = self._run(lambda uow: uow.directory.category_by_code(code))
        return self._cache.put(key, found.id if found else None)

    def subcategory_id(self, category_code: str, code: str) -> int | None:
        key = ("subcategory", category_code, code)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        category_id = self.category_id(category_code)
        if category_id is None:
            return None
        found = self._run(lambda uow: uow.directory.subcategory_by_code(category_id, code))
        return self._cache.put(key, found.id if found else None)

    def agency_id(self, code: str) -> int | None:
        key = ("agency", code)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found = self._run(lambda uow: uow.directory.agency_by_code(code))
        return self._cache.put(key, found.id if found else None)


class RecipientLookupImpl(DirectoryLookup):
    """The ``RecipientLookup`` handed to ``aspirasi_outbox_items``."""

    def __init__(self, uow: UnitOfWork, deps: CoreDeps) -> None:
        super().__init__(deps.directory_cache, uow, deps.db)
        self._tx = uow

    def account(self, account_id: int) -> Account | None:
        return self._tx.accounts.get(account_id)

    def with_role(self, role: str) -> list[Account]:
        return self._tx.accounts.recipients(role=role)

    def agency(self, agency_id: int) -> Agency | None:
        return self._tx.directory.agency(agency_id)

    def operators_of(self, agency_id: int) -> list[Account]:
        return self._tx.accounts.recipients(role=Role.OPERATOR, agency_id=agency_id)

    def with_permission(self, permission: str) -> list[Account]:
        return self._tx.accounts.recipients(permission=permission)


class HookTransaction:
    """The :class:`~aspirasi_core.plugin_types.WriteTransaction` handed to plugins:
    a unit of work seen through the plugin API (no repositories, no connection)."""

    def __init__(
        self, uow: UnitOfWork, deps: CoreDeps, recorder: EventRecorder | None = None
    ) -> None:
        self._uow = uow
        self._recorder = recorder
        self.dialect: str = uow.dialect
        self.lookup: RecipientLookup = RecipientLookupImpl(uow, deps)
        self._now = deps.clock.now

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._uow.execute(statement, parameters)

    def notify(
        self,
        account_ids: Iterable[int],
        *,
        kind: str,
        text: str,
        params: Mapping[str, str],
        message_id: int | None = None,
    ) -> int:
        return self._uow.notifications.add_many(
            account_ids,
            kind=kind,
            message_id=message_id,
            text=text,
            params=params,
            created_at=self._now(),
        )

    def record(self, event: Event) -> None:
        if self._recorder is None:
            raise RuntimeError("events are recorded in a write transaction only")
        self._recorder.record(event)


class EventRecorder:
    """Collects the events of one transaction (see the module docstring)."""

    def __init__(self, deps: CoreDeps) -> None:
        self._deps = deps
        self.events: list[Event] = []
        self.queued = 0

    def record(self, event: Event) -> None:
        self.events.append(event)

    def flush_to_outbox(self, uow: UnitOfWork) -> None:
        """Inside the transaction: turn events into outbox items, then let plugins
        update derived tables (``aspirasi_in_transaction``), last before the commit."""
        if not self.events:
            return
        lookup = RecipientLookupImpl(uow, self._deps)
        now = self._deps.clock.now()
        for event in self.events:
            results: Sequence[Sequence[OutboxMessage] | None] = (
                self._deps.hook.aspirasi_outbox_items(event=event, lookup=lookup)
            )
            for items in results:
                for item in items or ():
                    uow.outbox.add(item.topic, dict(item.payload), created_at=now)
                    self.queued += 1
        # Last before the commit: derived tables such as counters are rows every
        # transaction writes, and a row lock is held until the commit — taking it
        # after the outbox items were made and queued keeps concurrent writers from
        # waiting on that work (on PostgreSQL, submissions queued behind each
        # other's roll-up rows).
        in_tx = self._deps.hook.aspirasi_in_transaction
        if in_tx.get_hookimpls():
            tx = HookTransaction(uow, self._deps)
            for event in self.events:
                in_tx(event=event, tx=tx)

    def after_commit(self) -> None:
        """After the commit: call the ``after_*`` hooks (a failing plugin is logged
        by the core's guard wrapper, not raised, and the others still hear the event)."""
        deps = self._deps
        for event in self.events:
            if isinstance(event, MessageSubmitted):
                name = "aspirasi_after_submission"
            elif isinstance(event, StatusChanged):
                name = "aspirasi_after_transition"
            else:
                name = "aspirasi_after_event"
            # Through pluggy, so wrappers and tracing see the call; the core's
            # guard (aspirasi_core.plugins.AfterHookGuard) logs a failing plugin.
            if deps.after_hooks is not None:
                deps.after_hooks(name, event)
            else:
                getattr(deps.hook, name)(event=event)
        if self.queued:
            for listener in list(self._deps.outbox_listeners):
                try:
                    listener()
                except Exception:
                    log.exception("outbox_listener_failed")


def require_permission(deps: CoreDeps, ctx: Context, permission: str) -> Actor:
    """The actor of ``ctx`` when it holds ``permission``; ``Unauthenticated`` without
    an actor, ``NotAllowed`` without the permission."""
    if ctx.actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    deps.policy.require(ctx.actor, permission)
    return ctx.actor


def _script(
    recorder: EventRecorder,
    fn: Callable[[UnitOfWork, EventRecorder], T],
    idempotency: IdempotencyClaim | None,
) -> Callable[[UnitOfWork], T]:
    def script(uow: UnitOfWork) -> T:
        # The database may run the script again (a deadlock, see
        # storage.database): each attempt starts with no events.
        recorder.events.clear()
        recorder.queued = 0
        result = fn(uow, recorder)
        if idempotency is not None:
            idempotency.complete(uow, result)
        recorder.flush_to_outbox(uow)
        return result

    return script


async def run_write(
    deps: CoreDeps,
    fn: Callable[[UnitOfWork, EventRecorder], T],
    *,
    idempotency: IdempotencyClaim | None = None,
) -> T:
    """Run ``fn`` in one write transaction with an event recorder; queue outbox
    items before the commit and run the after-hooks once it has committed.

    ``fn`` may run more than once (the database retries a transaction that failed
    because of others): it must only work on the unit of work and the recorder.
    ``idempotency``: a claimed key (``ctx.idempotency``) whose answer, made from
    ``fn``'s result, is stored in the same transaction."""
    recorder = EventRecorder(deps)
    result = await deps.db.transaction(_script(recorder, fn, idempotency), write=True)
    recorder.after_commit()
    return result


def run_write_sync(deps: CoreDeps, fn: Callable[[UnitOfWork, EventRecorder], T]) -> T:
    """:func:`run_write` for synchronous callers (CLI)."""
    recorder = EventRecorder(deps)
    result = deps.db.run_sync(_script(recorder, fn, None), write=True)
    recorder.after_commit()
    return result
