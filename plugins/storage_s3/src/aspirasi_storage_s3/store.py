"""The object store behind :class:`S3AttachmentStore`.

Objects are named by the core's keys (``<32 hex>.jpg``), under the configured
prefix. As in the local folder, :meth:`~S3AttachmentStore.put` stores a new file
under ``pending/`` and :meth:`~S3AttachmentStore.promote` moves it to its place
once the row naming it has committed (a server-side copy, then the pending object
is deleted); the sweep promotes or removes pending objects older than an hour by
their ``LastModified``. Every upload carries its SHA-256 (``ChecksumSHA256``), so
the store refuses bytes damaged on the way.

Faults of the store (unreachable, 5xx, throttled) while a request stores or reads
a file become the core's ``Unavailable`` (``storage_unavailable``: 503 with
``Retry-After``); while a file is promoted, deleted or swept, an ``OSError``
(:class:`StoreFault`), as a folder's would be; an object that is not there
becomes :class:`FileNotFoundError`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast
from urllib.parse import quote

import boto3
import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from aspirasi_core.domain.errors import Unavailable
from aspirasi_core.plugin_api import (
    ATTACHMENT_ORPHAN_AGE,
    new_attachment_key,
    validate_attachment_key,
)

from .config import S3Config

log = structlog.get_logger("aspirasi.storage_s3")

PENDING = "pending/"
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


def make_client(config: S3Config) -> Any:
    """A boto3 S3 client (thread-safe; one per store) with short timeouts, so a
    store that does not answer costs a request seconds, not minutes."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=config.endpoint_url,
        region_name=config.region,
        config=Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=32,
            s3={"addressing_style": config.addressing_style},
            signature_version="s3v4",  # presigned URLs carry X-Amz-Expires
        ),
    )


def _unavailable(exc: Exception) -> Unavailable:
    log.warning("s3_unavailable", error=type(exc).__name__)
    return Unavailable(code="storage_unavailable")


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _MISSING


class StoreFault(OSError):
    """The store could not be reached, or failed, while a file was promoted or
    deleted: an ``OSError``, as a folder's would be, which the core's use cases
    treat alike (the file stays pending, or its deletion is tried again later)."""


@contextlib.contextmanager
def _faults(*, after_commit: bool = False) -> Iterator[None]:
    """Name the store's faults: a missing object is ``FileNotFoundError``; anything
    else the store or the network did is ``Unavailable`` (a 503 for the request),
    or :class:`StoreFault` for the steps that run ``after_commit``."""
    try:
        yield
    except ClientError as exc:
        if _missing(exc):
            raise FileNotFoundError("no such attachment") from exc
        if after_commit:
            raise StoreFault(str(exc)) from exc
        raise _unavailable(exc) from exc
    except BotoCoreError as exc:
        if after_commit:
            raise StoreFault(str(exc)) from exc
        raise _unavailable(exc) from exc


def disposition(filename: str, inline: bool) -> str:
    """``attachment`` (or ``inline``) with an ASCII fallback name and the UTF-8 one
    (RFC 6266), as the app's own downloads send."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class S3AttachmentStore:
    """Implements :class:`aspirasi_core.plugin_api.AttachmentStore` on a bucket."""

    def __init__(self, client: Any, config: S3Config) -> None:
        self.client = client
        self.config = config
        self.bucket = config.bucket

    def _name(self, key: str) -> str:
        return self.config.prefix + validate_attachment_key(key)

    def _pending(self, key: str) -> str:
        return self.config.prefix + PENDING + validate_attachment_key(key)

    # ------------------------------------------------------------------ writes

    def put(self, data: bytes, *, suffix: str) -> str:
        """Store ``data`` pending under a new random key; the store checks the
        SHA-256 it is sent with."""
        key = new_attachment_key(suffix)
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
        with _faults():
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._pending(key),
                Body=data,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=digest,
            )
        return key

    def promote(self, key: str) -> None:
        """Copy the pending object to its place and delete it; idempotent (a key
        that is not pending is left alone)."""
        source = self._pending(key)
        with _faults(after_commit=True):
            try:
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=self._name(key),
                    CopySource={"Bucket": self.bucket, "Key": source},
                    ChecksumAlgorithm="SHA256",  # the copy keeps the SHA-256
                )
            except ClientError as exc:
                if _missing(exc):
                    return  # promoted before
                raise
            self.client.delete_object(Bucket=self.bucket, Key=source)

    def delete(self, key: str) -> None:
        """Remove the object, pending or not; a missing key is not an error."""
        with _faults(after_commit=True):
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={
                    "Objects": [{"Key": self._name(key)}, {"Key": self._pending(key)}],
                    "Quiet": True,
                },
            )

    def sweep_pending(
        self,
        referenced: Callable[[list[str]], set[str]],
        *,
        older_than: float = ATTACHMENT_ORPHAN_AGE,
    ) -> tuple[int, int]:
        """Promote the pending objects older than ``older_than`` seconds that a row
        names, remove the others; (promoted, removed)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        start = self.config.prefix + PENDING
        keys: list[str] = []
        with _faults(after_commit=True):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start
            )
            for page in pages:
                for entry in page.get("Contents", ()):
                    name = entry["Key"][len(start) :]
                    if entry["LastModified"] <= cutoff:
                        try:
                            keys.append(validate_attachment_key(name))
                        except ValueError:
                            continue  # not ours: left alone
        promoted = removed = 0
        for first in range(0, len(keys), 500):
            batch = keys[first : first + 500]
            known = referenced(batch)
            for key in batch:
                if key in known:
                    self.promote(key)
                    promoted += 1
                else:
                    with _faults(after_commit=True):
                        self.client.delete_object(Bucket=self.bucket, Key=self._pending(key))
                    removed += 1
        return promoted, removed

    # ------------------------------------------------------------------ reads

    def _get(self, key: str) -> Any:
        """``get_object`` of the key's place, else of its pending object."""
        with _faults():
            try:
                return self.client.get_object(Bucket=self.bucket, Key=self._name(key))
            except ClientError as exc:
                if not _missing(exc):
                    raise
            return self.client.get_object(Bucket=self.bucket, Key=self._pending(key))

    def get(self, key: str) -> bytes:
        """The stored bytes; :class:`FileNotFoundError` when the key is unknown."""
        body = self._get(key)["Body"]
        try:
            with _faults():
                return cast(bytes, body.read())
        finally:
            body.close()

    def open(self, key: str) -> BinaryIO:
        """The object's body, read in chunks as it arrives (``read(n)``, ``close()``)."""
        return cast(BinaryIO, self._get(key)["Body"])

    def _located(self, key: str) -> str | None:
        """The object name the key's file has now (its place, or pending), or None."""
        for name in (self._name(key), self._pending(key)):
            with _faults():
                try:
                    self.client.head_object(Bucket=self.bucket, Key=name)
                    return name
                except ClientError as exc:
                    if not _missing(exc):
                        raise
        return None

    def exists(self, key: str) -> bool:
        return self._located(key) is not None

    def download_url(
        self, key: str, *, filename: str, content_type: str, inline: bool
    ) -> str | None:
        """A presigned GET URL living ``ASPIRASI_S3_URL_TTL_SECONDS`` with the file's
        name, type and ``no-store``; None unless ``ASPIRASI_S3_PRESIGNED_URLS``."""
        ttl = self.config.url_ttl
        if ttl is None:
            return None
        name = self._located(key)
        if name is None:
            raise FileNotFoundError("no such attachment")
        with _faults():
            url = self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": name,
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": disposition(filename, inline),
                    "ResponseCacheControl": "private, no-store",
                },
                ExpiresIn=ttl,
            )
        return cast(str, url)

    def check(self) -> dict[str, int]:
        """For readiness probes: the bucket answers (``HeadBucket``)."""
        with _faults():
            self.client.head_bucket(Bucket=self.bucket)
        return {}
