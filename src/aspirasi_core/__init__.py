"""Aspirasi core: public aspiration and complaint services as a library.

The pure domain lives in :mod:`aspirasi_core.domain`, the use cases in
:mod:`aspirasi_core.services`, storage in :mod:`aspirasi_core.storage`. Plugins
implement the hooks of :mod:`aspirasi_core.hookspecs`, decorated with
:data:`hookimpl`::

    from aspirasi_core import hookimpl

    @hookimpl
    def aspirasi_register_permissions():
        ...

``hookimpl`` is resolved lazily so that importing :mod:`aspirasi_core.domain`
(which imports this package first) never loads pluggy.
"""

from __future__ import annotations

from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .hookspecs import hookimpl

try:
    __version__ = _metadata.version("aspirasi-core")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        from .hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["__version__", "hookimpl"]
