"""CSV and XLSX exports of the report tables and of drill-down lists.

Safe against formula injection (CSV injection): in CSV every text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed
with ``'``; in XLSX text is always written with ``write_string`` (a string cell,
never a formula), numbers with ``write_number``. File names are built from the
dates only (ASCII), so ``Content-Disposition`` needs no quoting tricks.

A *sheet* here is ``(title, header, rows)``: the header and the cells are
already translated text or numbers (``int``/``float``) or None.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

Cell = str | int | float | None
Sheet = tuple[str, Sequence[str], Sequence[Sequence[Cell]]]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return neutralise(str(value))


def to_csv(sheets: Sequence[Sheet]) -> bytes:
    """Every sheet one after the other (its title on a line, then header and rows,
    a blank line between sheets), UTF-8 with a BOM so spreadsheets read it right."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for i, (title, header, rows) in enumerate(sheets):
        if i:
            writer.writerow([])
        if len(sheets) > 1:
            writer.writerow([neutralise(title)])
        writer.writerow([_csv_cell(h) for h in header])
        for row in rows:
            writer.writerow([_csv_cell(c) for c in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


_BAD_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_name(title: str, taken: set[str]) -> str:
    base = title.translate(_BAD_SHEET_CHARS).strip("' ")[:28] or "Sheet"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[:25]} {n}"
    taken.add(name.lower())
    return name


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """One worksheet per sheet; text as string cells, numbers as numbers."""
    # Imported on the first export, not with the plugin: xlsxwriter's modules
    # alone are ~11 MB of every worker's memory, for a download a few people use.
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            # Belt and braces: even ``write()`` would not turn text into formulas/links.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = book.add_format({"bold": True})
    taken: set[str] = set()
    for title, header, rows in sheets:
        ws = book.add_worksheet(_sheet_name(title, taken))
        for col, text in enumerate(header):
            ws.write_string(0, col, str(text), bold)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                _write(ws, r, col, value)
        ws.freeze_panes(1, 0)
    book.close()
    return buf.getvalue()


def _write(ws: Any, row: int, col: int, value: Cell) -> None:
    if value is None:
        ws.write_blank(row, col, None)
    elif isinstance(value, bool):
        ws.write_number(row, col, int(value))
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value)
    else:
        ws.write_string(row, col, str(value))


def content_disposition(filename: str) -> str:
    """``attachment`` with a file name reduced to safe ASCII characters."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    safe = safe.lstrip(".") or "export"
    return f'attachment; filename="{safe}"'


#: ``kind`` → (media type, builder)
FORMATS: dict[str, tuple[str, Callable[[Sequence[Sheet]], bytes]]] = {
    "csv": (CSV_MEDIA_TYPE, to_csv),
    "xlsx": (XLSX_MEDIA_TYPE, to_xlsx),
}
