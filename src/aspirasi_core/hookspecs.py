"""The core's pluggy hook specifications.

Plugins are modules or objects registered under the ``aspirasi`` entry-point
group that implement some of these functions, decorated with
:data:`aspirasi_core.hookimpl`. Every hook is documented, with an example, in
``docs/plugins.md`` (a test keeps this file and that page in step).

Naming: ``register_*`` returns declarations; ``validate_*`` and ``before_*``
raise a :class:`~aspirasi_core.domain.errors.DomainError` to veto with a reason;
``outbox_items`` runs inside the transaction and returns side effects to store
with it; ``after_*`` runs after the commit. Audit and log entries are written
by the core inside the transaction, never by plugins.

Web-only hooks (routes, templates, menus, static files) live in the web adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .domain.events import Event, MessageSubmitted, StatusChanged
    from .domain.model import Action, Actor, Message, Status
    from .domain.policy import MessageScope, PermissionDecl, RoleDecl
    from .plugin_api import PluginContext
    from .plugin_types import (
        CategoryDecl,
        ComponentStatus,
        Directory,
        OutboxMessage,
        RecipientLookup,
        SubmissionDraft,
        Transaction,
        UseCaseCall,
    )
    from .services.ports import AttachmentStore, OutboxItem
    from .settings import Settings

PROJECT = "aspirasi"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(historic=True)
def aspirasi_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Called when the plugin is registered, before any other hook: add the
    plugin's own hook specs with ``pluginmanager.add_hookspecs(module)``, as
    pytest's ``pytest_addhooks`` does.

    Historic, so a plugin registered later is called too. Other plugins then
    implement the new hooks, marked ``@hookimpl(optionalhook=True)`` so that
    they load without the plugin that declares them; the declaring plugin calls
    them through ``pluginmanager.hook``.
    """


@hookspec(historic=True)
def aspirasi_configure(settings: Settings) -> None:
    """Called once at start-up with the settings, before anything else runs.

    Historic: a plugin registered later still receives the call. Read your own
    ``ASPIRASI_*`` variables from ``settings.extra`` (every ``ASPIRASI_`` variable
    the core does not know, keyed by its lower-cased name without the prefix).
    Raise ``ValueError`` to refuse to start with a bad configuration.
    """


@hookspec(historic=True)
def aspirasi_startup(aspirasi: PluginContext) -> None:
    """Called once the application is built (by
    :func:`aspirasi_core.bootstrap.bootstrap`), with its
    :class:`~aspirasi_core.plugin_api.PluginContext`: transactions, settings,
    clock, outbox, policy and queries.

    Historic: a plugin registered later still receives the call. A plugin object
    (a class entry point: one instance per plugin manager) may keep the context;
    a module plugin must not keep it in a global, since two applications may run
    in one process. Web handlers get it per request instead
    (``aspirasi_web.context.plugin_context(request)``).
    """


@hookspec
def aspirasi_register_roles() -> Sequence[RoleDecl]:
    """Return account levels (roles) the plugin adds to the core's four.

    Names must be unique across the core and all plugins, or start-up fails.
    """


@hookspec
def aspirasi_register_permissions() -> Sequence[PermissionDecl]:
    """Return permissions the plugin declares.

    Name them ``<plugin>.<what>``. ``roles`` lists the levels that hold the
    permission; ``grantable=True`` lets a super admin grant it to single accounts
    (``PATCH /api/v1/admin/users/{id}`` ``{"permissions": [...]}``). A super
    admin always holds every permission.
    """


@hookspec
def aspirasi_register_categories() -> Sequence[CategoryDecl]:
    """Return sub-categories (and categories) that must exist.

    The core creates each one at start-up if missing (``aspirasi serve``,
    ``aspirasi db upgrade``, ``aspirasi demo``) and never renames an existing one.
    """


@hookspec
def aspirasi_default_permissions(role: str, agency_code: str | None) -> Sequence[str] | None:
    """Return grantable permissions a new staff account of ``role`` (bound to the
    agency ``agency_code``, if any) receives when a super admin creates it.

    They are added to the ones the super admin chose; the super admin can take
    them away later like any other. Names that are not grantable are ignored.
    """


@hookspec
def aspirasi_visibility_scopes(actor: Actor, directory: Directory) -> Sequence[MessageScope] | None:
    """Return read-only scopes that let ``actor`` see messages it does not own.

    A message is visible when it matches any scope of any plugin (withdrawn
    messages never are). Used for the detail, the log and the back-office list
    alike, so listing and reading agree. Return None or ``[]`` for none.
    ``directory`` resolves codes to ids (``directory.subcategory_id("aduan",
    "permasalahan-lahan")``).
    """


@hookspec
def aspirasi_before_use_case(call: UseCaseCall) -> None:
    """Called before a use case runs; raise to veto it.

    ``call.name`` is the use case (``register``, ``login``, ``resend_verification``,
    ``forgot_password``, ``reset_password``, ``change_password``, ``submit``, ``track``,
    ``delete_account``, ``export_data``),
    ``call.actor`` the signed-in actor or None, ``call.client_ip`` the client's
    address as the adapter determined it, ``call.subject`` the key the limit is
    about (``account:<id>`` for a known login name or e-mail, else the name typed;
    the e-mail for register and forgot_password; the account id for resend,
    change_password, submit, delete_account and export_data), ``call.device`` for
    login the id of a trusted device (a client whose signed device token shows it
    logged in to this account before; None for untrusted clients). Raise
    :class:`~aspirasi_core.domain.errors.Throttled` to rate-limit.
    """


@hookspec
def aspirasi_validate_submission(actor: Actor, draft: SubmissionDraft) -> None:
    """Called inside the submission's transaction after the core's own checks;
    raise a ``DomainError`` (``Invalid``, ``NotAllowed``, ``Throttled``) to refuse it."""


@hookspec
def aspirasi_validate_transition(
    message: Message, action: Action, actor: Actor, to_status: Status, note: str
) -> None:
    """Called inside the transaction before a status move is written; raise a
    ``DomainError`` to veto it. The core has already checked the status table,
    the permission and the scope."""


@hookspec
def aspirasi_in_transaction(event: Event, tx: Transaction) -> None:
    """Called for each domain event inside the transaction that produced it, after
    its outbox items were queued and last before the commit.

    For plugins that keep derived tables exact (counters): write them with
    ``tx.execute(...)`` (:class:`~aspirasi_core.plugin_types.Transaction`) and
    they commit or roll back with the change. Raising aborts the whole change, so
    only raise for a real inconsistency. It runs on the write path of every use
    case: keep it to a few indexed statements, and write rows that every
    transaction shares (today's counter) last — their locks are held until the
    commit. A transaction the database gave up on (deadlock) is run again: write
    only through ``tx``, never elsewhere.
    """


@hookspec
def aspirasi_outbox_items(event: Event, lookup: RecipientLookup) -> Sequence[OutboxMessage] | None:
    """Return side effects to queue for ``event``, inside its transaction.

    The core writes them to the outbox in the same transaction as the change,
    so they are never lost; a dispatcher delivers them later through
    ``aspirasi_deliver_outbox_item``. ``lookup`` finds recipients (accounts by id,
    admins, an agency's operators, holders of a permission).
    """


@hookspec(firstresult=True)
def aspirasi_deliver_outbox_item(item: OutboxItem) -> bool | None:
    """Deliver one outbox item (called by the dispatcher, outside any transaction).

    Return True when the item was delivered, None when the topic is not yours
    (the next plugin is asked). The dispatcher records the delivery as soon as the
    hook returns: return as soon as the receiver has the item, and leave what
    follows (closing a connection) to the background. Raise to signal a failed delivery: the
    dispatcher retries with back-off and, after the configured number of tries,
    moves the item to the dead letters. An item no plugin delivers is dead at once.
    """


@hookspec
def aspirasi_after_submission(event: MessageSubmitted) -> None:
    """Called after a submission has been committed. Exceptions are logged, not
    raised (:class:`aspirasi_core.plugins.AfterHookGuard`)."""


@hookspec
def aspirasi_after_transition(event: StatusChanged) -> None:
    """Called after a committed status move (and after each progress update,
    whose from and to status are both ``in_progress``). Exceptions are logged,
    not raised (:class:`aspirasi_core.plugins.AfterHookGuard`)."""


@hookspec
def aspirasi_after_event(event: Event) -> None:
    """Called after the commit for every other domain event (account events,
    ratings). Exceptions are logged, not raised
    (:class:`aspirasi_core.plugins.AfterHookGuard`)."""


@hookspec
def aspirasi_readiness() -> Sequence[ComponentStatus] | None:
    """Return how the services the plugin depends on are doing, for the readiness
    probe (``GET /readyz``): one :class:`~aspirasi_core.plugin_types.ComponentStatus`
    per service (a cache, a queue), or None.

    Called on every probe, in a worker thread, with a time limit of about two
    seconds for all plugins together: answer from what the plugin already knows
    (its own background check) or with a check that has a short timeout of its own.
    Mark a component ``essential=False`` when the plugin keeps working without it.
    """


@hookspec
def aspirasi_migration_locations() -> Sequence[str] | None:
    """Return folders of Alembic revisions for the plugin's own tables.

    Each plugin keeps its revisions on its own branch (``branch_labels``) that
    depends on the core's first revision; ``aspirasi db upgrade`` applies all
    heads.
    """


@hookspec(firstresult=True)
def aspirasi_attachment_store(name: str, settings: Settings) -> AttachmentStore | None:
    """Return the store for uploaded files named ``name`` (the setting
    ``ASPIRASI_FILE_STORAGE``) when it is yours, else None.

    Called once by :func:`aspirasi_core.bootstrap.bootstrap`, unless ``name`` is
    ``local`` (the core's own folder, ``ASPIRASI_STORAGE_PATH``). The first store
    returned is used; when no plugin knows ``name`` the start stops. The store
    implements :class:`~aspirasi_core.plugin_api.AttachmentStore`: keys from
    :func:`~aspirasi_core.plugin_api.new_attachment_key`, files pending until
    promoted, the sweep of old pending files, ``open`` for streamed downloads and
    ``download_url`` for short-lived direct links (or None). Raise ``ValueError``
    for a bad configuration.
    """
