"""Super-admin pages (``admin.manage``), one Litestar controller per feature:
accounts (:mod:`.accounts`), agencies (:mod:`.agencies`), categories and
sub-categories with their SOP days (:mod:`.categories`), the days off of the SOP
calendar (:mod:`.days_off`) and the outbox's dead letters (:mod:`.outbox`).

Every controller derives from :class:`.common.AdminController`: the guard
``requires("admin.manage")`` answers before any body is read, and the use cases
(``admin``) and the request's context (``ctx``) are injected. The use cases check
the permission again and validate; the pages show what the core answers.
"""

from __future__ import annotations

from typing import Any

from .accounts import AccountsController
from .agencies import AgenciesController
from .categories import CategoriesController, SubcategoriesController
from .days_off import DaysOffController
from .outbox import DEAD_SHOWN, OutboxController

ROUTES: list[Any] = [
    AccountsController,
    AgenciesController,
    CategoriesController,
    SubcategoriesController,
    DaysOffController,
    OutboxController,
]

__all__ = ["DEAD_SHOWN", "ROUTES"]
