"""The composition root of the core: settings → database, plugins, use cases.

Adapters (the web app, the CLI, scripts in ``examples/``) call :func:`bootstrap`
and get an :class:`~aspirasi_core.services.Aspirasi` with every use case wired.
Nothing else in the core builds concrete storage or loads plugins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog

from .domain.errors import Unavailable
from .plugin_api import PluginContext
from .plugins import (
    collect_category_decls,
    collect_policy,
    create_plugin_manager,
    isolated_after_hooks,
    migration_locations,
)
from .security.crypto import Crypto
from .security.passwords import PasswordHasher
from .services import Aspirasi, CoreDeps, SystemClock
from .services.ports import AttachmentStore, Clock, Database
from .settings import Settings
from .storage import create_database, upgrade
from .storage.files import LocalAttachmentStore

log = structlog.get_logger("aspirasi.bootstrap")


def bootstrap(
    settings: Settings | None = None,
    *,
    plugin_manager: Any = None,
    extra_plugins: Iterable[object] = (),
    database: Database | None = None,
    clock: Clock | None = None,
    files: AttachmentStore | None = None,
    ensure_categories: bool = True,
) -> Aspirasi:
    """Wire the use cases.

    ``settings`` defaults to :meth:`Settings.from_env`. ``plugin_manager`` defaults
    to one loading the installed entry points (honouring the allow and block
    lists); ``extra_plugins`` are registered on top (tests, embedding scripts).
    With ``ensure_categories`` the sub-categories plugins declare are created if
    missing — the database must be migrated first (:func:`migrate`); while the
    database cannot be reached this is skipped with a warning, so a worker started
    during an outage serves 503s and recovers with the database.
    """
    settings = settings or Settings.from_env()
    settings.check_production()
    pm = plugin_manager or create_plugin_manager(settings, extra_plugins=extra_plugins)
    crypto = Crypto(settings.secret_key)
    db = database or create_database(
        settings.database_url,
        crypto,
        threads=settings.db_threads,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        report_statement_timeout_ms=settings.db_report_statement_timeout_ms,
        lock_timeout_ms=settings.db_lock_timeout_ms,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        sqlite_cache_kib=settings.sqlite_cache_kib,
        connect_timeout_s=settings.db_connect_timeout_seconds,
        retries=settings.db_retries,
    )
    deps = CoreDeps(
        settings=settings,
        db=db,
        clock=clock or SystemClock(),
        hasher=PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            concurrency=settings.argon2_concurrency,
            nice=settings.argon2_nice,
            idle=settings.argon2_idle,
        ),
        crypto=crypto,
        policy=collect_policy(pm),
        hook=pm.hook,
        files=files or attachment_store(settings, pm),
        after_hooks=isolated_after_hooks(pm),
    )
    app = Aspirasi.from_deps(deps)
    app.plugin_manager = pm
    pm.hook.aspirasi_startup.call_historic(kwargs={"aspirasi": PluginContext.of(app)})
    if ensure_categories:
        try:
            app.admin.ensure_categories(collect_category_decls(pm))
        except Unavailable as exc:
            # A worker started while the database is away still starts, and serves
            # (503 until it is back): `aspirasi db upgrade` has made them already.
            log.warning("categories_not_checked", code=exc.code)
    return app


def attachment_store(settings: Settings, plugin_manager: Any) -> AttachmentStore:
    """The store ``ASPIRASI_FILE_STORAGE`` names: the core's folder for ``local``,
    else the one a plugin returns from ``aspirasi_attachment_store``."""
    name = settings.file_storage
    if name == "local":
        return LocalAttachmentStore(settings.storage_path)
    store: AttachmentStore | None = plugin_manager.hook.aspirasi_attachment_store(
        name=name, settings=settings
    )
    if store is None:
        raise ValueError(
            f"ASPIRASI_FILE_STORAGE={name!r}: no loaded plugin provides this file storage"
        )
    return store


def migrate(settings: Settings, plugin_manager: Any = None) -> None:
    """Apply every migration of the core and of the loaded plugins (``alembic upgrade heads``)."""
    pm = plugin_manager or create_plugin_manager(settings)
    upgrade(settings.database_url, migration_locations(pm), settings=settings)
