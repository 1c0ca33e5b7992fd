"""The world of the use-case tests: the public one of ``aspirasi_core.testing``
(the real use cases on SQLite and PostgreSQL, a fake clock, a recording plugin,
accounts of each role)."""

from __future__ import annotations

from aspirasi_core.testing import (
    NIKS,
    SECRET,
    FakeClock,
    Recorder,
    World,
    build_world,
    make_settings,
)

#: The recording plugin under its former name.
RecorderPlugin = Recorder

__all__ = [
    "NIKS",
    "SECRET",
    "FakeClock",
    "RecorderPlugin",
    "World",
    "build_world",
    "make_settings",
]
