"""At most ``ASPIRASI_IMAGE_DECODE_CONCURRENCY`` JPEG attachments are decoded at
once per process; the others wait without a thread. PDFs do not wait for them."""

from __future__ import annotations

import io
import threading
from typing import Any

import anyio
import pytest
from PIL import Image

from aspirasi_core.services import SubmitInput, Upload
from aspirasi_core.services import message_files as message_files_module

from .test_messages import pdf_bytes
from .world import World

pytestmark = pytest.mark.anyio


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(buf, "JPEG")
    return buf.getvalue()


async def test_at_most_n_jpeg_decodes_run_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = world.app
    limit = app.deps.settings.image_decode_concurrency
    assert limit == 2  # the default
    lock = threading.Lock()
    state = {"inside": 0, "peak": 0}
    full = threading.Event()
    release = threading.Event()
    real = message_files_module.inspect_upload

    def held(*args: Any, **kwargs: Any) -> Any:
        with lock:
            state["inside"] += 1
            state["peak"] = max(state["peak"], state["inside"])
            if state["inside"] >= limit:
                full.set()
        try:
            release.wait(30)
            return real(*args, **kwargs)
        finally:
            with lock:
                state["inside"] -= 1

    monkeypatch.setattr(message_files_module, "inspect_upload", held)
    sent: list[int] = []

    async def submit(n: int) -> None:
        message = await app.messages.submit(
            world.ctx("ani"),
            SubmitInput(f"Foto {n}", "Lihat foto.", attachment=Upload(f"{n}.jpg", jpeg_bytes())),
        )
        sent.append(message.id)

    limiter = app.messages.image_decodes
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for n in range(5):
                tg.start_soon(submit, n)
            await anyio.to_thread.run_sync(full.wait)
            # The other three wait on the limiter, not in a thread of their own.
            while limiter.statistics().tasks_waiting < 5 - limit:
                await anyio.wait_all_tasks_blocked()
            assert state["inside"] == limit
            assert limiter.borrowed_tokens == limit
            release.set()
    assert state["peak"] == limit
    assert len(sent) == 5


async def test_pdfs_do_not_wait_for_image_decodes(world: World) -> None:
    app = world.app
    limiter = app.messages.image_decodes
    holders = [object() for _ in range(int(limiter.total_tokens))]
    for holder in holders:
        await limiter.acquire_on_behalf_of(holder)
    try:
        with anyio.fail_after(30):
            message = await app.messages.submit(
                world.ctx("ani"),
                SubmitInput("Surat", "Terlampir.", attachment=Upload("surat.pdf", pdf_bytes())),
            )
        assert message.attachments[0].content_type == "application/pdf"
    finally:
        for holder in holders:
            limiter.release_on_behalf_of(holder)


def test_the_limit_comes_from_the_settings(tmp_path: Any, sqlite_database: Any) -> None:
    from aspirasi_core.bootstrap import bootstrap

    from .world import make_settings

    settings = make_settings(tmp_path, image_decode_concurrency=3)
    app = bootstrap(settings, database=sqlite_database, ensure_categories=False)
    assert app.messages.image_decodes.total_tokens == 3


def test_the_setting_must_be_positive(tmp_path: Any) -> None:
    from .world import make_settings

    with pytest.raises(ValueError, match="ASPIRASI_IMAGE_DECODE_CONCURRENCY"):
        make_settings(tmp_path, image_decode_concurrency=0).check_production()
