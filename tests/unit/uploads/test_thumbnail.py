"""Thumbnails of stored photos (issue 22: staff see attachments without downloading them)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.security.uploads import THUMBNAIL_LONG_SIDE, thumbnail


def jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("size", "expected"),
    [((2560, 1440), (320, 180)), ((1000, 2000), (160, 320)), ((200, 100), (200, 100))],
)
def test_a_thumbnail_is_a_small_jpeg_never_enlarged(size, expected) -> None:
    small = thumbnail(jpeg(size))
    with Image.open(io.BytesIO(small)) as image:
        assert image.format == "JPEG" and image.size == expected
    assert THUMBNAIL_LONG_SIDE == 320


@pytest.mark.parametrize("data", [b"%PDF-1.7 not an image", b"\xff\xd8\xff broken", b""])
def test_anything_but_a_readable_jpeg_is_refused(data) -> None:
    with pytest.raises(Invalid) as exc:
        thumbnail(data)
    assert exc.value.errors[0].code == "image_invalid"
