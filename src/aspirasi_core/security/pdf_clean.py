"""Strip what identifies the author of a PDF before it is stored.

Office software writes the author's name, the creating program and often a file
path (``C:\\Users\\budi.santoso\\...``) into the document information dictionary
(``/Info``) and into XMP metadata streams (``/Metadata``, on the catalog and on
pages, images and fonts). Some add private application data (``/PieceInfo``),
markup annotations name their author (``/T``), and a file saved by incremental
updates still holds every earlier revision of all that. The file is rewritten
with pikepdf (qpdf): the current objects only, without those entries, with a
new file identifier. The pages, their content, links and form fields are kept.

A module of its own so that pikepdf is only imported when a PDF arrives.
"""

from __future__ import annotations

import io

import pikepdf

from ..domain.errors import Invalid

#: Entries removed from every dictionary and stream of the document.
METADATA_KEYS = ("/Metadata", "/PieceInfo")


def strip_pdf_metadata(data: bytes, *, field: str) -> bytes:
    """``data`` rewritten without document information, XMP metadata,
    application data, annotation authors and earlier revisions. Raises
    :class:`Invalid` (``pdf_invalid``) when qpdf cannot read the file."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            _strip(pdf)
            out = io.BytesIO()
            # A fresh /ID from the content: the old one may have been derived
            # from the file's path and time, and ties copies of it together.
            pdf.save(out, deterministic_id=True)
    except MemoryError:
        raise
    except Exception:  # qpdf gave up on the file (pypdf read it differently)
        raise Invalid.field(field, "pdf_invalid", "The PDF file could not be read.") from None
    return out.getvalue()


def _strip(pdf: pikepdf.Pdf) -> None:
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    if "/ID" in pdf.trailer:
        del pdf.trailer["/ID"]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            for key in METADATA_KEYS:
                if key in obj:
                    del obj[key]
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            continue
        for annot in annots:
            # On a markup annotation /T is its author; on a form widget it is
            # the field's name, which the form needs.
            if (
                isinstance(annot, pikepdf.Dictionary)
                and annot.get("/Subtype") != pikepdf.Name.Widget
                and "/T" in annot
            ):
                del annot["/T"]
