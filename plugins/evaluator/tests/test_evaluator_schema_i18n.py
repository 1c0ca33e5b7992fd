"""The plugin's Alembic branch builds exactly ``tables.py`` (SQLite and PostgreSQL),
and every visible text has an Indonesian and an English translation."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from babel.messages.pofile import read_po
from evaluator_support import migrate_evaluator
from sqlalchemy import inspect

from aspirasi_core.storage import current
from aspirasi_core.storage.migrate import make_config
from aspirasi_evaluator import MIGRATIONS_DIR, tables
from aspirasi_evaluator.figures import STATUS_BUCKETS
from aspirasi_evaluator.web.common import PRESET_LABELS, buckets

PACKAGE = Path(tables.__file__).resolve().parent


INDEX = tables.MESSAGE_LOG_INDEX
#: The roll-ups' partial index on the core's messages (e003, dropped by e004).
OPEN_DUE_INDEX = "ix_evaluator_messages_open_due"
ROLLUP_TABLES = {
    "evaluator_rollup_state",
    "evaluator_message_facts",
    "evaluator_counts",
    "evaluator_totals",
    "evaluator_ratings",
    "evaluator_duration_bins",
    "evaluator_duration_fine",
}


def _indexes(database, table: str) -> dict[str, list[str]]:
    with database.engine.connect() as conn:
        return {i["name"]: list(i["column_names"]) for i in inspect(conn).get_indexes(table)}


def _report_indexes(database) -> dict[str, tuple[str, tuple[str, ...]]]:
    found = {}
    for table in ("messages", "message_log"):
        for name, columns in _indexes(database, table).items():
            if name.startswith("ix_evaluator_"):
                found[name] = (table, tuple(columns))
    return found


def _downgrade(database, revision: str) -> None:
    with database.engine.begin() as conn:
        command.downgrade(make_config(conn, [MIGRATIONS_DIR]), revision)
    assert revision in current(database.engine)


def test_the_branch_builds_exactly_the_tables(database):
    migrate_evaluator(database)
    assert "e006_escalation" in current(database.engine)
    # The report's indexes on the core's tables, owned by this branch (on
    # PostgreSQL the messages index also INCLUDEs id, which the inspector lists).
    found = _report_indexes(database)
    assert set(found) == set(tables.REPORT_INDEXES)
    for name, (table, columns) in tables.REPORT_INDEXES.items():
        assert found[name][0] == table
        assert found[name][1][: len(columns)] == columns, name
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
        names = set(inspect(conn).get_table_names())
    # The indexes on the core's tables are not in tables.metadata (the core's
    # tables are not ours to declare): they are checked above instead.
    ours = [
        d
        for d in diff
        if "evaluator_" in repr(d)
        and not (d[0] == "remove_index" and d[1].name in tables.REPORT_INDEXES)
    ]
    assert ours == []
    assert {"evaluator_reprimands", "evaluator_reprimand_messages"} <= names
    assert not names & ROLLUP_TABLES
    # Upgrading again is a no-op.
    migrate_evaluator(database)


def test_the_rollups_come_back_on_downgrade_and_go_again(database):
    migrate_evaluator(database)
    _downgrade(database, "e003_evaluator_rollups")
    assert set(inspect(database.engine).get_table_names()) >= ROLLUP_TABLES
    assert set(_report_indexes(database)) == {INDEX, OPEN_DUE_INDEX}
    migrate_evaluator(database)
    assert not ROLLUP_TABLES & set(inspect(database.engine).get_table_names())
    assert set(_report_indexes(database)) == set(tables.REPORT_INDEXES)


def test_the_message_log_index_downgrades_and_upgrades_again(database):
    migrate_evaluator(database)
    _downgrade(database, "e001_evaluator_reprimands")
    assert _report_indexes(database) == {}
    assert "evaluator_reprimands" in inspect(database.engine).get_table_names()
    migrate_evaluator(database)
    assert _indexes(database, "message_log")[INDEX] == ["to_status", "at"]


def _catalog(lang: str) -> dict[str, str]:
    path = PACKAGE / "locale" / lang / "LC_MESSAGES" / "evaluator.po"
    with path.open("rb") as fh:
        out: dict[str, str] = {}
        for m in read_po(fh):
            if isinstance(m.id, tuple):  # a plural: its singular, if every form is there
                out[m.id[0]] = m.string[0] if all(m.string) else ""
            elif m.id:
                out[m.id] = m.string
        return out


def _used_msgids() -> set[str]:
    found: set[str] = set()
    for template in (PACKAGE / "templates").rglob("*.html"):
        text = template.read_text()
        found |= set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', text))
        found |= set(re.findall(r"_\(\s*'((?:[^'\\]|\\.)*)'", text))
    for module in PACKAGE.rglob("*.py"):
        text = module.read_text()
        found |= set(re.findall(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', text))
        found |= set(re.findall(r'MenuItem\("([^"]+)"', text))
        found |= set(re.findall(r'required_message="([^"]+)"', text))
        found |= set(
            re.findall(
                r'(?:FieldError\([^,]+,\s*"[^"]+",\s*|Invalid\.field\(\s*[^,]+,\s*"[^"]+",\s*'
                r'|NotFound\(\s*|NotAllowed\(\s*|Conflict\(\s*)"((?:[^"\\]|\\.)*)"',
                text,
            )
        )
    found |= set(PRESET_LABELS.values())
    # The plural texts (ngettext) of the templates, both forms.
    for template in (PACKAGE / "templates").rglob("*.html"):
        for one, many in re.findall(r'ngettext\(\s*"([^"]+)",\s*"([^"]+)"', template.read_text()):
            found |= {one}
    return found


def test_every_text_is_translated_in_both_languages():
    used = _used_msgids()
    assert len(used) > 80
    for lang in ("id", "en"):
        catalog = _catalog(lang)
        missing = sorted(m for m in used if not catalog.get(m))
        assert not missing, (lang, missing)
    indonesian = _catalog("id")
    assert indonesian["Evaluation"] == "Evaluasi" and indonesian["Reprimands"] == "Teguran"
    assert indonesian["Until (date)"] == "Sampai (tanggal)"
    # Placeholders survive translation.
    for msgid, text in indonesian.items():
        assert set(re.findall(r"%\((\w+)\)s", msgid)) == set(re.findall(r"%\((\w+)\)s", text))


def test_the_report_names_statuses_as_every_other_page_does():
    """No words of its own ("Belum diteruskan", "Diproses"): the web adapter's one
    status vocabulary, in both languages."""
    from aspirasi_web.i18n import Translations, status_labels

    translations = Translations("Asia/Makassar", [str(PACKAGE / "locale")])
    for lang in ("id", "en"):
        t = translations.get(lang)
        labels = buckets(t)
        assert list(labels) == list(STATUS_BUCKETS)
        assert labels == {s: status_labels(t)[s] for s in STATUS_BUCKETS}
    indonesian = buckets(translations.get("id"))
    assert "Belum diteruskan" not in indonesian.values()
    assert "Diproses" not in indonesian.values()
