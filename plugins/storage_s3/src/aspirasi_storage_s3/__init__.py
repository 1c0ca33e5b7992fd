"""Attachments in an S3-compatible object store (AWS S3, MinIO, Ceph, Garage…), so
that several app machines share them.

Chosen with ``ASPIRASI_FILE_STORAGE=s3``; the local folder stays the default.
The settings (``settings.extra``):

``ASPIRASI_S3_BUCKET`` (required)
    The bucket; it must exist.
``ASPIRASI_S3_ENDPOINT_URL``
    The store's address when it is not AWS (``http://minio:9000``).
``ASPIRASI_S3_REGION``
    The region (``ap-southeast-3``).
``ASPIRASI_S3_PREFIX``
    A folder in the bucket for this deployment's objects (default: the root).
``ASPIRASI_S3_PRESIGNED_URLS`` (default off)
    Downloads redirect to a presigned URL the store serves, after the app's
    access checks, instead of being streamed through the app.
``ASPIRASI_S3_URL_TTL_SECONDS`` (default 60)
    How long such a URL works.
``ASPIRASI_S3_ADDRESSING_STYLE`` (``auto``, ``path`` or ``virtual``)
    How the bucket is addressed; ``path`` for most self-hosted stores.

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, an instance role…), never from
Aspirasi's settings. See :mod:`.store` for how files are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aspirasi_core.plugin_api import AttachmentStore, hookimpl
from aspirasi_core.settings import Settings

from .config import SETTINGS_PREFIX, S3Config, S3Settings

if TYPE_CHECKING:
    from .store import S3AttachmentStore, make_client

__all__ = [
    "SETTINGS_PREFIX",
    "S3AttachmentStore",
    "S3Config",
    "S3Settings",
    "S3StoragePlugin",
    "make_client",
]

#: Names of :mod:`.store`, which imports boto3 (~8 MB of a worker's memory): loaded
#: when first used (the S3 storage is chosen, or a caller names them), not with the
#: plugin, which every worker loads whatever its storage.
_STORE_NAMES = ("S3AttachmentStore", "make_client")


def __getattr__(name: str) -> Any:
    """``S3AttachmentStore`` and ``make_client``, imported from :mod:`.store` on first use."""
    if name in _STORE_NAMES:
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The value of ``ASPIRASI_FILE_STORAGE`` that selects this plugin.
NAME = "s3"


class S3StoragePlugin:
    """The ``storage_s3`` entry point (one instance per plugin manager)."""

    @hookimpl
    def aspirasi_configure(self, settings: Settings) -> None:
        """Stop the start on a misspelt or bad ``ASPIRASI_S3_*`` variable."""
        if settings.file_storage == NAME:
            S3Config.from_settings(settings)

    @hookimpl
    def aspirasi_attachment_store(self, name: str, settings: Settings) -> AttachmentStore | None:
        if name != NAME:
            return None
        from .store import S3AttachmentStore, make_client

        config = S3Config.from_settings(settings)
        return S3AttachmentStore(make_client(config), config)
