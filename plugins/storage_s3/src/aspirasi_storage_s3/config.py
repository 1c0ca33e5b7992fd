"""The plugin's settings, ``ASPIRASI_S3_*``, declared and read as the core's are
(:func:`aspirasi_core.settings.plugin_settings`: a misspelt variable stops the start)."""

from __future__ import annotations

from typing import Any

import attrs

from aspirasi_core.settings import plugin_settings, setting

#: The variables' prefix (``ASPIRASI_S3_…``).
SETTINGS_PREFIX = "s3_"


def _optional(value: Any) -> str | None:
    return (value or "").strip() or None


def _bucket(_instance: object, _attribute: attrs.Attribute, value: str) -> None:  # type: ignore[type-arg]
    if not value.strip():
        raise ValueError("ASPIRASI_S3_BUCKET is required with ASPIRASI_FILE_STORAGE=s3")


def _endpoint(_instance: object, _attribute: attrs.Attribute, value: str | None) -> None:  # type: ignore[type-arg]
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("ASPIRASI_S3_ENDPOINT_URL must be an http(s):// address")


def _ttl(_instance: object, _attribute: attrs.Attribute, value: int) -> None:  # type: ignore[type-arg]
    if not 1 <= value <= 3600:
        raise ValueError("ASPIRASI_S3_URL_TTL_SECONDS must be a whole number from 1 to 3600")


def _style(_instance: object, _attribute: attrs.Attribute, value: str) -> None:  # type: ignore[type-arg]
    if value not in ("auto", "path", "virtual"):
        raise ValueError("ASPIRASI_S3_ADDRESSING_STYLE must be auto, path or virtual")


@attrs.frozen
class S3Settings:
    """``ASPIRASI_S3_*``; credentials come from boto3's usual chain, never from here."""

    bucket: str = setting(
        "",
        "The bucket the attachments go to (it must exist; keep it private). Required"
        " with ASPIRASI_FILE_STORAGE=s3.",
        converter=lambda value: (value or "").strip(),
        validator=_bucket,
    )
    endpoint_url: str | None = setting(
        None,
        "Address of the store when it is not AWS S3 (`http://minio.internal:9000`).",
        converter=_optional,
        validator=_endpoint,
    )
    region: str | None = setting(
        None, "Region of the bucket (`ap-southeast-3`); unset: boto3's.", converter=_optional
    )
    prefix: str = setting(
        "",
        "Folder in the bucket for this deployment's objects (`kaltim`); empty: the root.",
        converter=lambda value: (value or "").strip().strip("/"),
    )
    presigned_urls: bool = setting(
        False,
        "Downloads redirect (302) to a short-lived presigned URL of the store, after"
        " the app's access checks, instead of being streamed through the app.",
    )
    url_ttl_seconds: int = setting(
        60, "Seconds a presigned download URL works (1-3600).", validator=_ttl
    )
    addressing_style: str = setting(
        "auto",
        "How the bucket is addressed: `auto`, `path` (most self-hosted stores) or `virtual`.",
        validator=_style,
    )


@attrs.frozen
class S3Config:
    """What the store needs, from :class:`S3Settings` (or built directly)."""

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    #: Prepended to every object name (``kaltim/``); empty: the bucket's root.
    prefix: str = ""
    #: Seconds a presigned download URL lives; None: downloads are streamed by the app.
    url_ttl: int | None = None
    addressing_style: str = "auto"

    @classmethod
    def from_settings(cls, settings: Any) -> S3Config:
        """Read and check ``ASPIRASI_S3_*``; ``ValueError`` names the bad variable."""
        own = plugin_settings(S3Settings, settings, SETTINGS_PREFIX)
        return cls(
            bucket=own.bucket,
            endpoint_url=own.endpoint_url,
            region=own.region,
            prefix=own.prefix + "/" if own.prefix else "",
            url_ttl=own.url_ttl_seconds if own.presigned_urls else None,
            addressing_style=own.addressing_style,
        )
