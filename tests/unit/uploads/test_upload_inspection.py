"""inspect_upload and safe_filename: type by content, JPEG re-encoding, PDF active content."""

from __future__ import annotations

import hashlib
import io
import logging
import pathlib
import threading
import warnings
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageFile
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    RectangleObject,
    TextStringObject,
)
from upload_samples import (
    CATALOG,
    PAGE,
    PAGES,
    MiB,
    assemble,
    assemble_with_object_stream,
    base_objects,
    blank_pdf,
    exif_with_gps,
    jpeg,
    patch_jpeg_size,
    png,
    pypdf_bytes,
    zip_archive,
)

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.security import uploads
from aspirasi_core.security.uploads import CleanFile, inspect_upload, safe_filename

CITIZEN = frozenset({"jpeg", "pdf"})
#: Seconds a check may take before a test calls it hung: generous, never a speed goal
#: (speed is measured by `make bench`).
SAFETY = 120.0
REPLY = frozenset({"pdf"})


@pytest.fixture(autouse=True)
def _quiet_pypdf() -> Iterator[None]:
    # Damaged test PDFs make pypdf log every repair attempt.
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def check(
    data: bytes,
    name: str = "file",
    *,
    allowed: frozenset[str] = CITIZEN,
    max_bytes: int = 10 * MiB,
    **kwargs: object,
) -> CleanFile:
    return inspect_upload(name, data, allowed=allowed, max_bytes=max_bytes, **kwargs)


def refused(data: bytes, name: str = "file", **kwargs: object) -> tuple[str, str]:
    """The code and rendered message of the one field error."""
    with pytest.raises(Invalid) as caught:
        check(data, name, **kwargs)
    (error,) = caught.value.errors
    assert error.field == kwargs.get("field", "attachment")
    assert caught.value.code == error.code
    return error.code, error.render()


def same_pages(clean: CleanFile, original: bytes) -> bool:
    """An accepted PDF is rewritten (without its metadata, see test_pdf_privacy.py):
    it must still be a PDF with the original's pages."""
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(original), strict=False).pages)
    return (
        clean.content_type == "application/pdf"
        and clean.data.startswith(b"%PDF-")
        and len(PdfReader(io.BytesIO(clean.data)).pages) == pages
    )


def open_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


# ----------------------------------------------------------------------- size and type


def test_empty_file_is_refused() -> None:
    assert refused(b"", "a.jpg")[0] == "file_empty"


def test_oversize_file_is_refused_with_the_limit_in_mb() -> None:
    data = blank_pdf() + b"\n" * (2 * MiB)
    code, message = refused(data, "big.pdf", max_bytes=2 * MiB)
    assert code == "file_too_large"
    assert message == "The file is larger than 2 MB."


def test_size_limit_is_inclusive() -> None:
    data = blank_pdf()
    assert same_pages(check(data, max_bytes=len(data)), data)


def test_field_name_is_carried() -> None:
    with pytest.raises(Invalid) as caught:
        inspect_upload("a", b"", allowed=REPLY, max_bytes=10, field="reply_attachment")
    assert caught.value.errors[0].field == "reply_attachment"


def test_png_named_jpg_is_refused_by_content() -> None:
    code, message = refused(png(), "photo.jpg")
    assert code == "file_type"
    assert message == "Only JPG and PDF files are accepted."


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"<html><script>alert(1)</script></html>",
        zip_archive(),
        b"\xff\xd8",  # half a JPEG magic
        b"%PDF",  # half a PDF magic
        b" %PDF-1.7\n",  # magic not at the start
    ],
)
def test_other_types_are_refused(data: bytes) -> None:
    assert refused(data, "x.pdf")[0] == "file_type"


def test_jpeg_named_pdf_is_accepted_as_jpeg() -> None:
    clean = check(jpeg(), "scan.pdf")
    assert clean.content_type == "image/jpeg"
    assert clean.filename == "scan.jpg"
    open_jpeg(clean.data)


def test_reply_accepts_pdf_only() -> None:
    code, message = refused(jpeg(), "foto.pdf", allowed=REPLY)
    assert code == "file_type"
    assert message == "Only PDF files are accepted."
    assert check(blank_pdf(), "balasan.pdf", allowed=REPLY).content_type == "application/pdf"


@pytest.mark.parametrize("allowed", [frozenset(), frozenset({"png"}), frozenset({"pdf", "exe"})])
def test_allowed_must_be_known_types(allowed: frozenset[str]) -> None:
    with pytest.raises(ValueError):
        check(blank_pdf(), allowed=allowed)


# ----------------------------------------------------------------------- JPEG


def test_clean_jpeg_is_reencoded_rgb() -> None:
    original = jpeg((80, 60), quality=100)
    clean = check(original, "foto.JPEG")
    assert clean.filename == "foto.jpg"
    assert clean.content_type == "image/jpeg"
    assert clean.data != original
    image = open_jpeg(clean.data)
    assert image.size == (80, 60)
    assert image.mode == "RGB"
    assert clean.sha256 == hashlib.sha256(clean.data).hexdigest()


def test_exif_and_gps_are_removed() -> None:
    exif = exif_with_gps()
    original = jpeg(exif=exif.tobytes())
    before = open_jpeg(original).getexif()
    assert before.get_ifd(ExifTags.IFD.GPSInfo)  # the sample really carries GPS
    assert b"SpyCam" in original

    clean = check(original, "gps.jpg")
    image = open_jpeg(clean.data)
    assert "exif" not in image.info
    assert not image.getexif()
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif\x00\x00" not in clean.data
    assert b"SpyCam" not in clean.data
    assert b"Model-GPS-9000" not in clean.data


def test_exif_orientation_is_applied_before_it_is_dropped() -> None:
    # Orientation 6: the camera held sideways, the viewer must rotate 90° clockwise.
    original = jpeg((60, 40), exif=exif_with_gps(orientation=6).tobytes())
    clean = check(original, "rotated.jpg")
    assert open_jpeg(clean.data).size == (40, 60)


def test_comment_icc_and_xmp_are_removed() -> None:
    original = jpeg(
        comment=b"secret-comment",
        icc_profile=b"fake-icc-profile-bytes" * 4,
        xmp=b"<x:xmpmeta>secret-xmp</x:xmpmeta>",
    )
    assert b"secret-comment" in original and b"fake-icc" in original
    clean = check(original)
    for marker in (b"secret-comment", b"fake-icc", b"secret-xmp", b"ICC_PROFILE"):
        assert marker not in clean.data
    image = open_jpeg(clean.data)
    assert "comment" not in image.info and "icc_profile" not in image.info


@pytest.mark.parametrize(
    "payload",
    [zip_archive(), b"<html><body><script>alert('polyglot')</script></body></html>"],
    ids=["zip", "html"],
)
def test_appended_payload_is_removed(payload: bytes) -> None:
    original = jpeg() + payload
    clean = check(original, "poly.jpg")
    assert payload not in clean.data
    assert b"PK\x03\x04" not in clean.data
    assert b"<script" not in clean.data
    assert clean.data.endswith(b"\xff\xd9")


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_other_colour_modes_become_rgb(mode: str) -> None:
    clean = check(jpeg(mode=mode))
    assert open_jpeg(clean.data).mode == "RGB"


def test_progressive_jpeg_is_accepted() -> None:
    clean = check(jpeg(progressive=True))
    assert open_jpeg(clean.data).size == (64, 48)


def test_truncated_jpeg_is_invalid() -> None:
    whole = jpeg((256, 256))
    assert refused(whole[: len(whole) // 2], "half.jpg")[0] == "image_invalid"


@pytest.mark.parametrize(
    "data",
    [b"\xff\xd8\xff", b"\xff\xd8\xff\xe0garbage", b"\xff\xd8\xff" + bytes(range(256)) * 4],
)
def test_jpeg_magic_with_garbage_is_invalid(data: bytes) -> None:
    assert refused(data)[0] == "image_invalid"


@pytest.fixture
def no_pixel_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything decodes pixels (which would allocate them)."""

    def forbidden(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)


@pytest.mark.usefixtures("no_pixel_decoding")
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("width", "height"),
    [
        (20000, 10001),  # 200.02 MP: over our 200 MP cap; Pillow warns (DecompressionBombWarning)
        (50000, 50000),  # 2.5 GP: Pillow raises DecompressionBombError
    ],
)
def test_huge_dimensions_are_refused_from_the_header(width: int, height: int) -> None:
    bomb = patch_jpeg_size(jpeg((16, 16)), width, height)
    assert len(bomb) < 2000
    code, message = refused(bomb, "bomb.jpg")
    assert code == "image_too_large"
    assert "200 megapixels" in message


@pytest.mark.usefixtures("no_pixel_decoding")
def test_max_pixels_is_configurable() -> None:
    assert refused(jpeg((100, 100)), max_pixels=9_999)[0] == "image_too_large"


def test_max_pixels_boundary_is_inclusive() -> None:
    assert check(jpeg((100, 100)), max_pixels=10_000).content_type == "image/jpeg"


def test_decompression_bomb_warning_as_error_is_mapped() -> None:
    bomb = patch_jpeg_size(jpeg((16, 16)), 20000, 15000)  # 300 MP: Pillow warns
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        assert refused(bomb, max_pixels=500_000_000)[0] == "image_too_large"


# ----------------------------------------------------------------------- PDF: accepted


def test_clean_pdf_keeps_its_pages() -> None:
    original = blank_pdf()
    clean = check(original, "surat.pdf")
    assert same_pages(clean, original)
    assert clean.filename == "surat.pdf"
    assert clean.content_type == "application/pdf"


def test_clean_pdf_with_a_plain_link_is_accepted() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_uri(0, "https://example.org/", RectangleObject([0, 0, 50, 50]))
    assert check(pypdf_bytes(writer)).content_type == "application/pdf"


def test_pdf_named_jpg_is_accepted_as_pdf() -> None:
    assert check(blank_pdf(), "foto.jpg").filename == "foto.pdf"


def test_hand_assembled_clean_pdfs_are_accepted() -> None:
    assert check(assemble(base_objects())).content_type == "application/pdf"
    packed = assemble_with_object_stream({2: PAGES, 3: PAGE}, {1: CATALOG})
    assert same_pages(check(packed), packed)


# ----------------------------------------------------------------------- PDF: refused


def active(data: bytes) -> None:
    code, message = refused(data, "doc.pdf")
    assert code == "pdf_active_content", message


def writer_with_page() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    return writer


def test_open_action_javascript_is_refused() -> None:
    writer = writer_with_page()
    js = writer._add_object(
        DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('hi')"),
            }
        )
    )
    writer.root_object[NameObject("/OpenAction")] = js
    active(pypdf_bytes(writer))


def test_names_tree_javascript_is_refused() -> None:
    writer = writer_with_page()
    writer.add_open_action(JavaScript("this.print({bUI:true})"))  # /Names /JavaScript
    data = pypdf_bytes(writer)
    active(data)


def test_names_tree_javascript_hand_assembled_is_refused() -> None:
    active(
        assemble(
            base_objects(
                catalog=b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
                o4=b"<< /Names [(init) 5 0 R] >>",
                o5=b"<< /S /JavaScript /JS (app.alert(1)) >>",
            )
        )
    )


def test_launch_action_on_an_annotation_is_refused() -> None:
    writer = writer_with_page()
    writer.add_annotation(
        0,
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject([FloatObject(0)] * 2 + [FloatObject(50)] * 2),
                NameObject("/A"): DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/Launch"),
                        NameObject("/F"): TextStringObject("C:\\Windows\\System32\\calc.exe"),
                    }
                ),
            }
        ),
    )
    active(pypdf_bytes(writer))


def test_embedded_file_is_refused() -> None:
    writer = writer_with_page()
    writer.add_attachment("invoice.exe", b"MZ\x90\x00 not really")
    active(pypdf_bytes(writer))


def test_file_attachment_annotation_is_refused() -> None:
    active(
        assemble(
            base_objects(
                page=b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [4 0 R] >>",
                o4=b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS 5 0 R >>",
                o5=b"<< /Type /Filespec /F (a.exe) /EF << /F 6 0 R >> >>",
                o6=b"<< /Length 2 >>\nstream\nMZ\nendstream",
            )
        )
    )


def test_additional_actions_are_refused() -> None:
    # /AA with an innocent-looking action type: /AA alone is enough.
    active(
        assemble(
            base_objects(
                page=(
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]"
                    b" /AA << /O << /S /URI /URI (https://example.org/track) >> >> >>"
                )
            )
        )
    )


@pytest.mark.parametrize(
    "catalog",
    [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 4 0 R >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Named /N /Print >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /GoTo /D [3 0 R /Fit]"
        b" /Next << /S /URI /URI (https://example.org/) >> >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /URI /URI (https://example.org/) >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /GoTo /D << /S /Launch >> >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /AdditionalStreams [/application#2Fpdf 4 0 R] >>",
    ],
    ids=["xfa", "named-print", "goto-next", "uri", "goto-dict", "hybrid-pdf"],
)
def test_other_active_catalog_entries_are_refused(catalog: bytes) -> None:
    active(assemble(base_objects(catalog=catalog, o4=b"<< /Length 0 >>\nstream\n\nendstream")))


@pytest.mark.parametrize(
    "open_action",
    [
        b"[3 0 R /Fit]",  # LaTeX hyperref
        b"[3 0 R /XYZ null null 0]",  # LibreOffice
        b"<< /Type /Action /S /GoTo /D [3 0 R /FitH 800] >>",
        b"<< /S /GoTo /D (chapter1) >>",
        b"4 0 R",
        b"5 0 R",  # refers to nothing
        b"[3 0 R /Fit (junk)]",  # a malformed destination runs nothing either
    ],
)
def test_open_action_that_only_opens_a_page_is_accepted(open_action: bytes) -> None:
    data = assemble(
        base_objects(
            catalog=b"<< /Type /Catalog /Pages 2 0 R /OpenAction " + open_action + b" >>",
            o4=b"[3 0 R /Fit]",
        )
    )
    assert same_pages(check(data), data)


@pytest.mark.parametrize(
    "path",
    [
        "/usr/share/doc/libtasn1-doc/libtasn1.pdf",
        "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf",  # pdfTeX + hyperref
    ],
)
def test_real_world_pdfs_on_this_machine_are_accepted(path: str) -> None:
    file = pathlib.Path(path)
    if not file.is_file():
        pytest.skip(f"{path} is not installed here")
    data = file.read_bytes()
    assert same_pages(check(data, file.name, max_bytes=len(data)), data)


def test_rich_media_annotation_is_refused() -> None:
    active(
        assemble(
            base_objects(
                page=b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [4 0 R] >>",
                o4=b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>",
            )
        )
    )


def test_hex_escaped_names_are_decoded() -> None:
    # /J#61vaScript is /JavaScript; a byte grep for "/JavaScript" misses it.
    data = assemble(
        base_objects(
            catalog=b"<< /Type /Catalog /Pages 2 0 R /Open#41ction 4 0 R >>",
            o4=b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",
        )
    )
    assert b"/JavaScript" not in data and b"/OpenAction" not in data
    active(data)


def test_javascript_hidden_in_a_compressed_object_stream_is_found_by_parsing() -> None:
    data = assemble_with_object_stream(
        {2: PAGES, 3: PAGE},
        {
            1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            4: b"<< /S /JavaScript /JS (app.alert(1)) >>",
        },
    )
    assert b"JavaScript" not in data and b"OpenAction" not in data  # compressed away
    active(data)


def test_unreferenced_object_in_an_object_stream_is_walked() -> None:
    data = assemble_with_object_stream(
        {1: CATALOG, 2: PAGES, 3: PAGE}, {7: b"<< /S /JavaScript /JS (app.alert(1)) >>"}
    )
    active(data)


def test_unreferenced_plain_object_is_walked() -> None:
    active(assemble(base_objects(o9=b"<< /S /Launch /F (cmd.exe) >>")))


def test_object_missing_from_the_xref_is_caught_by_the_raw_scan() -> None:
    # A viewer rebuilding a damaged xref finds "9 0 obj"; pypdf's xref does not list it.
    data = assemble(
        base_objects(), unlisted=b"9 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\n"
    )
    active(data)


@pytest.mark.parametrize("compress", [True, False], ids=["flate", "plain"])
def test_names_inside_an_unparseable_object_stream_are_refused(compress: bool) -> None:
    data = assemble_with_object_stream(
        {2: PAGES, 3: PAGE},
        {1: CATALOG, 7: b"<< /S /JavaScript /JS (app.alert(1)) >>"},
        compress=compress,
        damage="header",
    )
    active(data)


def test_unparseable_object_stream_without_active_names_is_invalid() -> None:
    data = assemble_with_object_stream(
        {1: CATALOG, 2: PAGES, 3: PAGE}, {7: b"<< /Producer (x) >>"}, damage="truncate"
    )
    assert refused(data)[0] == "pdf_invalid"


def test_catalog_in_a_broken_object_stream_is_invalid() -> None:
    data = assemble_with_object_stream({2: PAGES, 3: PAGE}, {1: CATALOG}, damage="truncate")
    assert refused(data)[0] == "pdf_invalid"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-",
        b"%PDF-1.7\nthis is not a PDF at all",
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        b"%PDF-1.7\n" + bytes(range(256)) * 8,
    ],
)
def test_garbage_after_the_pdf_magic_is_invalid(data: bytes) -> None:
    assert refused(data)[0] == "pdf_invalid"


def test_pdf_without_pages_is_invalid() -> None:
    assert refused(assemble({1: b"<< /Type /Catalog >>"}))[0] == "pdf_invalid"


@pytest.mark.parametrize("user_password", ["", "rahasia"])
def test_encrypted_pdf_is_invalid(user_password: str) -> None:
    writer = writer_with_page()
    writer.encrypt(user_password, "owner-secret", algorithm="AES-128")
    assert refused(pypdf_bytes(writer))[0] == "pdf_invalid"


# ----------------------------------------------------------------------- PDF: cost


def test_many_references_to_missing_objects_stay_cheap() -> None:
    # pypdf searches the whole file for each object missing from the xref; 2000 such
    # references in a padded file took about a minute before the guarded reader.
    refs = b" ".join(b"%d 0 R" % (1000 + i) for i in range(2000))
    data = assemble(
        base_objects(
            page=b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [" + refs + b"] >>",
            o4=b"<< /Filler (" + b"x" * (2 * MiB) + b") >>",
        )
    )
    # Accepted, so checked within PDF_TIME_BUDGET: an unguarded reader runs past
    # the budget and the file is refused as pdf_invalid.
    assert same_pages(check(data), data)


def test_stream_keywords_without_endstream_stay_cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the budget to stop it, the check still ends (an unguarded scan runs
    # for hours: the generous safety limit fails it) and refuses the file.
    monkeypatch.setattr(uploads, "PDF_TIME_BUDGET", 1e9)
    data = blank_pdf()[:-6] + b"stream\n" * 300_000
    outcome: list[tuple[str, str]] = []
    worker = threading.Thread(target=lambda: outcome.append(refused(data)), daemon=True)
    worker.start()
    worker.join(SAFETY)
    assert outcome and outcome[0][0] == "pdf_invalid", "the check did not end"


def test_pdf_over_the_time_budget_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "PDF_TIME_BUDGET", 0.0)
    assert refused(blank_pdf())[0] == "pdf_invalid"


# ----------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "ext", "expected"),
    [
        ("foto.jpg", "jpeg", "foto.jpg"),
        ("Foto Rusak.PNG", "jpeg", "Foto Rusak.jpg"),
        ("laporan.pdf", "pdf", "laporan.pdf"),
        ("laporan", ".pdf", "laporan.pdf"),
        ("laporan v1.2", "pdf", "laporan v1.2.pdf"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("C:\\Users\\budi\\Desktop\\KTP.jpg", "jpg", "KTP.jpg"),
        ("/var/www/../x.pdf", "pdf", "x.pdf"),
        ("..", "pdf", "lampiran.pdf"),
        ("", "jpeg", "lampiran.jpg"),
        ("   ", "pdf", "lampiran.pdf"),
        (".htaccess", "pdf", "htaccess.pdf"),
        ("a<b>c\"d'e;f\r\ng.pdf", "pdf", "a b c d e f g.pdf"),
        ("a   \t b", "pdf", "a b.pdf"),
        ("ｆｏｔｏ１.jpg", "jpeg", "foto1.jpg"),  # NFKC: full-width to ASCII
        ("jalan‮gpj.exe", "jpeg", "jalangpj.jpg"),  # bidi override removed
        ("surat pengaduan ruang kelas.pdf", "pdf", "surat pengaduan ruang kelas.pdf"),
        ("Ñandú café.pdf", "pdf", "Ñandú café.pdf"),
        ("evil.php.pdf", "jpeg", "evil.php.jpg"),
        ("x/", "pdf", "lampiran.pdf"),
    ],
)
def test_safe_filename(name: str, ext: str, expected: str) -> None:
    assert safe_filename(name, ext) == expected


def test_safe_filename_is_capped_at_100_characters() -> None:
    result = safe_filename("a" * 300 + ".pdf", "pdf")
    assert len(result) == 100
    assert result.endswith(".pdf")


@given(name=st.text(max_size=300), ext=st.sampled_from(["jpeg", "pdf"]))
def test_safe_filename_properties(name: str, ext: str) -> None:
    result = safe_filename(name, ext)
    assert 5 <= len(result) <= 100
    assert result.endswith(".jpg" if ext == "jpeg" else ".pdf")
    assert "/" not in result and "\\" not in result
    assert not result.startswith(".")
    assert all(ch.isalnum() or ch in " ._-" for ch in result)
    assert "  " not in result


# ----------------------------------------------------------------------- fuzzing

PREFIXES = [b"", b"\xff\xd8\xff", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"%PDF-", b"%PDF-1.7\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=4096))
def test_random_bytes_only_ever_raise_invalid(prefix: bytes, body: bytes) -> None:
    try:
        clean = check(prefix + body, "fuzz")
    except Invalid as error:
        assert error.errors and error.errors[0].code
    else:
        assert clean.content_type in {"image/jpeg", "application/pdf"}


SEEDS = [
    jpeg((32, 24)),
    jpeg((16, 16), progressive=True),
    blank_pdf(),
    assemble_with_object_stream({2: PAGES, 3: PAGE}, {1: CATALOG}),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.binary(min_size=1, max_size=8)), max_size=6
    ),
    cut=st.none() | st.integers(min_value=3),
)
def test_mutated_files_only_ever_raise_invalid(
    seed: bytes, edits: list[tuple[int, bytes]], cut: int | None
) -> None:
    data = bytearray(seed)
    for position, chunk in edits:
        at = position % len(data)
        data[at : at + len(chunk)] = chunk
    if cut is not None:
        data = data[: max(3, cut % len(data))]
    try:
        check(bytes(data), "mutant")
    except Invalid as error:
        assert error.errors[0].code in {
            "file_type",
            "image_invalid",
            "image_too_large",
            "pdf_invalid",
            "pdf_active_content",
        }
