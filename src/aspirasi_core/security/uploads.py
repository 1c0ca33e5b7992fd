"""Checking uploaded attachments before they are stored.

Citizens may attach JPG or PDF files, replies PDF only. The type is decided by
the file's first bytes (JPEG ``FF D8 FF``, PDF ``%PDF-``), never by its name.

* JPEGs are decoded and re-encoded from their pixels, which drops EXIF (GPS
  position, camera serial), comments, ICC/XMP blocks and anything appended after
  the image (a ZIP, an HTML page). The pixel count is checked from the header
  before any pixel is decoded, against decompression bombs. The output's long
  side is at most :data:`MAX_LONG_SIDE` pixels, and large photos are decoded at
  a reduced scale (libjpeg's DCT scaling through Pillow's draft mode), so a
  40-megapixel photo costs ~30 MB to decode instead of ~570 MB.
* PDFs are parsed with pypdf and refused when they are encrypted or carry active
  content: JavaScript (``/JavaScript``, ``/JS``), launch actions, additional
  actions (``/AA``), embedded files (``/EmbeddedFile(s)``, ``/EF``), rich media,
  XFA forms, and any ``/OpenAction`` that is more than "open at this page and
  zoom" (LibreOffice and LaTeX write such a harmless one into ordinary files).
  The check walks the parsed document: the trailer with the catalog, names
  tree, page tree and annotations, and every object the cross-reference data
  lists (so unreferenced objects too), resolving references. Two nets catch what
  pypdf's lenient parsing could miss: every object stream is checked on its own
  (complete compressed data, sound offset table, no active names in its decoded
  text), and the raw bytes outside stream data are tokenised for the same names
  (objects a viewer may recover that the cross-reference data does not list).
  When part of the file cannot be parsed the file is refused, as
  ``pdf_active_content`` if the stream bodies (inflated best-effort) show an
  active name, else as ``pdf_invalid``. Links and form widgets whose actions
  reach out of the document (``/GoToR``, ``/SubmitForm``, ``/ImportData``,
  ``/Launch``, ``/JavaScript``) are refused the same way, wherever they sit.
* A PDF that passes is rewritten with pikepdf without its document information,
  XMP metadata, application data, annotation authors and earlier revisions
  (:mod:`.pdf_clean`), and the rewritten file is checked again (qpdf and pypdf
  could read a malformed file differently).
* A PDF may take at most :data:`PDF_TIME_BUDGET` seconds to check; objects the
  cross-reference data does not list are never searched for (pypdf scans the
  whole file for each one).

:func:`thumbnail` makes the small JPEG that pages show of a stored photo, on the
fly and at a reduced decoding scale.

Every refusal is an :class:`~aspirasi_core.domain.errors.Invalid` about one field,
with a stable code: ``file_empty``, ``file_too_large``, ``file_type``,
``image_invalid``, ``image_too_large``, ``pdf_invalid``, ``pdf_active_content``.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata

import attrs
from PIL import Image, ImageOps

from ..domain.errors import Invalid

__all__ = [
    "ACCEPTED_TYPES",
    "BUFFERED_MAX_PIXELS",
    "DEFAULT_MAX_PIXELS",
    "MAX_LONG_SIDE",
    "PDF_TIME_BUDGET",
    "THUMBNAIL_LONG_SIDE",
    "CleanFile",
    "inspect_upload",
    "safe_filename",
    "sniff",
    "thumbnail",
]

JPEG = "jpeg"
PDF = "pdf"
ACCEPTED_TYPES: frozenset[str] = frozenset({JPEG, PDF})

#: Largest JPEG accepted, in pixels: the 200 MP of today's largest phone sensors
#: (16320 x 12240). Such a file is decoded at a quarter of its size (~37 MB).
DEFAULT_MAX_PIXELS = 200_000_000
#: Largest progressive JPEG (or sequential one whose first scan lacks a colour
#: component) accepted, in pixels. libjpeg keeps every DCT coefficient of such a
#: file in memory, 2 bytes per sample whatever the draft scale: up to 96 MB here.
#: Cameras write baseline JPEGs; 16 MP passes a 12 MP photo saved again by an editor.
BUFFERED_MAX_PIXELS = 16_000_000
#: Long side of the stored image, in pixels: enough to read a photographed
#: document, a fraction of a full-size photo's bytes.
MAX_LONG_SIDE = 2560
JPEG_QUALITY = 85
#: Long side of a thumbnail, in pixels: sharp at 160 CSS pixels on a 2x screen.
THUMBNAIL_LONG_SIDE = 320

_MAGIC: tuple[tuple[bytes, str], ...] = ((b"\xff\xd8\xff", JPEG), (b"%PDF-", PDF))
_CONTENT_TYPES = {JPEG: "image/jpeg", PDF: "application/pdf"}
_EXTENSIONS = {JPEG: "jpg", PDF: "pdf"}
_TYPE_MESSAGES = {
    frozenset({JPEG, PDF}): "Only JPG and PDF files are accepted.",
    frozenset({PDF}): "Only PDF files are accepted.",
    frozenset({JPEG}): "Only JPG files are accepted.",
}

_FALLBACK_NAME = "lampiran"
_MAX_NAME_CHARS = 100

# Pillow's own bomb guard is a second net behind the explicit pixel check below:
# Image.open warns past MAX_IMAGE_PIXELS and raises DecompressionBombError past
# twice that. Its default (89 MP) is sized for full-size decodes and would refuse
# phone photos that draft mode decodes cheaply, so it is raised to our limit (Pillow
# is used for nothing else here), or switched back on when something turned it off.
# It is a process-wide setting, never changed per call (that would race between threads).
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS


# Seconds one PDF may take to check; a slower one is refused as unreadable. A
# normal 10 MB document takes well under a second.
PDF_TIME_BUDGET = 10.0


@attrs.frozen
class CleanFile:
    """An upload that passed the checks, ready to be stored."""

    filename: str
    content_type: str
    data: bytes = attrs.field(repr=False)
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def extension(self) -> str:
        """``jpg`` or ``pdf``."""
        return self.filename.rsplit(".", 1)[-1]


def inspect_upload(
    filename: str,
    data: bytes,
    *,
    allowed: frozenset[str],
    max_bytes: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    field: str = "attachment",
) -> CleanFile:
    """Check one uploaded file and return its cleaned form.

    ``allowed`` is a subset of ``{"jpeg", "pdf"}``; ``filename`` is only used for
    the display name. Raises :class:`Invalid` for ``field`` when the file is refused.
    """
    unknown = set(allowed) - ACCEPTED_TYPES
    if unknown or not allowed:
        raise ValueError(f"allowed must be a non-empty subset of {sorted(ACCEPTED_TYPES)}")
    if max_bytes <= 0 or max_pixels <= 0:
        raise ValueError("max_bytes and max_pixels must be positive")

    data = bytes(data)
    if not data:
        raise Invalid.field(field, "file_empty", "The file is empty.")
    if len(data) > max_bytes:
        raise Invalid.field(
            field,
            "file_too_large",
            "The file is larger than %(max_mb)s MB.",
            max_mb=_megabytes(max_bytes),
        )

    kind = sniff(data)
    if kind is None or kind not in allowed:
        raise Invalid.field(field, "file_type", _type_message(allowed))

    if kind == JPEG:
        clean = _clean_jpeg(data, max_pixels=max_pixels, field=field)
    else:
        # pypdf and pikepdf are imported on the first PDF only: they are 20 MB
        # and more of a worker's memory.
        from .pdf_check import check_pdf
        from .pdf_clean import strip_pdf_metadata

        check_pdf(data, field=field)
        clean = strip_pdf_metadata(data, field=field)
        check_pdf(clean, field=field)
    return CleanFile(
        filename=safe_filename(filename, _EXTENSIONS[kind]),
        content_type=_CONTENT_TYPES[kind],
        data=clean,
        sha256=hashlib.sha256(clean).hexdigest(),
    )


def sniff(data: bytes) -> str | None:
    """``"jpeg"`` or ``"pdf"`` from the magic bytes, None for anything else."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def safe_filename(name: str, ext: str) -> str:
    """A display name safe for headers and file systems, ending in ``.ext``.

    Keeps the base name only (any ``/`` or ``\\`` path is dropped), normalises to
    NFKC, keeps letters, digits, spaces and ``._-``, collapses runs of spaces,
    drops the old extension, caps the length at 100 characters and falls back
    to ``lampiran``. ``ext`` may be given as ``jpeg``, ``jpg``, ``.pdf``...
    """
    ext = ext.strip().lstrip(".").lower()
    ext = _EXTENSIONS.get(ext, ext)
    if not ext or not ext.isascii() or not ext.isalnum():
        raise ValueError(f"not a file extension: {ext!r}")

    text = unicodedata.normalize("NFKC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    kept = "".join(
        ch if ch.isalnum() or ch in "._-" else " "
        for ch in text
        if unicodedata.category(ch) != "Cf"  # bidi overrides, zero-width marks
    )
    kept = re.sub(r"\s+", " ", kept)
    kept = re.sub(r"\.{2,}", ".", kept)
    stem = kept.strip(" .-_")
    head, dot, suffix = stem.rpartition(".")
    if dot and head and re.fullmatch(r"[A-Za-z0-9]{1,5}", suffix) and not suffix.isdigit():
        stem = head.strip(" .-_")
    stem = stem[: _MAX_NAME_CHARS - len(ext) - 1].rstrip(" .-_")
    return f"{stem or _FALLBACK_NAME}.{ext}"


def thumbnail(data: bytes, long_side: int = THUMBNAIL_LONG_SIDE) -> bytes:
    """A small JPEG of a stored (already cleaned) JPEG attachment, long side at most
    ``long_side`` pixels, for the pages that list attachments. Decoded at a reduced
    scale (1/8 of a stored photo's size costs a few milliseconds); nothing is
    kept. Raises :class:`Invalid` (``image_invalid``) when ``data`` is no JPEG."""
    if sniff(data) != JPEG:
        raise Invalid.field("attachment", "image_invalid", "The image could not be read.")
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            if image.size[0] * image.size[1] > DEFAULT_MAX_PIXELS:
                raise _too_large("attachment", DEFAULT_MAX_PIXELS)
            image.draft("RGB", _fit(image.size, long_side))
            image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
            rgb = image.convert("RGB")
            rgb.info = {}
            out = io.BytesIO()
            rgb.save(out, format="JPEG", quality=80)
    except Invalid:
        raise
    except MemoryError:
        raise
    except Exception:
        raise Invalid.field("attachment", "image_invalid", "The image could not be read.") from None
    return out.getvalue()


# --------------------------------------------------------------------------- helpers


def _megabytes(size: int) -> str:
    value = round(size / (1024 * 1024), 1)
    return f"{value:g}"


def _type_message(allowed: frozenset[str]) -> str:
    return _TYPE_MESSAGES.get(frozenset(allowed), _TYPE_MESSAGES[ACCEPTED_TYPES])


def _too_large(field: str, max_pixels: int) -> Invalid:
    return Invalid.field(
        field,
        "image_too_large",
        "The image is too large (at most %(max_megapixels)s megapixels).",
        max_megapixels=f"{round(max_pixels / 1_000_000, 1):g}",
    )


def _clean_jpeg(data: bytes, *, max_pixels: int, field: str) -> bytes:
    # Image.open reads the markers up to the frame header only; no pixel is decoded
    # before the size checks.
    try:
        image = Image.open(io.BytesIO(data), formats=["JPEG"])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(field, max_pixels) from None
    except MemoryError:
        raise
    except Exception:  # any decoder failure on hostile input means "not an image"
        raise Invalid.field(field, "image_invalid", "The image could not be read.") from None
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise Invalid.field(field, "image_invalid", "The image could not be read.")
        if width * height > max_pixels:
            raise _too_large(field, max_pixels)
        buffered_limit = min(max_pixels, BUFFERED_MAX_PIXELS)
        if width * height > buffered_limit and _decoded_whole(image, data):
            raise _too_large(field, buffered_limit)
        try:
            # Decode at the smallest of 1/8, 1/4, 1/2 or full scale that still
            # covers the output size; the resize below does the rest.
            image.draft(None, _fit((width, height), MAX_LONG_SIDE))
            image.load()
            image.thumbnail((MAX_LONG_SIDE, MAX_LONG_SIDE), Image.Resampling.LANCZOS)
            upright = ImageOps.exif_transpose(image) or image
            rgb = upright.convert("RGB")
            # Pillow copies some metadata (the JPEG comment) from .info on save.
            rgb.info = {}
            out = io.BytesIO()
            rgb.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large(field, max_pixels) from None
        except MemoryError:
            raise
        except Exception:
            raise Invalid.field(field, "image_invalid", "The image could not be read.") from None
    return out.getvalue()


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so that its long side is ``long_side``."""
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


_SOS = 0xDA


def _decoded_whole(image: Image.Image, data: bytes) -> bool:
    """Whether libjpeg must hold every coefficient of the image while decoding it,
    whatever the draft scale: progressive files (Pillow's ``info["progressive"]``),
    and sequential ones whose first scan does not carry every colour component
    (libjpeg's "multiple scans").

    Pillow does not tell the second, so the segments up to the first scan are
    skipped here by their lengths to read its component count. Anything
    unexpected answers True (the stricter limit).
    """
    if image.info.get("progressive") or image.info.get("progression"):
        return True
    components = len(image.getbands())
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return True
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte before the marker
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a segment
            pos += 2
            continue
        if marker == _SOS:
            return pos + 4 >= end or data[pos + 4] < components
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            return True
        pos += 2 + length
    return True
