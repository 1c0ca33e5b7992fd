"""The land_issue plugin as the core sees it: loaded from its entry point."""

from __future__ import annotations

import pytest

import aspirasi_land_issue as land_issue
from aspirasi_core.domain.model import Actor, Message, Role, Status
from aspirasi_core.domain.policy import PermissionDecl
from aspirasi_core.plugin_types import CategoryDecl
from aspirasi_core.plugins import (
    collect_category_decls,
    collect_policy,
    create_plugin_manager,
    list_plugins,
)
from aspirasi_core.settings import Settings

ADUAN_ID = 2
LAND_ID = 7


class FakeDirectory:
    """Ids of a database where ``aduan`` and its sub-categories exist."""

    def __init__(self, subcategories: dict[tuple[str, str], int] | None = None) -> None:
        self.categories = {"aspirasi": 1, "aduan": ADUAN_ID}
        self.subcategories = (
            {("aduan", "permasalahan-lahan"): LAND_ID} if subcategories is None else subcategories
        )

    def category_id(self, code: str) -> int | None:
        return self.categories.get(code)

    def subcategory_id(self, category_code: str, code: str) -> int | None:
        return self.subcategories.get((category_code, code))

    def agency_id(self, code: str) -> int | None:
        return None


def manager(**extra: str):
    settings = Settings(plugins=("land_issue",), extra=extra)
    return create_plugin_manager(settings)


def scopes(pm, actor, directory=None):
    results = pm.hook.aspirasi_visibility_scopes(
        actor=actor, directory=directory or FakeDirectory()
    )
    return [scope for result in results for scope in result]


def monitor() -> Actor:
    return Actor(
        account_id=5, role=Role.OPERATOR, agency_id=3, permissions=frozenset({"land_issue.monitor"})
    )


def message(**fields) -> Message:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 5, tzinfo=UTC)
    base = dict(
        id=1,
        ticket="T-1",
        author_id=99,
        subject="s",
        body="b",
        status=Status.FORWARDED,
        confidential=False,
        anonymous=False,
        created_at=now,
        updated_at=now,
        category_id=ADUAN_ID,
        subcategory_id=LAND_ID,
        agency_id=8,
    )
    base.update(fields)
    return Message(**base)


def test_loaded_from_its_entry_point():
    [info] = [p for p in list_plugins(manager()) if p.name == "land_issue"]
    assert info.distribution == "aspirasi-land-issue"
    assert info.module == "aspirasi_land_issue"
    assert set(info.hooks) == {
        "aspirasi_configure",
        "aspirasi_register_permissions",
        "aspirasi_register_categories",
        "aspirasi_default_permissions",
        "aspirasi_visibility_scopes",
        "aspirasi_mail_kinds",
        "aspirasi_web_route_handlers",
        "aspirasi_web_menu_items",
        "aspirasi_web_template_dirs",
        "aspirasi_web_locale_dirs",
    }


def test_declares_a_grantable_monitor_permission_held_by_no_level():
    policy = collect_policy(manager())
    decl = policy.permissions["land_issue.monitor"]
    assert decl == PermissionDecl(decl.name, decl.description, roles=frozenset(), grantable=True)
    assert "land_issue.monitor" in policy.grantable()
    operator = Actor(account_id=1, role=Role.OPERATOR, agency_id=3)
    assert not policy.allows(operator, "land_issue.monitor")
    assert policy.allows(monitor(), "land_issue.monitor")


def test_requires_the_land_subcategory_under_aduan():
    assert collect_category_decls(manager()) == [
        CategoryDecl("aduan", "Aduan", "permasalahan-lahan", "Permasalahan Lahan")
    ]


def test_subcategory_code_and_name_come_from_the_settings():
    pm = manager(land_issue_subcategory="sengketa-tanah", land_issue_subcategory_name="Sengketa")
    assert collect_category_decls(pm) == [
        CategoryDecl("aduan", "Aduan", "sengketa-tanah", "Sengketa")
    ]
    directory = FakeDirectory({("aduan", "sengketa-tanah"): 11, ("aduan", "permasalahan-lahan"): 7})
    [scope] = scopes(pm, monitor(), directory)
    assert scope.subcategory_ids == frozenset({11})


def test_settings_are_read_from_the_environment_variable():
    settings = Settings.from_env(
        {"ASPIRASI_LAND_ISSUE_SUBCATEGORY": "lahan", "ASPIRASI_PLUGINS": "land_issue"}
    )
    create_plugin_manager(settings)
    assert land_issue.current_config().subcategory_code == "lahan"


@pytest.mark.parametrize("bad", ["Permasalahan Lahan", "lahan_", "-lahan", ""])
def test_a_code_that_is_not_a_slug_refuses_to_start(bad):
    with pytest.raises(ValueError, match="ASPIRASI_LAND_ISSUE_SUBCATEGORY"):
        manager(land_issue_subcategory=bad)


def test_the_monitoring_agency_comes_from_the_settings():
    manager()
    assert land_issue.current_config().agency_code == "biro-perekonomian"
    create_plugin_manager(
        Settings.from_env(
            {"ASPIRASI_LAND_ISSUE_AGENCY": " biro-ekonomi ", "ASPIRASI_PLUGINS": "land_issue"}
        )
    )
    assert land_issue.current_config().agency_code == "biro-ekonomi"


@pytest.mark.parametrize("bad", ["Biro Perekonomian", "biro_ekonomi", "biro-", ""])
def test_an_agency_code_that_is_not_a_slug_refuses_to_start(bad):
    with pytest.raises(ValueError, match="ASPIRASI_LAND_ISSUE_AGENCY"):
        manager(land_issue_agency=bad)


def test_aspirasi_default_permissions_grants_the_monitor_to_operators_of_the_agency_only():
    pm = manager(land_issue_agency="biro-ekonomi")

    def defaults(role, agency_code):
        results = pm.hook.aspirasi_default_permissions(role=role, agency_code=agency_code)
        return [name for names in results for name in names or ()]

    assert defaults("operator", "biro-ekonomi") == ["land_issue.monitor"]
    assert defaults("operator", "biro-perekonomian") == []
    assert defaults("operator", None) == []
    assert defaults("admin", "biro-ekonomi") == []


def test_a_monitor_sees_land_complaints_of_every_agency_and_nothing_else():
    policy = collect_policy(manager())
    found = scopes(manager(), monitor())
    assert [s.name for s in found] == ["land_issue"]
    assert found[0].category_ids == frozenset({ADUAN_ID})
    assert found[0].subcategory_ids == frozenset({LAND_ID})
    actor = monitor()
    assert policy.can_read(actor, message(agency_id=8), found)
    assert policy.can_read(actor, message(agency_id=9, status=Status.DONE), found)
    assert not policy.can_read(actor, message(subcategory_id=LAND_ID + 1), found)
    assert not policy.can_read(actor, message(category_id=1), found)
    assert not policy.can_read(actor, message(status=Status.WITHDRAWN), found)


def test_other_accounts_get_no_scope():
    pm = manager()
    assert scopes(pm, Actor(account_id=1, role=Role.OPERATOR, agency_id=3)) == []
    assert scopes(pm, Actor(account_id=2, role=Role.USER)) == []
    assert scopes(pm, Actor(account_id=3, role=Role.ADMIN, permissions=frozenset({"other"}))) == []


def test_no_scope_while_the_subcategory_does_not_exist():
    # A scope without ids would match every message: better none at all.
    assert scopes(manager(), monitor(), FakeDirectory(subcategories={})) == []


def test_can_be_turned_off_by_name():
    pm = create_plugin_manager(Settings(disabled_plugins=("land_issue",)))
    assert "land_issue" not in [p.name for p in list_plugins(pm)]
    assert "land_issue.monitor" not in collect_policy(pm).permissions
    assert collect_category_decls(pm) == []
