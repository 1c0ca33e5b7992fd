"""Open311 GeoReport v2 for Aspirasi: city apps and existing Open311 clients read
and file messages without learning Aspirasi's own API.

Quick start
-----------
Install the package next to ``aspirasi-core`` and ``aspirasi-web``
(``pip install aspirasi-open311``); the core loads it through its ``aspirasi``
entry point ``open311`` (the class :class:`Open311Plugin`: each plugin manager
gets its own rate-limit counters). Run ``aspirasi db upgrade`` once: it creates
the plugin's tables (its own Alembic branch ``open311``: ``o001_api_keys``,
``o002_requests``). The endpoints are under ``/open311/v2/``; a super admin
issues API keys at ``/admin/open311`` ("Open311 API keys" in the administration
menu) or with ``aspirasi-open311 keys issue|list|revoke``. ``docs/open311.md`` is
the integrator's guide.

Endpoints (``.json`` or ``.xml`` on each, per the specification)
------------------------------------------------------------------
- ``GET discovery`` — the discovery document;
- ``GET services`` — the active sub-categories as services (``service_code`` =
  the sub-category's id, ``group`` = its category's name, ``metadata`` false,
  ``type`` realtime); ``GET services/{service_code}`` — its definition (no
  attributes);
- ``POST requests`` — file a message with an ``api_key`` (form or multipart,
  with an optional ``media`` file: JPG or PDF, as the core accepts);
- ``GET requests`` (``service_request_id``, ``service_code``, ``start_date``,
  ``end_date``, ``status``) and ``GET requests/{service_request_id}``;
- ``GET tokens/{token}``.

``service_request_id`` is the message's ticket; ``status`` is ``open`` or
``closed``, the detailed status in ``status_notes``; ``agency_responsible`` is
the agency's name; times are ISO 8601 with the province's offset
(``ASPIRASI_TIMEZONE``). Errors are the specification's list of ``{code,
description}`` with the HTTP status as code.

Who files, and privacy
----------------------
A key is bound to a verified citizen account of the integrator (its
organisation, registered like any citizen): messages filed with the key are sent
by that account, not anonymously and not confidentially, so staff can answer
the integrator, and the integrator relays to its users. The reporter's
``email``, ``first_name``, ``last_name``, ``phone`` are accepted and dropped.
``lat``, ``long``, ``address_string`` and ``media_url`` are kept in the
plugin's table as sent. ``lat`` and ``long`` also become the message's
coordinates (the staff see them), and an ``address_string`` that names a
district or a regency of ``ASPIRASI_REGIONS_FILE`` without doubt ("Sungai
Kunjang, Samarinda") sets the message's district and regency; no coordinates
are turned into a regency. Read back, a request's ``address_string`` is its
district and regency as the public list shows them ("Sungai Kunjang, Kota
Samarinda", null without one), and ``lat``/``long`` are never answered: no one
learns more precisely than the district where a message came from. Lists never
show a confidential, an anonymous or a withdrawn message; they show what the
public list shows (public copies of subject and body, personal data masked),
plus the calling client's own requests in any status. No sender, reply, note or
coordinates leave.

Keys and limits
---------------
Only a key's SHA-256 is stored; the key is shown once, when issued. Each key
has its own limit (``limits`` notation, default ``60/minute;2000/day``),
counted in Redis with ``ASPIRASI_REDIS_URL``. The core's per-account
submission limit (``ASPIRASI_RATE_LIMIT_SUBMIT_ACCOUNT``) applies to the
integrator's account as to anyone's. Permission ``open311.manage_keys``: held by
no level (the super admin holds every permission).

Turn the plugin off with ``ASPIRASI_DISABLED_PLUGINS=open311``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aspirasi_core import hookimpl
from aspirasi_core.domain.events import Event
from aspirasi_core.domain.model import Actor
from aspirasi_core.domain.policy import PermissionDecl, Policy
from aspirasi_core.plugin_types import Transaction
from aspirasi_core.settings import Settings

from .filing import write_pending
from .limiter import KeyLimiter

if TYPE_CHECKING:
    from aspirasi_web.menu import MenuItem

#: The permission of the admin page (only super admins hold it).
MANAGE_KEYS = "open311.manage_keys"

_HERE = Path(__file__).resolve().parent
MIGRATIONS_DIR = str(_HERE / "migrations")


class Open311Plugin:
    """The ``open311`` plugin: a fresh instance (and rate-limit counters) per
    plugin manager."""

    def __init__(self) -> None:
        self.limiter: KeyLimiter | None = None

    @hookimpl
    def aspirasi_configure(self, settings: Settings) -> None:
        self.limiter = KeyLimiter(settings)

    @hookimpl
    def aspirasi_register_permissions(self) -> Sequence[PermissionDecl]:
        return [
            PermissionDecl(
                MANAGE_KEYS, "Issue and revoke the API keys of Open311 clients", roles=frozenset()
            )
        ]

    @hookimpl
    def aspirasi_migration_locations(self) -> Sequence[str]:
        """``migrations/``: the branch ``open311``."""
        return [MIGRATIONS_DIR]

    @hookimpl
    def aspirasi_in_transaction(self, event: Event, tx: Transaction) -> None:
        """The Open311 row of a message filed through ``POST requests``."""
        write_pending(event, tx)

    # ------------------------------------------------------------------ web hooks
    @hookimpl(optionalhook=True)
    def aspirasi_web_route_handlers(self) -> Sequence[Any]:
        from .web import ROUTE_HANDLERS

        return list(ROUTE_HANDLERS)

    @hookimpl(optionalhook=True)
    def aspirasi_web_menu_items(self, actor: Actor | None, policy: Policy) -> Sequence[MenuItem]:
        if actor is None or not policy.allows(actor, MANAGE_KEYS):
            return []
        from aspirasi_web.menu import MenuItem

        return [MenuItem("Open311 API keys", "/admin/open311", "admin", 95, "settings")]

    @hookimpl(optionalhook=True)
    def aspirasi_web_template_dirs(self) -> Sequence[str]:
        return [str(_HERE / "templates")]

    @hookimpl(optionalhook=True)
    def aspirasi_web_locale_dirs(self) -> Sequence[str]:
        return [str(_HERE / "locale")]


__all__ = ["MANAGE_KEYS", "MIGRATIONS_DIR", "Open311Plugin"]
