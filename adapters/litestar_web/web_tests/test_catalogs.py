"""Every text of the interface is translated (issue 22): the catalogs are walked against
the texts the templates and the code use, so no English and no raw code reaches the
Indonesian interface.

Message ids are English: the English interface shows the msgid itself, unless the
package (a plugin) ships an ``en`` catalog, which must then have the text too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from aspirasi_core.domain.policy import CORE_PERMISSIONS, CORE_ROLES
from aspirasi_web.menu import GROUPS
from aspirasi_web.templating import FLASH_MESSAGES

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "adapters" / "litestar_web" / "src" / "aspirasi_web"
CORE = ROOT / "src" / "aspirasi_core"
PLUGINS = sorted(p.parent for p in ROOT.glob("plugins/*/src/*/__init__.py"))

#: Words written the same in both languages (an Indonesian msgstr equal to its msgid).
SAME_IN_BOTH = {
    "Admin",
    "E-mail",
    "Internal",
    "Level",
    "Menu",
    "Monitor",
    "NIK",
    "Operator",
    "Status",
    "Super Admin",
    "Total",
}

_TEMPLATE_CALL = [
    re.compile(r'\b_\(\s*"((?:[^"\\]|\\.)*)"'),
    re.compile(r"\b_\(\s*'((?:[^'\\]|\\.)*)'"),
]
#: Calls whose string argument (at this position) is a message id: ``t("…")``,
#: ``MenuItem("…")``, ``RoleDecl(code, "…")`` and the messages of domain errors
#: (``Invalid.field(field, "code", "Message")``, ``NotFound("code", "Message")`` …).
#: Read from the syntax tree, so a text split over lines counts as one.
_PY_CALLS = {
    "t": 0,
    "MenuItem": 0,
    "RoleDecl": 1,
    "FieldError": 2,
    "field": 2,  # Invalid.field
    "Invalid": 1,
    "NotFound": 1,
    "NotAllowed": 1,
    "Conflict": 1,
}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _catalog(folders: list[Path], lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for folder in folders:
        for path in sorted((folder / lang / "LC_MESSAGES").glob("*.po")):
            with path.open("rb") as fh:
                for message in read_po(fh):
                    if message.id and isinstance(message.id, str) and message.string:
                        merged.setdefault(message.id, message.string)
    return merged


def _template_msgids(folder: Path) -> set[str]:
    found: set[str] = set()
    for template in folder.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in _TEMPLATE_CALL:
            found |= {_unescape(m) for m in pattern.findall(text)}
    return found


def _code_msgids(folder: Path) -> set[str]:
    found: set[str] = set()
    for module in folder.rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "field" and not (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "Invalid"
            ):
                continue
            position = _PY_CALLS.get(name or "")
            if position is None or len(node.args) <= position:
                continue
            arg = node.args[position]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    return found


def _used_by_core_and_web() -> set[str]:
    used = _template_msgids(WEB / "templates") | _code_msgids(WEB) | _code_msgids(CORE)
    used |= set(FLASH_MESSAGES.values()) | set(GROUPS.values())
    used |= {r.label for r in CORE_ROLES} | {p.description for p in CORE_PERMISSIONS}
    return used


def test_every_text_has_an_indonesian_translation() -> None:
    catalog = _catalog([WEB / "locale", CORE / "locale", *(p / "locale" for p in PLUGINS)], "id")
    used = _used_by_core_and_web()
    for plugin in PLUGINS:
        used |= _template_msgids(plugin) | _code_msgids(plugin)
    assert len(used) > 400  # the walk found the texts
    missing = sorted(m for m in used if m not in catalog)
    assert not missing, f"no Indonesian translation for: {missing}"
    # Placeholders survive translation.
    for msgid in used:
        wanted = set(re.findall(r"%\((\w+)\)s", msgid))
        assert set(re.findall(r"%\((\w+)\)s", catalog[msgid])) == wanted, msgid


def test_nothing_is_left_in_english_in_the_indonesian_catalogs() -> None:
    for folder in [WEB / "locale", CORE / "locale", *(p / "locale" for p in PLUGINS)]:
        catalog = _catalog([folder], "id")
        same = sorted(m for m, text in catalog.items() if text == m and m not in SAME_IN_BOTH)
        assert not same, f"{folder}: left untranslated: {same}"


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_a_plugin_with_an_english_catalog_has_every_text_of_its_own(plugin: Path) -> None:
    if not (plugin / "locale" / "en").is_dir():
        pytest.skip(f"{plugin.name} has no English catalog: its English is its msgids")
    # A plugin's catalogs are consulted before the core's: the core's texts count too.
    catalog = _catalog([plugin / "locale", WEB / "locale"], "en") | {
        m: m for m in _used_by_core_and_web()
    }
    used = _template_msgids(plugin) | _code_msgids(plugin)
    missing = sorted(m for m in used if m not in catalog)
    assert not missing, f"{plugin.name}: no English text for: {missing}"


def test_roles_and_permissions_read_as_words_not_codes() -> None:
    indonesian = _catalog([WEB / "locale"], "id")
    assert indonesian["User"] == "Pengguna"  # the citizens' role, "User" in English
    for role in CORE_ROLES:
        assert role.label != role.name, role
    for permission in CORE_PERMISSIONS:
        assert permission.description in indonesian, permission.name
