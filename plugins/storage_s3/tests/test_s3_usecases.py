"""The core's use cases on the S3 store, chosen by ``ASPIRASI_FILE_STORAGE=s3``
through the hook ``aspirasi_attachment_store``: a photo (re-encoded on upload)
submitted, read, exported and thumbnailed through the store, with the row's
SHA-256; deleted with the account; a bad configuration stops the start."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.s3_support import S3Server

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.errors import NotFound
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import SubmitInput
from aspirasi_core.services.messages import Upload
from aspirasi_core.settings import Settings
from aspirasi_core.testing.world import build_world, make_settings
from aspirasi_storage_s3 import S3AttachmentStore, S3StoragePlugin

pytestmark = pytest.mark.anyio


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def s3_settings(tmp_path: Path, server: S3Server, bucket: str, **extra: str) -> Settings:
    return make_settings(
        tmp_path,
        file_storage="s3",
        extra={
            "s3_bucket": bucket,
            "s3_endpoint_url": server.url,
            "s3_region": "us-east-1",
            "s3_addressing_style": "path",
            **extra,
        },
    )


def objects(store: S3AttachmentStore) -> set[str]:
    listed = store.client.list_objects_v2(Bucket=store.bucket)
    return {o["Key"] for o in listed.get("Contents", ())}


async def test_attachments_live_in_the_bucket_from_upload_to_account_deletion(
    sqlite_database: Any, tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    settings = s3_settings(tmp_path, s3_server, s3_bucket, s3_prefix="kaltim")
    world = await build_world(
        sqlite_database, tmp_path, plugins=[S3StoragePlugin()], settings=settings
    )
    store = world.app.deps.files
    assert isinstance(store, S3AttachmentStore)  # picked by the hook, not the folder
    message = await world.app.messages.submit(
        world.ctx("ani"),
        SubmitInput("Jalan rusak", "Lubang besar.", attachment=Upload("foto.jpg", jpeg())),
    )
    [attachment] = message.attachments
    key = attachment.storage_key
    assert objects(store) == {f"kaltim/{key}"}  # promoted after the commit
    assert not (tmp_path / "files").exists()  # nothing on the local disk

    found = await world.app.queries.attachment_download(
        world.ctx("admin"), message.id, attachment.id
    )
    assert found.url() is None  # presigned URLs off: streamed by the app
    handle = found.open()
    try:
        data = handle.read()
    finally:
        handle.close()
    assert hashlib.sha256(data).hexdigest() == attachment.sha256  # the row's SHA-256
    _, _, whole = await world.app.queries.attachment(world.ctx("ani"), message.id, attachment.id)
    assert whole == data

    export = await world.app.data_rights.export(world.ctx("ani"))
    try:
        with zipfile.ZipFile(export.file) as archive:
            exported = [n for n in archive.namelist() if n.startswith("attachments/")]
            assert [archive.read(n) for n in exported] == [data]
    finally:
        export.close()

    await world.app.data_rights.delete_account(world.ctx("ani"), "ani-long-password")
    assert objects(store) == set()  # the file went with the account


async def test_presigned_downloads_after_the_access_checks(
    sqlite_database: Any, tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    settings = s3_settings(
        tmp_path, s3_server, s3_bucket, s3_presigned_urls="1", s3_url_ttl_seconds="45"
    )
    world = await build_world(
        sqlite_database, tmp_path, plugins=[S3StoragePlugin()], settings=settings
    )
    message = await world.app.messages.submit(
        world.ctx("ani"),
        SubmitInput("Jalan rusak", "Lubang besar.", attachment=Upload("foto.jpg", jpeg())),
    )
    [attachment] = message.attachments
    found = await world.app.queries.attachment_download(world.ctx("ani"), message.id, attachment.id)
    url = found.url(inline=True)
    assert url is not None and "X-Amz-Expires=45" in url and "inline" in url
    # Another citizen never gets that far: the core refuses before any URL exists.
    with pytest.raises(NotFound):
        await world.app.queries.attachment_download(world.ctx("budi"), message.id, attachment.id)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({}, "ASPIRASI_S3_BUCKET is required"),
        ({"s3_bucket": "b", "s3_bukcet": "typo"}, "ASPIRASI_S3_BUKCET"),
        ({"s3_bucket": "b", "s3_url_ttl_seconds": "7200"}, "ASPIRASI_S3_URL_TTL_SECONDS"),
        ({"s3_bucket": "b", "s3_presigned_urls": "maybe"}, "ASPIRASI_S3_PRESIGNED_URLS"),
        ({"s3_bucket": "b", "s3_endpoint_url": "minio:9000"}, "ASPIRASI_S3_ENDPOINT_URL"),
        ({"s3_bucket": "b", "s3_addressing_style": "odd"}, "ASPIRASI_S3_ADDRESSING_STYLE"),
    ],
)
def test_a_bad_configuration_stops_the_start(
    tmp_path: Path, extra: dict[str, str], problem: str
) -> None:
    settings = make_settings(tmp_path, file_storage="s3", extra=extra)
    with pytest.raises(ValueError, match=problem):
        create_plugin_manager(settings, load_entry_points=False, extra_plugins=[S3StoragePlugin()])


def test_a_storage_no_plugin_provides_stops_the_start(sqlite_database: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, file_storage="azure")
    pm = create_plugin_manager(settings, load_entry_points=False, extra_plugins=[S3StoragePlugin()])
    with pytest.raises(ValueError, match="'azure': no loaded plugin provides"):
        bootstrap(settings, plugin_manager=pm, database=sqlite_database)
    with pytest.raises(ValueError, match="ASPIRASI_FILE_STORAGE"):
        Settings.from_env({"ASPIRASI_FILE_STORAGE": "S3 bucket"}).check_production()


def test_boto3_is_imported_only_when_the_s3_store_is_used():
    """boto3 is ~8 MB of every worker's memory (docs/performance.md, Worker memory
    on SQLite), and every worker loads this plugin: a fresh interpreter loads it
    without boto3, and the store's names bring it along."""
    import subprocess
    import sys

    code = (
        "import sys, aspirasi_storage_s3 as s3\n"
        "assert 'boto3' not in sys.modules, 'imported with the plugin'\n"
        "assert s3.S3AttachmentStore.__name__ == 'S3AttachmentStore'\n"
        "assert 'boto3' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
