"""Catalogs of the core and the plugins become one catalog per language."""

from __future__ import annotations

from pathlib import Path

from aspirasi_web.i18n import Translations

PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

{entries}
"""


def write_po(folder: Path, name: str, entries: dict[str, str]) -> None:
    path = folder / "id" / "LC_MESSAGES" / f"{name}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(f'msgid "{k}"\nmsgstr "{v}"\n' for k, v in entries.items())
    path.write_text(PO.format(entries=body), encoding="utf-8")


def test_a_plugins_catalog_joins_and_the_core_wins(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    write_po(plugin, "messages", {"Land dispute": "Sengketa tanah", "Ticket": "Karcis", "X": ""})
    write_po(tmp_path / "other", "messages", {"X": "Iks"})
    t = Translations("Asia/Makassar", [str(tmp_path / "other"), str(plugin)]).get("id")
    assert t("Land dispute") == "Sengketa tanah"  # only the plugin knows it
    assert t("Ticket") == "Tiket"  # the core's translation wins over the plugin's
    assert t("X") == "Iks"  # an untranslated entry hides no other file's translation
    assert t("Never translated") == "Never translated"
