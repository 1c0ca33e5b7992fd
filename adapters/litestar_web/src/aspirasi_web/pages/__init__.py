"""HTML pages. Each module exposes ``ROUTES``; this package gathers them."""

from __future__ import annotations

import importlib
from typing import Any

#: Page modules, in the order their routes are mounted.
MODULES = (
    "public",
    "verification",
    "account",
    "password",
    "citizen",
    "settings",
    "files",
    "backoffice",
    "followups",
    "admin",
    "privacy",
    "nik_claims",
    "devmail",
)


def _routes() -> list[Any]:
    routes: list[Any] = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        routes.extend(module.ROUTES)
    return routes


ROUTES: list[Any] = _routes()
