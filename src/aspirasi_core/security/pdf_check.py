"""The PDF half of :mod:`aspirasi_core.security.uploads`: refuse PDFs with active
content (scripts, actions, embedded files) or that cannot be read in time.

A module of its own so that pypdf is only imported when a PDF arrives.
"""

from __future__ import annotations

import io
import itertools
import re
import time
import zlib
from collections.abc import Iterable

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from ..domain.errors import Invalid
from . import uploads

# Keys (and name values) that make a PDF do something when it is opened or
# clicked, or that smuggle other files in. /EF is the embedded-file entry of a
# file specification, /GoToE opens an embedded document. /OpenAction is allowed
# only as a plain "open at this page and zoom" (see _is_plain_go_to).
_PDF_ACTIVE_KEYS = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/OpenAction",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/EF",
        "/AA",
        "/RichMedia",
        "/XFA",
        "/AdditionalStreams",  # LibreOffice "hybrid PDF": the source document, macros and all
    }
)
# Action types that reach beyond the document wherever they sit (a link, a form
# widget, a chained /Next, a bookmark): open another file (/GoToR), send form data
# somewhere (/SubmitForm), read data in (/ImportData), run a program or a script.
# Such PDFs are refused, not repaired: a reader would otherwise get a document
# whose buttons silently do something else than its author meant.
_PDF_ACTIVE_VALUES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/EmbeddedFile",
        "/RichMedia",
        "/RichMediaExecute",
        "/GoToE",
        "/GoToR",
        "/SubmitForm",
        "/ImportData",
    }
)
# The token scans (raw bytes, decoded object streams) cannot tell a harmless
# /OpenAction destination from an active one; the action it points to carries
# /JS, /Launch... which they do catch.
_PDF_SCANNED_NAMES = (_PDF_ACTIVE_KEYS | _PDF_ACTIVE_VALUES) - {"/OpenAction"}

# PDF name tokens: a solidus and regular characters up to a delimiter or white space.
_NAME_TOKEN = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Cap on inflated bytes: per object stream checked, in total for the raw scan.
_RAW_INFLATE_LIMIT = 64 * 1024 * 1024


class _PdfTooCostly(Exception):
    """The PDF took longer than :data:`PDF_TIME_BUDGET` seconds to check."""


class _GuardedReader(PdfReader):
    """A pypdf reader that cannot be made to work for hours.

    For an object missing from the cross-reference data pypdf searches the whole
    file with a regular expression; a few thousand references to absent objects
    in a padded file cost minutes. This reader answers null for objects the
    cross-reference data does not list (the raw-bytes scan covers objects outside
    it) and gives up once the time budget is spent.
    """

    def __init__(self, data: bytes, *, budget: float) -> None:
        self._deadline = time.monotonic() + budget
        super().__init__(io.BytesIO(data), strict=False)

    def over_budget(self) -> bool:
        return time.monotonic() > self._deadline

    def get_object(self, indirect_reference: int | IndirectObject) -> PdfObject | None:
        if self.over_budget():
            raise _PdfTooCostly
        if isinstance(indirect_reference, int):
            idnum, generation = indirect_reference, 0
        else:
            idnum, generation = indirect_reference.idnum, indirect_reference.generation
        listed = (generation == 0 and idnum in self.xref_objStm) or idnum in self.xref.get(
            generation, {}
        )
        if not listed:
            return NullObject()
        return super().get_object(indirect_reference)


def check_pdf(data: bytes, *, field: str) -> None:
    """Raise :class:`Invalid` unless ``data`` is a readable PDF without active content."""
    invalid = Invalid.field(field, "pdf_invalid", "The PDF file could not be read.")
    active = Invalid.field(
        field,
        "pdf_active_content",
        "PDF files with scripts, actions or embedded files are not accepted.",
    )
    try:
        reader = _GuardedReader(data, budget=uploads.PDF_TIME_BUDGET)
        if reader.is_encrypted:
            raise invalid
        found, broken = _walk_pdf(reader)
    except Invalid:
        raise
    except _PdfTooCostly:
        raise invalid from None
    except MemoryError:
        raise
    except Exception:  # pypdf gave up on the file: judge the raw bytes below
        found, broken = False, True

    if found:
        raise active
    if broken:
        if _raw_names_active(data, inflate_streams=True):
            raise active
        raise invalid
    if _raw_names_active(data, inflate_streams=False):
        raise active


def _resolve(obj: PdfObject | None) -> PdfObject | None:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _has_pages(reader: PdfReader) -> bool:
    """A catalog with a page tree that has at least one kid."""
    root = _resolve(reader.trailer.get("/Root"))
    if not isinstance(root, DictionaryObject):
        return False
    pages = _resolve(root.get("/Pages"))
    if not isinstance(pages, DictionaryObject):
        return False
    kids = _resolve(pages.get("/Kids"))
    return isinstance(kids, ArrayObject) and len(kids) > 0


def _walk_pdf(reader: _GuardedReader) -> tuple[bool, bool]:
    """Walk the trailer (catalog, names tree, page tree, annotations, ...) and every
    object the cross-reference data lists, resolving references; then check the
    object streams themselves.

    Returns ``(active_content_found, some_object_could_not_be_parsed)``.
    """
    if not _has_pages(reader):
        return False, True
    roots: list[PdfObject] = [reader.trailer]
    for generation, entries in list(reader.xref.items()):
        free = reader.xref_free_entry.get(generation, {})
        roots.extend(
            IndirectObject(idnum, generation, reader)
            for idnum in list(entries)
            if not free.get(idnum, False)
        )
    roots.extend(IndirectObject(idnum, 0, reader) for idnum in list(reader.xref_objStm))
    object_streams: set[int] = {int(where[0]) for where in reader.xref_objStm.values()}

    broken = False
    seen_refs: set[tuple[int, int]] = set()
    seen_ids: set[int] = set()
    stack: list[PdfObject] = list(reversed(roots))
    steps = 0
    while stack:
        steps += 1
        if steps % 4096 == 0 and reader.over_budget():
            raise _PdfTooCostly
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen_refs:
                continue
            seen_refs.add(ref)
            try:
                resolved = reader.get_object(obj)
            except _PdfTooCostly:
                raise
            except Exception:
                broken = True
                continue
            if resolved is None or isinstance(resolved, NullObject):
                # pypdf (non-strict) answers null for an object it could not read
                # out of an object stream: a viewer may read it differently.
                if obj.generation == 0 and obj.idnum in reader.xref_objStm:
                    broken = True
                continue
            if isinstance(resolved, StreamObject) and resolved.get("/Type") == "/ObjStm":
                object_streams.add(obj.idnum)
            stack.append(resolved)
            continue
        if id(obj) in seen_ids:
            continue
        if isinstance(obj, DictionaryObject):  # StreamObject included
            seen_ids.add(id(obj))
            for key, value in obj.items():
                if key == "/OpenAction":
                    try:
                        if not _is_plain_go_to(value):
                            return True, broken
                    except _PdfTooCostly:
                        raise
                    except Exception:
                        broken = True
                elif key in _PDF_ACTIVE_KEYS:
                    return True, broken
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            seen_ids.add(id(obj))
            stack.extend(obj)
        elif isinstance(obj, NameObject) and obj in _PDF_ACTIVE_VALUES:
            return True, broken

    for number in sorted(object_streams):
        found, damaged = _check_object_stream(reader, number)
        broken = broken or damaged
        if found:
            return True, broken
    return False, broken


def _is_plain_go_to(value: PdfObject) -> bool:
    """Whether an /OpenAction only opens the document at a page and zoom.

    LibreOffice and LaTeX (hyperref) write ``/OpenAction [3 0 R /Fit]`` or a
    ``/GoTo`` action to such a destination into ordinary documents; that moves
    the view and runs nothing. Only an action dictionary can do more, so a
    destination (an array, a name, a string; even a malformed one) passes, and a
    dictionary passes only as ``/S /GoTo`` with nothing but ``/Type`` and a ``/D``
    destination: JavaScript, launch, named actions, URIs and ``/Next`` chains
    count as active content. The referenced objects are walked on their own too.
    Raises whatever pypdf raises when the action cannot be read.
    """
    target = _resolve(value)
    if not isinstance(target, DictionaryObject):
        return True
    if set(target) - {"/Type", "/S", "/D"} or target.get("/S") != "/GoTo":
        return False
    return not isinstance(_resolve(target.get("/D")), DictionaryObject)


def _check_object_stream(reader: PdfReader, number: int) -> tuple[bool, bool]:
    """pypdf reads object streams leniently (a truncated stream or a bad offset
    table silently yields fewer or emptier objects), so each one is checked on its
    own: its compressed data must inflate completely, its offset table must be
    sound, and the names in its decoded text (object syntax only, an object stream
    holds no stream data) must not be active ones.

    Returns ``(active_content_found, stream_is_damaged)``.
    """
    try:
        stream = reader.get_object(number)
        if not isinstance(stream, StreamObject) or stream.get("/Type") != "/ObjStm":
            return False, True
        decoded = stream.get_data()
    except _PdfTooCostly:
        raise
    except Exception:
        return False, True
    if _has_active_name(decoded):
        return True, False
    filters = stream.get("/Filter")
    first_filter = filters[0] if isinstance(filters, ArrayObject) and filters else filters
    if first_filter == "/FlateDecode":
        # Encoded bytes as stored in the file (pypdf keeps them in ``_data``).
        raw = getattr(stream, "_data", b"")
        inflater = zlib.decompressobj()
        try:
            inflater.decompress(raw, _RAW_INFLATE_LIMIT)
        except zlib.error:
            return False, True
        if not inflater.eof:
            return False, True
    count_value, first_value = stream.get("/N"), stream.get("/First")
    if not isinstance(count_value, NumberObject) or not isinstance(first_value, NumberObject):
        return False, True
    try:
        count, first = int(count_value), int(first_value)
        fields = decoded[:first].split()
        if count < 0 or not 0 <= first <= len(decoded) or len(fields) != 2 * count:
            return False, True
        numbers = [int(value) for value in fields[0::2]]
        offsets = [int(value) for value in fields[1::2]]
    except ValueError:
        return False, True
    if (
        any(n <= 0 for n in numbers)
        or any(b <= a for a, b in itertools.pairwise(offsets))
        or any(not 0 <= first + offset < len(decoded) for offset in offsets)
    ):
        return False, True
    return False, False


def _raw_names_active(data: bytes, *, inflate_streams: bool) -> bool:
    """Tokenise PDF names in the raw bytes with stream data left out and, when
    asked, in every stream body as stored and inflated best-effort."""
    outside, bodies = _split_streams(data)
    if any(_has_active_name(chunk) for chunk in outside):
        return True
    if not inflate_streams:
        return False
    budget = _RAW_INFLATE_LIMIT
    for body in bodies:
        if _has_active_name(body):
            return True
        if budget <= 0:
            continue
        try:
            plain = zlib.decompressobj().decompress(body, budget)
        except zlib.error:
            continue
        budget -= len(plain)
        if _has_active_name(plain):
            return True
    return False


def _split_streams(data: bytes) -> tuple[list[bytes], list[bytes]]:
    """The file cut into object syntax and stream bodies (``stream`` EOL up to
    ``endstream``), in one linear pass."""
    outside: list[bytes] = []
    bodies: list[bytes] = []
    position = 0
    search = 0
    while True:
        start = data.find(b"stream", search)
        if start == -1:
            break
        search = start + 6
        if data[max(0, start - 3) : start] == b"end":
            continue  # the "stream" inside "endstream"
        body_start = search
        if data[body_start : body_start + 2] == b"\r\n":
            body_start += 2
        elif data[body_start : body_start + 1] in (b"\n", b"\r"):
            body_start += 1
        else:
            continue  # "stream" as part of another word
        end = data.find(b"endstream", body_start)
        if end == -1:
            break
        outside.append(data[position:start])
        bodies.append(data[body_start:end])
        position = search = end + len(b"endstream")
    outside.append(data[position:])
    return outside, bodies


def _has_active_name(chunk: bytes) -> bool:
    return any(name in _PDF_SCANNED_NAMES for name in _names(chunk))


def _names(chunk: bytes) -> Iterable[str]:
    for match in _NAME_TOKEN.finditer(chunk):
        raw = _NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        yield "/" + raw.decode("latin-1")
