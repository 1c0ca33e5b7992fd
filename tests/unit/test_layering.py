"""Imports point inward: the pure domain loads nothing heavy, and the
import-linter contracts in pyproject.toml hold."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = ("sqlalchemy", "litestar", "pluggy", "alembic", "structlog")


def loaded_after(statement: str) -> set[str]:
    """Top-level packages in sys.modules after ``statement`` in a fresh interpreter."""
    code = (
        f"import json, sys\n{statement}\n"
        "print(json.dumps(sorted({m.partition('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_domain_loads_no_database_web_or_plugin_machinery():
    loaded = loaded_after("import aspirasi_core.domain")
    assert "aspirasi_core" in loaded  # the import did happen
    assert loaded.isdisjoint(FORBIDDEN_IN_DOMAIN), loaded & set(FORBIDDEN_IN_DOMAIN)


def test_importing_the_core_package_loads_no_pluggy_until_hookimpl_is_used():
    assert "pluggy" not in loaded_after("import aspirasi_core")
    assert "pluggy" in loaded_after("from aspirasi_core import hookimpl")


def test_import_linter_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is not installed in this environment"
    result = subprocess.run(
        [lint_imports, "--no-cache"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
