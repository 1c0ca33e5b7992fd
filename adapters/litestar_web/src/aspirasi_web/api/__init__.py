"""The JSON API under ``/api/v1`` (SPEC.md, "JSON API contract"). Each module
exposes ``ROUTES``; this package gathers them."""

from __future__ import annotations

from typing import Any

from . import (
    admin,
    auth,
    backoffice,
    days_off,
    followups,
    me,
    messages,
    nik_claims,
    privacy,
    record,
    regions,
)

ROUTES: list[Any] = [
    *auth.ROUTES,
    *me.ROUTES,
    *messages.ROUTES,
    *backoffice.ROUTES,
    *followups.ROUTES,
    *admin.ROUTES,
    *days_off.ROUTES,
    *privacy.ROUTES,
    *nik_claims.ROUTES,
    *record.ROUTES,
    *regions.ROUTES,
]
