"""Streaming a citizen's data export (a ZIP the core built in a temporary file)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio.to_thread
from litestar.response import Stream

from aspirasi_core.services import DataExport

#: Bytes read from the temporary file per step (in a worker thread).
CHUNK = 64 * 1024


def export_response(export: DataExport) -> Stream:
    """The archive as a download, read piece by piece; the temporary file is closed
    (and deleted) once sent, or when the client goes away."""

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while block := await anyio.to_thread.run_sync(export.file.read, CHUNK):
                yield block
        finally:
            export.close()

    return Stream(
        chunks(),
        media_type="application/zip",
        headers={
            # The core names it aspirasi-data-YYYYMMDD.zip: plain ASCII.
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Content-Length": str(export.size),
            "Cache-Control": "private, no-store",
        },
    )
