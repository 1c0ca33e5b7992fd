"""Bounded JPEG decoding: reduced (draft) decodes, the pixel limits, the output size.

A 40-megapixel JPEG of 600 KB used to be decoded at full size (~570 MB of a
worker's memory); phone photos must still pass, at a sensible size.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from PIL import Image, ImageFile
from upload_samples import jpeg, patch_jpeg_size

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.security import uploads
from aspirasi_core.security.uploads import inspect_upload

CITIZEN = frozenset({"jpeg", "pdf"})


def check(data: bytes, **kwargs: object) -> bytes:
    return inspect_upload("photo.jpg", data, allowed=CITIZEN, max_bytes=50 << 20, **kwargs).data


def refused(data: bytes, **kwargs: object) -> tuple[str, str]:
    with pytest.raises(Invalid) as caught:
        check(data, **kwargs)
    (error,) = caught.value.errors
    return error.code, error.render()


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every JPEG whose pixels are decoded (after draft mode chose its scale)."""
    sizes: list[tuple[int, int]] = []
    original: Callable[[ImageFile.ImageFile], object] = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> object:
        if self.tile:  # pixels still to decode
            sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


@pytest.fixture
def header_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Decoding fails on purpose: an upload that gets as far as decoding passed the
    size checks and ends as ``image_invalid`` (its scan data is a tiny image's)."""

    def forbidden(self: ImageFile.ImageFile) -> None:
        raise RuntimeError("decoding was reached")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)
    yield


def photo(width: int, height: int, **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(out, format="JPEG", **save)
    return out.getvalue()


@pytest.mark.parametrize(
    ("size", "decoded_at"),
    [
        ((4032, 3024), (4032, 3024)),  # 12 MP: already under twice the output size
        ((7744, 5166), (3872, 2583)),  # 40 MP, the photo: half scale
        ((8000, 6000), (4000, 3000)),  # 48 MP: half scale
    ],
    ids=["12MP", "40MP", "48MP"],
)
def test_phone_photos_pass_decoded_at_a_reduced_scale(
    size: tuple[int, int], decoded_at: tuple[int, int], decoded: list[tuple[int, int]]
) -> None:
    clean = check(photo(*size))
    assert decoded[0] == decoded_at
    image = Image.open(io.BytesIO(clean))
    width, height = image.size
    assert max(width, height) == uploads.MAX_LONG_SIDE
    assert abs(width / height - size[0] / size[1]) < 0.01


def test_small_images_keep_their_size() -> None:
    clean = check(photo(1200, 900))
    assert Image.open(io.BytesIO(clean)).size == (1200, 900)


def test_portrait_photos_are_bounded_by_their_height(decoded: list[tuple[int, int]]) -> None:
    clean = check(photo(3000, 6000))
    assert decoded == [(1500, 3000)]  # half scale still covers 1280 x 2560
    assert Image.open(io.BytesIO(clean)).size == (1280, uploads.MAX_LONG_SIDE)


@pytest.mark.usefixtures("header_only")
@pytest.mark.parametrize(
    ("width", "height"),
    [(16320, 12240), (12000, 9000)],  # 200 MP and 108 MP phone sensors
)
def test_large_sequential_photos_are_within_the_pixel_limit(width: int, height: int) -> None:
    assert width * height <= uploads.DEFAULT_MAX_PIXELS
    code, _ = refused(patch_jpeg_size(jpeg((16, 16)), width, height))
    assert code == "image_invalid"  # it got as far as decoding


@pytest.mark.usefixtures("header_only")
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_pixel_limit_is_documented_in_the_message() -> None:
    code, message = refused(patch_jpeg_size(jpeg((16, 16)), 20000, 10001))
    assert code == "image_too_large"
    assert "200 megapixels" in message


@pytest.mark.usefixtures("header_only")
def test_progressive_jpegs_have_a_lower_limit() -> None:
    # libjpeg keeps every coefficient of a progressive file, whatever the scale.
    small = jpeg((16, 16), progressive=True)
    code, message = refused(patch_jpeg_size(small, 5000, 4000))
    assert code == "image_too_large"
    assert "16 megapixels" in message
    assert refused(patch_jpeg_size(small, 4000, 4000))[0] == "image_invalid"


def _first_scan_with_one_component(data: bytes) -> bytes:
    at = data.find(b"\xff\xda")
    assert data[at + 4] == 3
    return data[: at + 4] + b"\x01" + data[at + 5 :]


@pytest.mark.usefixtures("header_only")
def test_sequential_jpegs_with_several_scans_have_the_lower_limit() -> None:
    # A first scan without every component makes libjpeg buffer the whole image too.
    big = patch_jpeg_size(jpeg((16, 16)), 5000, 4000)
    assert refused(big)[0] == "image_invalid"
    code, message = refused(_first_scan_with_one_component(big))
    assert code == "image_too_large"
    assert "16 megapixels" in message


def test_a_progressive_phone_photo_passes(decoded: list[tuple[int, int]]) -> None:
    clean = check(photo(4032, 3024, progressive=True))
    assert decoded == [(4032, 3024)]
    assert max(Image.open(io.BytesIO(clean)).size) == uploads.MAX_LONG_SIDE


def test_pillows_own_guard_does_not_refuse_what_we_accept() -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    assert Image.MAX_IMAGE_PIXELS >= uploads.DEFAULT_MAX_PIXELS
