"""The plugin's settings, read from ``settings.extra`` (``ASPIRASI_S3_*``)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

#: ``settings.extra`` keys this plugin reads; any other ``s3_*`` key is a typo.
KEYS = frozenset(
    {
        "s3_bucket",
        "s3_endpoint_url",
        "s3_region",
        "s3_prefix",
        "s3_presigned_urls",
        "s3_url_ttl_seconds",
        "s3_addressing_style",
    }
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


@attrs.frozen
class S3Config:
    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    #: Prepended to every object name (``aspirasi/``); empty: the bucket's root.
    prefix: str = ""
    #: Seconds a presigned download URL lives; None: downloads are streamed by the app.
    url_ttl: int | None = None
    addressing_style: str = "auto"

    @classmethod
    def from_extra(cls, extra: Mapping[str, str]) -> S3Config:
        """Parse and check the variables; ``ValueError`` names the bad one."""
        unknown = sorted(k for k in extra if k.startswith("s3_") and k not in KEYS)
        if unknown:
            names = ", ".join("ASPIRASI_" + k.upper() for k in unknown)
            raise ValueError(f"unknown setting(s) of the storage_s3 plugin: {names}")
        bucket = extra.get("s3_bucket", "").strip()
        if not bucket:
            raise ValueError("ASPIRASI_S3_BUCKET is required with ASPIRASI_FILE_STORAGE=s3")
        endpoint = extra.get("s3_endpoint_url", "").strip() or None
        if endpoint is not None and not endpoint.startswith(("https://", "http://")):
            raise ValueError("ASPIRASI_S3_ENDPOINT_URL must be an http(s):// address")
        prefix = extra.get("s3_prefix", "").strip().strip("/")
        presigned = extra.get("s3_presigned_urls", "").strip().lower()
        if presigned not in _TRUE + _FALSE:
            raise ValueError("ASPIRASI_S3_PRESIGNED_URLS must be a boolean")
        raw_ttl = extra.get("s3_url_ttl_seconds", "60").strip() or "60"
        try:
            ttl = int(raw_ttl)
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 3600:
            raise ValueError("ASPIRASI_S3_URL_TTL_SECONDS must be a whole number from 1 to 3600")
        style = extra.get("s3_addressing_style", "auto").strip() or "auto"
        if style not in ("auto", "path", "virtual"):
            raise ValueError("ASPIRASI_S3_ADDRESSING_STYLE must be auto, path or virtual")
        return cls(
            bucket=bucket,
            endpoint_url=endpoint,
            region=extra.get("s3_region", "").strip() or None,
            prefix=prefix + "/" if prefix else "",
            url_ttl=ttl if presigned in _TRUE else None,
            addressing_style=style,
        )
