"""A message with several attachments (issue 22): each file checked, all stored in
the submission's transaction, nothing left behind when one is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from aspirasi_core.domain.errors import Invalid, NotAllowed
from aspirasi_core.services import SubmitInput, Upload

from .test_messages import jpeg_bytes, pdf_bytes
from .world import World

pytestmark = pytest.mark.anyio


def stored(tmp_path) -> list[object]:
    return [p for p in (tmp_path / "files").rglob("*") if p.is_file()]


def gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "S", 2: (0.0, 30.0, 0.0), 3: "E", 4: (117.0, 9.0, 0.0)})
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 200, 10)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def test_every_file_is_stored_with_the_message(world: World, tmp_path) -> None:
    files = [
        Upload("a.jpg", gps_jpeg()),
        Upload("b.pdf", pdf_bytes()),
        Upload("c.jpg", jpeg_bytes()),
    ]
    msg = await world.app.messages.submit(
        world.ctx("ani"), SubmitInput("s", "b", attachments=files)
    )
    assert [a.filename for a in msg.attachments] == ["a.jpg", "b.pdf", "c.jpg"]
    assert world.count("attachments") == 3 and len(stored(tmp_path)) == 3
    _, _, data = await world.app.queries.attachment(world.ctx("ani"), msg.id, msg.attachments[0].id)
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()  # re-encoded: the GPS position is gone
    # The single-file field and the list add up; empty form fields are no files.
    both = SubmitInput(
        "s", "b", attachment=Upload("x.jpg", jpeg_bytes()), attachments=[Upload("", b"")]
    )
    assert [u.filename for u in both.uploads()] == ["x.jpg"]


async def test_more_files_than_the_setting_allows_are_refused(world: World, tmp_path) -> None:
    most = world.app.deps.settings.max_attachments
    assert most == 5
    with pytest.raises(Invalid) as exc:
        await world.app.messages.submit(
            world.ctx("ani"),
            SubmitInput("s", "b", attachments=[Upload("a.jpg", jpeg_bytes())] * (most + 1)),
        )
    assert exc.value.errors[0].code == "too_many_files"
    assert exc.value.errors[0].params == {"max": 5}
    assert world.count("messages") == 0 and stored(tmp_path) == []


async def test_one_refused_file_refuses_all_and_names_it(world: World, tmp_path) -> None:
    with pytest.raises(Invalid) as exc:
        await world.app.messages.submit(
            world.ctx("ani"),
            SubmitInput(
                "s",
                "b",
                attachments=[
                    Upload("baik.jpg", jpeg_bytes()),
                    Upload("palsu.jpg", b"GIF89a"),
                    Upload("dir/kosong.pdf", b""),
                ],
            ),
        )
    codes = [(e.code, dict(e.params)) for e in exc.value.errors]
    assert codes == [
        ("file_refused", {"filename": "palsu.jpg"}),
        ("file_type", {}),
        ("file_refused", {"filename": "kosong.pdf"}),
        ("file_empty", {}),
    ]
    assert exc.value.code == "file_type"
    assert world.count("messages") == 0 and world.count("attachments") == 0
    assert stored(tmp_path) == []


async def test_a_vetoed_submission_removes_every_stored_file(database, tmp_path) -> None:
    from aspirasi_core import hookimpl

    from .world import build_world

    class Veto:
        @hookimpl
        def aspirasi_validate_submission(self, actor, draft):
            assert draft.attachment_count == 2
            raise NotAllowed("Quiet hours.", code="quiet_hours")

    world = await build_world(database, tmp_path, plugins=(Veto(),))
    with pytest.raises(NotAllowed):
        await world.app.messages.submit(
            world.ctx("ani"),
            SubmitInput(
                "s", "b", attachments=[Upload("a.jpg", jpeg_bytes()), Upload("b.jpg", jpeg_bytes())]
            ),
        )
    assert world.count("messages") == 0 and stored(tmp_path) == []
