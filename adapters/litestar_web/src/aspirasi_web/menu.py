"""Menu items: built from what the signed-in role may do, and grouped for showing.

An item's ``section`` says where it goes (see :func:`arrange`):

- ``public``: pages for everyone (home, public messages, tracking);
- ``citizen`` and ``backoffice``: the role's daily work, the short primary menu;
- ``reports`` and ``admin``: the grouped secondary menu ("Reports", "Administration");
- ``account``: the signed-in person's own pages, shown beside "Log out".

A role with no daily work of its own (an evaluator) gets its reports as the primary menu.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from aspirasi_core.domain.model import Actor, Role
from aspirasi_core.domain.policy import Perm, Policy

from .guards import CHANGE_PASSWORD_PATH

#: Sections of the primary menu (the role's daily work), in showing order.
PRIMARY_SECTIONS = ("citizen", "backoffice")
#: Secondary groups: section → English msgid of the group's name, in showing order.
GROUPS = {"reports": "Reports", "admin": "Administration"}


@attrs.frozen
class MenuItem:
    """One entry of the navigation. ``label`` is an English msgid, translated when shown;
    ``icon`` names a symbol of ``templates/_icons.svg`` (none when empty)."""

    label: str
    href: str
    section: str = "public"
    order: int = 100
    icon: str = ""


@attrs.frozen
class MenuGroup:
    """A named group of the secondary menu (a disclosure that works without JavaScript)."""

    section: str
    label: str
    items: tuple[MenuItem, ...]


@attrs.frozen
class Menu:
    """The navigation of one page, as :func:`arrange` groups it."""

    primary: tuple[MenuItem, ...] = ()
    groups: tuple[MenuGroup, ...] = ()
    public: tuple[MenuItem, ...] = ()
    account: tuple[MenuItem, ...] = ()
    #: Only the pages the account may use now (its password must be changed first):
    #: no bell either.
    restricted: bool = False

    @property
    def has_role_items(self) -> bool:
        """True when the actor has more than the public pages (the menu folds on phones)."""
        return bool(self.primary or self.groups or self.account)


def arrange(items: Iterable[MenuItem]) -> Menu:
    """Sort ``items`` into the primary menu, the secondary groups, the public pages and the
    account pages. Items of an unknown section join the primary menu."""
    by_section: dict[str, list[MenuItem]] = {}
    for item in sorted(items, key=lambda m: m.order):
        by_section.setdefault(item.section, []).append(item)
    primary = [i for s in PRIMARY_SECTIONS for i in by_section.pop(s, [])]
    public = by_section.pop("public", [])
    account = by_section.pop("account", [])
    groups = [(s, label, by_section.pop(s, [])) for s, label in GROUPS.items()]
    for rest in by_section.values():
        primary.extend(rest)
    if not primary:
        # Nothing to do daily but the first group (an evaluator's reports): that is the work.
        for n, (_, _, group_items) in enumerate(groups):
            if group_items:
                primary = group_items
                del groups[n]
                break
    return Menu(
        primary=tuple(primary),
        groups=tuple(MenuGroup(s, label, tuple(g)) for s, label, g in groups if g),
        public=tuple(public),
        account=tuple(account),
    )


#: Where an account that must change its password may go (``aspirasi_web.guards``).
PASSWORD_CHANGE_MENU = Menu(
    account=(MenuItem("Change password", CHANGE_PASSWORD_PATH, "account", 10, "shield"),),
    restricted=True,
)


def core_menu(actor: Actor | None, policy: Policy) -> list[MenuItem]:
    """The core's menu entries for ``actor``."""
    items = [
        MenuItem("Home", "/", "public", 10, "home"),
        MenuItem("Public messages", "/messages", "public", 20, "list"),
        MenuItem("Tracking", "/tracking", "public", 30, "search"),
    ]
    if actor is None:
        return items
    if actor.role == Role.USER:
        if not actor.verified:
            return items
        items += [
            MenuItem("Dashboard", "/dashboard", "citizen", 10, "dashboard"),
            MenuItem("Send a message", "/my/messages/new", "citizen", 20, "send"),
            MenuItem("My messages", "/my/messages", "citizen", 30, "inbox"),
            MenuItem("Settings", "/settings", "account", 90, "settings"),
        ]
        return items
    if policy.allows(actor, Perm.BACKOFFICE):
        # The bell beside the menu leads to the notifications: no menu entry of their own.
        items.append(MenuItem("Inbox", "/backoffice", "backoffice", 10, "inbox"))
        items.append(MenuItem("All messages", "/backoffice/messages", "backoffice", 20, "list"))
    if policy.allows(actor, Perm.OVERSIGHT):
        items.append(MenuItem("Oversight reviews", "/backoffice/reviews", "reports", 15, "star"))
    if policy.allows(actor, Perm.ADMIN_MANAGE):
        items += [
            MenuItem("Accounts", "/admin/users", "admin", 10, "users"),
            MenuItem("Agencies", "/admin/agencies", "admin", 20, "building"),
            MenuItem("Categories", "/admin/categories", "admin", 30, "tag"),
            MenuItem("Release a NIK", "/admin/nik-release", "admin", 35, "id-card"),
            MenuItem("Days off", "/admin/days-off", "admin", 38, "calendar"),
            MenuItem("Outbox", "/admin/outbox", "admin", 40, "mail"),
        ]
    if policy.allows(actor, Perm.AUDIT_READ):
        items.append(MenuItem("Audit log", "/admin/audit", "admin", 50, "shield"))
    items.append(MenuItem("Settings", "/settings", "account", 90, "settings"))
    return items
