"""The web app's file routes on the S3 store (``ASPIRASI_FILE_STORAGE=s3``, moto's
S3 server): the photo opened, downloaded and thumbnailed from the bucket, streamed
through the app or redirected to a presigned URL — only after the core's checks,
so a reader without access never gets a URL."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import httpx
import pytest
from PIL import Image
from tests.s3_support import S3Server, s3_bucket, s3_server

from .test_pages_photos import gps_photo, pdf_bytes, send_form
from .world import WebWorld

__all__ = ["s3_bucket", "s3_server"]


@pytest.fixture(params=["streamed", "presigned"])
def web_overrides(request: pytest.FixtureRequest, s3_server: S3Server, s3_bucket: str) -> Any:
    extra = {
        "s3_bucket": s3_bucket,
        "s3_endpoint_url": s3_server.url,
        "s3_region": "us-east-1",
        "s3_addressing_style": "path",
    }
    if request.param == "presigned":
        extra["s3_presigned_urls"] = "1"
    return {"file_storage": "s3", "extra": extra}


def fetch(web: WebWorld, path: str) -> httpx.Response:
    """GET through the app; a redirect to the store is followed outside it (the
    browser's second request), keeping the app's own answer's headers apart."""
    first = web.client.get(path, follow_redirects=False)
    if first.status_code != 302:
        return first
    assert first.headers["cache-control"] == "no-store"
    target = first.headers["location"]
    assert target.startswith("http://127.0.0.1:") and "X-Amz-Signature=" in target
    return httpx.get(target)


def test_photos_and_pdfs_come_from_the_bucket_to_readers_only(
    web: WebWorld, web_overrides: Any
) -> None:
    presigned = "s3_presigned_urls" in web_overrides["extra"]
    web.login("ani")
    r = send_form(
        web,
        [
            ("jalan.jpg", gps_photo((800, 600)), "image/jpeg"),
            ("surat.pdf", pdf_bytes(), "application/pdf"),
        ],
    )
    assert r.status_code == 303, r.text
    message_id = int(r.headers["location"].rsplit("/", 1)[1])
    detail = web.client.get(f"/messages/{message_id}")
    photo, pdf = sorted(
        {int(x) for x in re.findall(rf'"/files/{message_id}/(\d+)[/"]', detail.text)}
    )
    base = f"/files/{message_id}"
    row = web.core.deps.db.run_sync(lambda uow: uow.messages.attachment(photo), write=False)

    answer = web.client.get(f"{base}/{photo}/view", follow_redirects=False)
    assert answer.status_code == (302 if presigned else 200)
    full = fetch(web, f"{base}/{photo}/view")
    assert full.status_code == 200
    assert full.headers["content-disposition"].startswith("inline;")
    assert full.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(full.content)) as image:
        assert not image.getexif()  # re-encoded on upload, stored so
    assert hashlib.sha256(full.content).hexdigest() == row.sha256
    download = fetch(web, f"{base}/{pdf}")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert download.headers["content-disposition"].startswith("attachment;")
    small = web.client.get(f"{base}/{photo}/thumb")  # made by the app from the bucket's bytes
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"

    # Another citizen: not found, and no URL to the store.
    web.client.cookies.clear()
    web.login("budi")
    for path in (f"{base}/{photo}/view", f"{base}/{pdf}", f"{base}/{photo}/thumb"):
        refused = web.client.get(path, follow_redirects=False)
        assert refused.status_code == 404 and "location" not in refused.headers
