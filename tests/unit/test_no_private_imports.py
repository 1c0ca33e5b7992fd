"""No code outside the tests reaches into other libraries' internals, and plugins
only use the core's public API (issue 21).

Walks the syntax tree of every module of src/, plugins/ and adapters/ (their
tests excluded), examples/, and the Python examples of docs/plugins.md, and
fails on:

- ``ctypes`` or ``mmap``;
- a private module of another package: a module path with a part starting with
  ``_`` (``_argon2_cffi_bindings``, ``sqlalchemy.engine._py_row``), or psycopg's
  internal ``psycopg.pq`` and ``psycopg.generators``;
- a name starting with ``_`` imported from another package
  (``from sqlalchemy.sql import _typing``, ``from aspirasi_core.plugins import _flatten``);
- in a plugin (plugins/, examples/, the docs): ``aspirasi_core.storage`` or
  ``aspirasi_core.services.core`` (import-linter checks the installed plugins too).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Modules no code outside the tests imports.
FORBIDDEN = ("ctypes", "mmap", "psycopg.pq", "psycopg.generators")
#: Modules a plugin never imports: the core's internals.
CORE_INTERNALS = ("aspirasi_core.storage", "aspirasi_core.services.core")
#: Dunder modules are not private.
DUNDER = re.compile(r"^__\w+__$")
TEST_PARTS = {"tests", "web_tests", "browser_tests"}


def sources(*tops: str) -> Iterator[Path]:
    for top in tops:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).parts
            if TEST_PARTS & set(relative) or ".venv" in relative or "__pycache__" in relative:
                continue
            yield path


def own_package(path: Path) -> str:
    """The top-level package a file belongs to (``aspirasi_core`` for
    src/aspirasi_core/…), or the file's own name for a script."""
    parts = path.relative_to(ROOT).parts
    if "src" in parts:
        return parts[parts.index("src") + 1]
    return path.stem


def private(module: str) -> bool:
    return any(part.startswith("_") and not DUNDER.match(part) for part in module.split("."))


def imports(tree: ast.AST) -> Iterator[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) of every absolute import."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [alias.name for alias in node.names]


def problems(tree: ast.AST, own: str, *, plugin: bool) -> list[str]:
    found = []
    for line, module, names in imports(tree):
        top = module.split(".")[0]
        full = [module] + [f"{module}.{name}" for name in names]
        if any(m == bad or m.startswith(bad + ".") for m in full for bad in FORBIDDEN):
            found.append(f"{line}: {module} {names or ''}")
        if top == own:
            continue
        if private(module):
            found.append(f"{line}: {module} is a private module of {top}")
        for name in names:
            if name.startswith("_") and not DUNDER.match(name):
                found.append(f"{line}: {name} is private to {module}")
        if plugin and any(
            m == internal or m.startswith(internal + ".")
            for m in full
            for internal in CORE_INTERNALS
        ):
            found.append(f"{line}: {module} is the core's internals, not its plugin API")
    return found


def is_plugin(path: Path) -> bool:
    return path.relative_to(ROOT).parts[0] in ("plugins", "examples")


FILES = list(sources("src", "plugins", "adapters", "examples"))


def cases() -> list[object]:
    return [pytest.param(path, id=path.relative_to(ROOT).as_posix()) for path in FILES]


def test_the_walk_finds_the_code():
    names = {p.relative_to(ROOT).as_posix() for p in FILES}
    assert "src/aspirasi_core/plugin_api.py" in names
    assert "plugins/evaluator/src/aspirasi_evaluator/service.py" in names
    assert "examples/embed_core.py" in names
    assert not any("/tests/" in name for name in names)


@pytest.mark.parametrize("path", cases())
def test_no_private_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    assert problems(tree, own_package(path), plugin=is_plugin(path)) == []


def doc_examples() -> list[str]:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def test_the_docs_examples_use_only_the_public_api() -> None:
    found = []
    for block in doc_examples():
        if block.lstrip().startswith("def ") and "\n" not in block.strip():
            continue  # a signature, not code
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue  # a signature line of the hook reference
        found += problems(tree, "docs_example", plugin=True)
    assert found == []


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("import ctypes", "ctypes"),
        ("import mmap", "mmap"),
        ("from _argon2_cffi_bindings import ffi", "private module"),
        ("from psycopg import generators", "psycopg"),
        ("import psycopg.pq", "psycopg.pq"),
        ("from sqlalchemy.engine import _py_row", "private to"),
        ("from aspirasi_core.plugins import _flatten", "private to"),
        ("from aspirasi_core.storage import tables", "the core's internals"),
        ("from aspirasi_core.services.core import CoreDeps", "the core's internals"),
        ("import aspirasi_core.storage.tables", "the core's internals"),
    ],
)
def test_the_check_catches(source: str, complaint: str) -> None:
    [problem] = problems(ast.parse(source), "aspirasi_hello", plugin=True)
    assert complaint in problem


def test_the_check_lets_public_and_own_imports_through() -> None:
    source = """
from __future__ import annotations
import sqlalchemy
from aspirasi_core.plugin_api import PluginContext, schema
from aspirasi_hello._private import helper
from . import _sibling
"""
    assert problems(ast.parse(source), "aspirasi_hello", plugin=True) == []
