"""A plugin's settings are declared and read as the core's are."""

from __future__ import annotations

import attrs
import pytest

from aspirasi_core.settings import Settings, plugin_settings, setting
from aspirasi_core.settings_env import documented_fields


def _positive(_instance: object, _attribute: object, value: int) -> None:
    if value < 1:
        raise ValueError("ASPIRASI_DEMO_PLUGIN_BATCH must be at least 1")


@attrs.frozen
class DemoSettings:
    batch: int = setting(10, "Rows per batch.", validator=_positive)
    ratio: float = setting(0.5, "A share.")
    loud: bool = setting(False, "Say more.")
    hosts: tuple[str, ...] = setting((), "Hosts.", kind="list")
    token: str | None = setting(None, "A token.", secret=True)


def read(**env: str) -> DemoSettings:
    return plugin_settings(DemoSettings, Settings.from_env(env), "demo_plugin_")


def test_defaults_and_parsed_values() -> None:
    assert read() == DemoSettings()
    got = read(
        ASPIRASI_DEMO_PLUGIN_BATCH=" 20 ",
        ASPIRASI_DEMO_PLUGIN_RATIO="0.25",
        ASPIRASI_DEMO_PLUGIN_LOUD="yes",
        ASPIRASI_DEMO_PLUGIN_HOSTS="a, b,,",
        ASPIRASI_DEMO_PLUGIN_TOKEN="",
    )
    assert got == DemoSettings(batch=20, ratio=0.25, loud=True, hosts=("a", "b"), token=None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ASPIRASI_DEMO_PLUGIN_BATCH": "x"}, r"^ASPIRASI_DEMO_PLUGIN_BATCH: "),
        ({"ASPIRASI_DEMO_PLUGIN_BATCH": "0"}, r"^ASPIRASI_DEMO_PLUGIN_BATCH must be at least 1"),
        ({"ASPIRASI_DEMO_PLUGIN_LOUD": "maybe"}, r"^ASPIRASI_DEMO_PLUGIN_LOUD: "),
        ({"ASPIRASI_DEMO_PLUGIN_BATHC": "3"}, r"^ASPIRASI_DEMO_PLUGIN_BATHC: not a setting"),
    ],
)
def test_a_bad_or_misspelt_variable_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read(**env)


def test_other_plugins_variables_are_left_alone() -> None:
    assert read(ASPIRASI_LAND_ISSUE_AGENCY="x", ASPIRASI_DEMO="1") == DemoSettings()


def test_the_fields_are_documented_with_their_variables() -> None:
    rows = documented_fields(DemoSettings, "demo_plugin_")
    assert rows[0] == ("ASPIRASI_DEMO_PLUGIN_BATCH", "Rows per batch.", 10)
    assert [r[0] for r in rows][-1] == "ASPIRASI_DEMO_PLUGIN_TOKEN"


def test_a_prefix_must_be_a_lower_case_prefix() -> None:
    with pytest.raises(ValueError, match="prefix"):
        plugin_settings(DemoSettings, Settings(), "DEMO")
