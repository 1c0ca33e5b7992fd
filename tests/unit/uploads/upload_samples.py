"""Builders of test files for the upload checks: JPEGs with Pillow, PDFs with pypdf
or with a tiny assembler that writes exactly the objects a test needs."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Mapping

from PIL import ExifTags, Image
from pypdf import PdfWriter

MiB = 1024 * 1024

# ----------------------------------------------------------------------- images


def jpeg(
    size: tuple[int, int] = (64, 48),
    *,
    color: tuple[int, int, int] = (200, 30, 30),
    mode: str = "RGB",
    **save: object,
) -> bytes:
    image = Image.new("RGB", size, color)
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, format="JPEG", **save)
    return out.getvalue()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 128, 0)).save(out, format="PNG")
    return out.getvalue()


def exif_with_gps(*, orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.Base.Model] = "Model-GPS-9000"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (6.0, 12.0, 30.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (106.0, 49.0, 12.25)
    return exif


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert('zip')</script>")
    return out.getvalue()


def patch_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame header (SOF0..SOF2) to claim another size; the scan data
    stays that of the small image."""
    for marker in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2"):
        at = data.find(marker)
        if at != -1:
            head = at + 5  # marker(2) length(2) precision(1)
            return data[:head] + struct.pack(">HH", height, width) + data[head + 4 :]
    raise AssertionError("no SOF marker")


# ----------------------------------------------------------------------- PDFs


def pypdf_bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    return pypdf_bytes(writer)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"


def base_objects(**changes: bytes) -> dict[int, bytes]:
    """Objects 1 (catalog), 2 (pages) and 3 (page); keys ``catalog``, ``page``
    replace them, ``o4``... add more."""
    objects = {1: changes.pop("catalog", CATALOG), 2: PAGES, 3: changes.pop("page", PAGE)}
    for name, body in changes.items():
        objects[int(name.removeprefix("o"))] = body
    return objects


def assemble(
    objects: Mapping[int, bytes],
    *,
    unlisted: bytes = b"",
    header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
) -> bytes:
    """A classic PDF with an xref table. ``unlisted`` is written into the body
    without an xref entry (an object only a recovering viewer would find)."""
    out = bytearray(header)
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, objects[num])
    out += unlisted
    size = max(objects) + 1
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        if num in offsets:
            out += b"%010d 00000 n \n" % offsets[num]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at)
    return bytes(out)


def assemble_with_object_stream(
    plain: Mapping[int, bytes],
    packed: Mapping[int, bytes],
    *,
    stream_num: int = 20,
    compress: bool = True,
    damage: str | None = None,
) -> bytes:
    """A PDF 1.5 file whose ``packed`` objects live in one object stream, with a
    cross-reference stream. ``damage``: ``"truncate"`` cuts the compressed data
    in half (it no longer inflates), ``"header"`` breaks the offsets header."""
    header_parts: list[bytes] = []
    body = bytearray()
    for num in sorted(packed):
        header_parts.append(b"%d %d" % (num, len(body)))
        body += packed[num] + b"\n"
    header = b" ".join(header_parts) + b"\n"
    if damage == "header":
        header = b"x y z\n"
    payload = header + bytes(body)
    filt = b""
    if compress:
        payload = zlib.compress(payload)
        filt = b" /Filter /FlateDecode"
        if damage == "truncate":
            payload = payload[: len(payload) // 2]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(plain):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, plain[num])
    offsets[stream_num] = len(out)
    out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d%s >>\nstream\n" % (
        stream_num,
        len(packed),
        len(header),
        len(payload),
        filt,
    )
    out += payload + b"\nendstream\nendobj\n"
    xref_num = max([*plain, *packed, stream_num]) + 1
    size = xref_num + 1
    rows = bytearray()
    index_in_stream = {num: i for i, num in enumerate(sorted(packed))}
    for num in range(size):
        if num in offsets:
            rows += struct.pack(">BIH", 1, offsets[num], 0)
        elif num in packed:
            rows += struct.pack(">BIH", 2, stream_num, index_in_stream[num])
        elif num == xref_num:
            rows += struct.pack(">BIH", 1, len(out), 0)
        else:
            rows += struct.pack(">BIH", 0, 0, 65535)
    xref_at = len(out)
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % (
        xref_num,
        size,
        len(rows),
    )
    out += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)
