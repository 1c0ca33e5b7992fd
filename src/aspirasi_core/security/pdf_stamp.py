"""The ticket and the log entry's hash written into a reply PDF as it is served
(issue 23.4): whoever holds the file can check the hash on the public page
``/verifikasi`` and learn that the reply is a genuine entry of the record.

The stored file stays as it was cleaned on upload; each download gets the
document information entries ``/AspirasiTicket`` and ``/AspirasiEntryHash``, and
``/Keywords`` with both (what PDF viewers show as the document's properties).
Written with pikepdf (qpdf), as the cleaning is; a module of its own so that
pikepdf is only imported when a PDF is served.
"""

from __future__ import annotations

import io

import pikepdf
import structlog

log = structlog.get_logger("aspirasi.pdf")

TICKET_KEY = "/AspirasiTicket"
HASH_KEY = "/AspirasiEntryHash"


def stamp_pdf(data: bytes, *, ticket: str, entry_hash: str) -> bytes:
    """``data`` with the ticket and the entry's hash in its document information.
    A file qpdf cannot rewrite (it was checked on upload) is served unchanged, and
    logged."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            info = pdf.docinfo
            info[TICKET_KEY] = ticket
            info[HASH_KEY] = entry_hash
            info["/Keywords"] = f"aspirasi-ticket:{ticket} aspirasi-entry-hash:{entry_hash}"
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True)
    except MemoryError:
        raise
    except Exception:
        log.warning("pdf_stamp_failed", ticket=ticket)
        return data
    return out.getvalue()


__all__ = ["HASH_KEY", "TICKET_KEY", "stamp_pdf"]
