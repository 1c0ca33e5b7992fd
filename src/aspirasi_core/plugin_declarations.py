"""What plugins declare through their hooks, collected and checked at start-up:
the role policy, the sub-categories they require and their migration folders.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import pluggy

from .domain.policy import PermissionDecl, Policy, PolicyError, RoleDecl, build_policy
from .plugin_types import CategoryDecl

D = TypeVar("D")


def _flatten(results: Iterable[Any], kind: type[D], hook_name: str) -> list[D]:
    out: list[D] = []
    for result in results:
        if result is None:
            continue
        if isinstance(result, str | bytes) or not isinstance(result, Iterable):
            raise TypeError(
                f"{hook_name} must return a sequence of {kind.__name__},"
                f" got {type(result).__name__}"
            )
        for item in result:
            if not isinstance(item, kind):
                raise TypeError(
                    f"{hook_name} must return {kind.__name__} values, got {type(item).__name__}"
                )
            out.append(item)
    return out


def _declared_by(pm: pluggy.PluginManager, hook_name: str, name: str) -> list[str]:
    """Plugins whose no-argument ``hook_name`` returns a declaration named ``name``,
    each asked through pluggy (a caller of the hook limited to that plugin)."""
    impls = getattr(pm.hook, hook_name).get_hookimpls()
    found = []
    for impl in impls:
        others = [other.plugin for other in impls if other.plugin is not impl.plugin]
        results = pm.subset_hook_caller(hook_name, remove_plugins=others)()
        if any(getattr(decl, "name", None) == name for result in results for decl in result or ()):
            found.append(impl.plugin_name)
    return sorted(found)


def collect_policy(pm: pluggy.PluginManager) -> Policy:
    """The role policy: the core's table plus every plugin's roles and permissions.

    Raises :class:`~aspirasi_core.domain.policy.PolicyError` (naming the
    plugins) when a role or permission is declared twice or a permission names
    an unknown role, and ``TypeError`` when a hook returns something else than
    declarations.
    """
    roles = _flatten(pm.hook.aspirasi_register_roles(), RoleDecl, "aspirasi_register_roles")
    permissions = _flatten(
        pm.hook.aspirasi_register_permissions(), PermissionDecl, "aspirasi_register_permissions"
    )
    try:
        return build_policy(roles, permissions)
    except PolicyError as exc:
        # build_policy names the clashing declaration; say which plugins made it.
        culprits: set[str] = set()
        for role in roles:
            if repr(role.name) in str(exc):
                culprits.update(_declared_by(pm, "aspirasi_register_roles", role.name))
        for permission in permissions:
            if repr(permission.name) in str(exc):
                culprits.update(_declared_by(pm, "aspirasi_register_permissions", permission.name))
        where = f" (declared by: {', '.join(sorted(culprits))})" if culprits else ""
        raise PolicyError(f"{exc}{where}") from None


def collect_category_decls(pm: pluggy.PluginManager) -> list[CategoryDecl]:
    """Every sub-category plugins require, without duplicates, in a stable order.

    Two plugins may require the same sub-category; raises ``ValueError`` when
    they disagree on its name or its category's name.
    """
    decls = _flatten(
        pm.hook.aspirasi_register_categories(), CategoryDecl, "aspirasi_register_categories"
    )
    by_key: dict[tuple[str, str], CategoryDecl] = {}
    category_names: dict[str, str] = {}
    for decl in decls:
        known_name = category_names.setdefault(decl.category_code, decl.category_name)
        if known_name != decl.category_name:
            raise ValueError(
                f"category {decl.category_code!r} is declared with two names:"
                f" {known_name!r} and {decl.category_name!r}"
            )
        key = (decl.category_code, decl.code)
        known = by_key.setdefault(key, decl)
        if known != decl:
            raise ValueError(
                f"sub-category {decl.category_code}/{decl.code} is declared with two names:"
                f" {known.name!r} and {decl.name!r}"
            )
    return sorted(by_key.values(), key=lambda d: (d.category_code, d.code))


def migration_locations(pm: pluggy.PluginManager) -> list[str]:
    """Folders of plugins' Alembic revisions (absolute, existing, without duplicates).

    Raises ``ValueError`` for a relative path or a folder that does not exist,
    so a packaging mistake fails at start-up rather than during an upgrade.
    """
    locations: list[str] = []
    for result in pm.hook.aspirasi_migration_locations():
        if result is None:
            continue
        if isinstance(result, str | os.PathLike):
            raise TypeError(
                "aspirasi_migration_locations must return a sequence of paths, got one path"
            )
        for raw in result:
            path = Path(raw)
            if not path.is_absolute():
                raise ValueError(f"migration location {raw!s} must be an absolute path")
            if not path.is_dir():
                raise ValueError(f"migration location {raw!s} is not a folder")
            if str(path) not in locations:
                locations.append(str(path))
    return locations
