"""The runnable examples run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_embedding_the_core_routes_a_message_to_done() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed_core.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    actions = [line.split()[2] for line in lines if line[:4].isdigit() and "[" not in line]
    assert actions == ["submit", "forward", "start", "progress", "reply"]
    assert lines[-1].startswith("tracking ") and lines[-1].endswith(": done")
