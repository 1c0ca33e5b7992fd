"""Menu items: built from what the signed-in role may do."""

from __future__ import annotations

import attrs

from aspirasi_core.domain.model import Actor, Role
from aspirasi_core.domain.policy import Perm, Policy


@attrs.frozen
class MenuItem:
    """One entry of the navigation. ``label`` is an English msgid, translated when shown."""

    label: str
    href: str
    section: str = "public"
    order: int = 100


def core_menu(actor: Actor | None, policy: Policy) -> list[MenuItem]:
    """The core's menu entries for ``actor``."""
    items = [
        MenuItem("Home", "/", "public", 10),
        MenuItem("Messages", "/messages", "public", 20),
        MenuItem("Tracking", "/tracking", "public", 30),
    ]
    if actor is None:
        return items
    if actor.role == Role.USER:
        if not actor.verified:
            return items
        items += [
            MenuItem("Dashboard", "/dashboard", "citizen", 10),
            MenuItem("Send a message", "/my/messages/new", "citizen", 20),
            MenuItem("My messages", "/my/messages", "citizen", 30),
            MenuItem("Settings", "/settings", "citizen", 90),
        ]
        return items
    if policy.allows(actor, Perm.BACKOFFICE):
        items.append(MenuItem("Back office", "/backoffice", "backoffice", 10))
        items.append(MenuItem("All messages", "/backoffice/messages", "backoffice", 20))
        items.append(MenuItem("Notifications", "/backoffice/notifications", "backoffice", 80))
    if policy.allows(actor, Perm.ADMIN_MANAGE):
        items += [
            MenuItem("Accounts", "/admin/users", "admin", 10),
            MenuItem("Agencies", "/admin/agencies", "admin", 20),
            MenuItem("Categories", "/admin/categories", "admin", 30),
            MenuItem("Outbox", "/admin/outbox", "admin", 40),
        ]
    if policy.allows(actor, Perm.AUDIT_READ):
        items.append(MenuItem("Audit log", "/admin/audit", "admin", 50))
    items.append(MenuItem("Settings", "/settings", "backoffice", 90))
    return items
