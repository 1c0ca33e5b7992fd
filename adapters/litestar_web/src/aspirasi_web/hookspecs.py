"""Web hook specifications: plugins add routes, templates, static files and menu items.

These specs are added to the plugin manager by the web adapter before its
plugins run, so the core never imports Litestar. Every hook is documented in
``docs/plugins.md`` ("Web hooks").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from aspirasi_core.domain.model import Actor
    from aspirasi_core.domain.policy import Policy

    from .menu import MenuItem

hookspec = pluggy.HookspecMarker("aspirasi")


@hookspec
def aspirasi_web_route_handlers() -> Sequence[Any] | None:
    """Return Litestar route handlers or controllers to mount.

    Paths are absolute; use ``/api/v1/<plugin>/…`` for JSON routes and
    ``/<plugin>/…`` for pages. Every route must check access with a guard of
    :mod:`aspirasi_web.guards` (``guards=[requires("<plugin>.<perm>")]``,
    ``signed_in``, ``signed_in_any``): it answers before the body is read. Handlers
    that need the account take the ``actor`` dependency. Handlers may take the app-wide
    dependencies (:data:`aspirasi_web.context.DEPENDENCIES`) by name.
    """


@hookspec
def aspirasi_web_menu_items(actor: Actor | None, policy: Policy) -> Sequence[MenuItem] | None:
    """Return menu items for the signed-in ``actor`` (None: anonymous).

    Return only items the actor may use: the menu is built from what the role
    may do. ``section`` is ``public``, ``citizen``, ``backoffice`` or ``admin``.
    """


@hookspec
def aspirasi_web_template_dirs() -> Sequence[str] | None:
    """Return folders of Jinja2 templates. Name templates ``<plugin>/…`` so they
    cannot clash with the core's or another plugin's."""


@hookspec
def aspirasi_web_static_dirs() -> Sequence[tuple[str, str]] | None:
    """Return ``(name, folder)`` pairs; each folder is served at ``/static/<name>/``."""


@hookspec
def aspirasi_web_locale_dirs() -> Sequence[str] | None:
    """Return folders holding ``<lang>/LC_MESSAGES/messages.po`` catalogs; their
    translations are merged into the app's (the core's win on conflicts)."""
