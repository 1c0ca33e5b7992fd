"""The S3 store against a real S3 server (moto's server mode, over HTTP): the
same contract as the local folder — pending until promoted, the sweep, deletion,
keys checked, SHA-256 sent along — plus presigned URLs and named faults."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest
from tests.s3_support import S3Server

from aspirasi_core.domain.errors import Unavailable
from aspirasi_storage_s3 import S3AttachmentStore, S3Config, make_client
from aspirasi_storage_s3.store import StoreFault


def store_of(server: S3Server, bucket: str, **kw: Any) -> S3AttachmentStore:
    config = S3Config(
        bucket=bucket, endpoint_url=server.url, region="us-east-1", addressing_style="path", **kw
    )
    return S3AttachmentStore(make_client(config), config)


def names(store: S3AttachmentStore) -> set[str]:
    listed = store.client.list_objects_v2(Bucket=store.bucket)
    return {o["Key"] for o in listed.get("Contents", ())}


def test_a_file_is_pending_until_promoted_then_deleted(s3_server: S3Server, s3_bucket: str) -> None:
    store = store_of(s3_server, s3_bucket, prefix="deploy-a/")
    data = b"%PDF-1.4 laporan"
    key = store.put(data, suffix=".pdf")
    assert key.endswith(".pdf") and len(key) == 36
    assert names(store) == {f"deploy-a/pending/{key}"}
    assert store.get(key) == data  # readable while pending
    # The store was sent the SHA-256 and keeps it.
    head = store.client.head_object(
        Bucket=s3_bucket, Key=f"deploy-a/pending/{key}", ChecksumMode="ENABLED"
    )
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()

    store.promote(key)
    store.promote(key)  # idempotent
    assert names(store) == {f"deploy-a/{key}"}
    head = store.client.head_object(Bucket=s3_bucket, Key=f"deploy-a/{key}", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    handle = store.open(key)
    try:
        chunks = list(iter(lambda: handle.read(5), b""))
    finally:
        handle.close()
    assert b"".join(chunks) == data and len(chunks) > 1

    store.delete(key)
    store.delete(key)  # a missing key is not an error
    assert names(store) == set()
    with pytest.raises(FileNotFoundError):
        store.get(key)
    with pytest.raises(FileNotFoundError):
        store.open(key)


def test_keys_that_are_not_the_cores_are_refused(s3_server: S3Server, s3_bucket: str) -> None:
    store = store_of(s3_server, s3_bucket)
    for bad in ("../../etc/passwd", "/abs", "A" * 32, "pending/" + "a" * 32):
        with pytest.raises(ValueError):
            store.get(bad)
        with pytest.raises(ValueError):
            store.delete(bad)
    with pytest.raises(ValueError):
        store.put(b"x", suffix="../x")


def test_the_sweep_promotes_what_a_row_names_and_removes_orphans(
    s3_server: S3Server, s3_bucket: str
) -> None:
    store = store_of(s3_server, s3_bucket)
    kept = store.put(b"committed", suffix=".jpg")
    orphan = store.put(b"killed before commit", suffix=".jpg")
    store.client.put_object(Bucket=s3_bucket, Key="pending/not-ours.txt", Body=b"x")
    asked: list[list[str]] = []

    def referenced(keys: list[str]) -> set[str]:
        asked.append(sorted(keys))
        return {kept}

    # Young pending files are left alone.
    assert store.sweep_pending(referenced) == (0, 0)
    assert asked == []
    assert store.sweep_pending(referenced, older_than=0) == (1, 1)
    assert asked == [sorted([kept, orphan])]
    assert names(store) == {kept, "pending/not-ours.txt"}
    assert store.get(kept) == b"committed"
    with pytest.raises(FileNotFoundError):
        store.get(orphan)


def test_presigned_urls_carry_name_type_and_expire_setting(
    s3_server: S3Server, s3_bucket: str
) -> None:
    streamed = store_of(s3_server, s3_bucket)
    key = streamed.put(b"\xff\xd8 foto", suffix=".jpg")
    assert (
        streamed.download_url(key, filename="x.jpg", content_type="image/jpeg", inline=True) is None
    )

    store = store_of(s3_server, s3_bucket, url_ttl=30)
    pending_url = store.download_url(
        key, filename="jalan rusak.jpg", content_type="image/jpeg", inline=True
    )
    assert pending_url is not None and "/pending/" in pending_url  # committed, not promoted
    store.promote(key)
    url = store.download_url(
        key, filename="Foto—jalan.jpg", content_type="image/jpeg", inline=False
    )
    assert url is not None and "X-Amz-Expires=30" in url
    r = httpx.get(url)
    assert r.status_code == 200 and r.content == b"\xff\xd8 foto"
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"Foto_jalan.jpg\"; filename*=UTF-8''Foto%E2%80%94jalan.jpg"
    )
    tampered = url.replace(key, store.put(b"other", suffix=".jpg"))
    assert httpx.get(tampered).status_code == 403  # the signature covers the object
    store.delete(key)
    with pytest.raises(FileNotFoundError):
        store.download_url(key, filename="x.jpg", content_type="image/jpeg", inline=False)


def test_an_unreachable_store_is_named(s3_bucket: str) -> None:
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    store = store_of(S3Server(closed), s3_bucket)
    with pytest.raises(Unavailable) as refused:
        store.put(b"x", suffix=".pdf")
    assert refused.value.code == "storage_unavailable" and refused.value.retry_after >= 1
    with pytest.raises(Unavailable):
        store.get("a" * 32 + ".pdf")
    with pytest.raises(Unavailable):
        store.check()
    # After the commit a fault is an OSError, as a folder's: the use cases keep the
    # file pending (promote) or try the deletion again later.
    with pytest.raises(StoreFault):
        store.promote("a" * 32 + ".pdf")
    with pytest.raises(OSError):
        store.delete("a" * 32 + ".pdf")
