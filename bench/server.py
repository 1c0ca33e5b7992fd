"""Serve :func:`bench.app.create_app` with exactly the uvicorn call of ``aspirasi serve``.

``python -m bench.server --port 8765`` (run from the repository root). The only
difference from ``src/aspirasi_core/cli.py`` ``serve`` is the app factory, which adds
the hello-world route (see :mod:`bench.app`).
"""

from __future__ import annotations

import argparse

import uvicorn

from aspirasi_core.cli import uvicorn_options
from aspirasi_core.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    settings = Settings.from_env()
    settings.check_production()
    uvicorn.run(
        "bench.app:create_app",
        host=args.host,
        port=args.port,
        workers=1,
        **uvicorn_options(settings),
    )


if __name__ == "__main__":
    main()
