"""The evaluator plugin as the core sees it: loaded from its entry point."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aspirasi_core.domain.model import Actor, Message, Role, Status
from aspirasi_core.domain.policy import MessageScope
from aspirasi_core.plugins import (
    collect_policy,
    create_plugin_manager,
    list_plugins,
    migration_locations,
)
from aspirasi_core.settings import Settings
from aspirasi_evaluator import EVALUATE


def manager():
    return create_plugin_manager(Settings(plugins=("evaluator",)))


def test_loaded_from_its_entry_point():
    [info] = [p for p in list_plugins(manager()) if p.name == "evaluator"]
    assert info.distribution == "aspirasi-evaluator"
    assert info.version == "0.1.0"
    assert set(info.hooks) == {
        "aspirasi_register_permissions",
        "aspirasi_visibility_scopes",
        "aspirasi_migration_locations",
        "aspirasi_mail_kinds",
        "aspirasi_web_route_handlers",
        "aspirasi_web_menu_items",
        "aspirasi_web_template_dirs",
        "aspirasi_web_static_dirs",
        "aspirasi_web_locale_dirs",
    }
    # Nothing of the plugin runs inside the core's transactions (issue 19: its
    # roll-up rows there deadlocked concurrent changes on PostgreSQL).
    assert "aspirasi_in_transaction" not in info.hooks


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


def test_evaluators_get_a_read_only_scope_over_every_message_others_none():
    pm = manager()
    evaluator = Actor(
        account_id=4, role=Role.OPERATOR, agency_id=1, permissions=frozenset({EVALUATE})
    )
    [[scope]] = [
        r for r in pm.hook.aspirasi_visibility_scopes(actor=evaluator, directory=None) if r
    ]
    assert scope == MessageScope(name="evaluator")
    assert scope.matches(_message(Status.FORWARDED, agency_id=9))
    assert not scope.matches(_message(Status.WITHDRAWN, agency_id=None))
    plain = Actor(account_id=5, role=Role.OPERATOR, agency_id=1)
    assert not any(pm.hook.aspirasi_visibility_scopes(actor=plain, directory=None))


def test_the_migration_folder_is_returned_and_exists():
    [location] = migration_locations(manager())
    assert Path(location).is_dir()
    assert (Path(location) / "e001_reprimands.py").is_file()


def test_the_mail_kinds_are_declared_through_notify_emails_hook():
    pm = create_plugin_manager(Settings(plugins=("evaluator", "notify_email")))
    [names] = [[k.name for k in kinds] for kinds in pm.hook.aspirasi_mail_kinds()]
    assert names == ["evaluator_reprimand", "evaluator_reprimand_acknowledged"]
    assert {"evaluator_reprimand", "evaluator_reprimand_acknowledged"} <= set(
        pm.get_plugin("notify_email").kinds.names()
    )


def _message(status: Status, agency_id: int | None) -> Message:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    return Message(
        id=1,
        ticket="T-1",
        author_id=99,
        subject="s",
        body="b",
        status=status,
        confidential=True,
        anonymous=False,
        created_at=now,
        updated_at=now,
        category_id=None,
        subcategory_id=None,
        agency_id=agency_id,
    )
