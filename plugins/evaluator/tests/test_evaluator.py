"""The evaluator plugin as the core sees it: loaded from its entry point."""

from __future__ import annotations

from aspirasi_core.domain.model import Actor, Role
from aspirasi_core.plugins import collect_policy, create_plugin_manager, list_plugins
from aspirasi_core.settings import Settings


def manager():
    return create_plugin_manager(Settings(plugins=("evaluator",)))


def test_loaded_from_its_entry_point():
    [info] = [p for p in list_plugins(manager()) if p.name == "evaluator"]
    assert info.distribution == "aspirasi-evaluator"
    assert info.version == "0.1.0"
    assert info.hooks == ("aspirasi_register_permissions",)


def test_declares_a_grantable_permission_held_by_no_level():
    policy = collect_policy(manager())
    decl = policy.permissions["evaluator.evaluate"]
    assert decl.roles == frozenset()
    assert decl.grantable
    assert "evaluator.evaluate" in policy.grantable()


def test_only_granted_accounts_and_super_admins_evaluate():
    policy = collect_policy(manager())
    for role in (Role.ADMIN, Role.OPERATOR, Role.USER):
        assert not policy.allows(Actor(account_id=1, role=role, agency_id=1), "evaluator.evaluate")
    granted = Actor(account_id=2, role=Role.ADMIN, permissions=frozenset({"evaluator.evaluate"}))
    assert policy.allows(granted, "evaluator.evaluate")
    assert policy.allows(Actor(account_id=3, role=Role.SUPER_ADMIN), "evaluator.evaluate")


def test_blocked_plugin_declares_nothing():
    pm = create_plugin_manager(Settings(disabled_plugins=("evaluator",)))
    assert "evaluator.evaluate" not in collect_policy(pm).permissions
