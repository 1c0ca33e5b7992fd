"""The web part of the open311 plugin: the GeoReport v2 endpoints
(:mod:`.api`, one Litestar ``Router`` with its own error handlers, so every
error has the specification's format) and the admin page of the keys
(:mod:`.admin`). Imported lazily by the web hooks, so the core never reaches
Litestar."""

from __future__ import annotations

from .admin import issue_key, keys_page, revoke_key
from .api import ROUTER

ROUTE_HANDLERS = [ROUTER, keys_page, issue_key, revoke_key]

__all__ = ["ROUTE_HANDLERS"]
