"""HTML pages. Each module exposes ``ROUTES``; this package gathers them."""

from __future__ import annotations

from typing import Any

from . import public

ROUTES: list[Any] = [*public.ROUTES]
