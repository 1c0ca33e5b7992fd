"""The environment of a test deployment: what the processes a test starts
(``aspirasi serve``, ``aspirasi outbox run``, a child script) read."""

from __future__ import annotations

import os
from pathlib import Path

SECRET = "test-deployment-secret-" * 2


def deployment_env(database_url: str, storage: Path, **extra: str) -> dict[str, str]:
    """This process's environment without its ``ASPIRASI_*`` variables, plus the
    database, the attachment folder, cheap password hashes, JSON logs and the
    outbox left to workers the test starts; ``extra`` wins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIRASI_")}
    env.update(
        ASPIRASI_DATABASE_URL=database_url,
        ASPIRASI_SECRET_KEY=SECRET,
        ASPIRASI_STORAGE_PATH=str(storage),
        ASPIRASI_OUTBOX_INLINE="0",
        ASPIRASI_ARGON2_TIME_COST="1",
        ASPIRASI_ARGON2_MEMORY_KIB="1024",
        ASPIRASI_LOG_JSON="1",
    )
    env.update(extra)
    return env
