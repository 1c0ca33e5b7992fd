"""Attachment downloads, authorized by the core (a message the reader may read).

The middleware adds `X-Content-Type-Options: nosniff` to every response."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.params import FromPath

from ..context import context, core


def disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 one (RFC 6266)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@get("/files/{message_id:int}/{attachment_id:int}", include_in_schema=False)
async def download(
    request: Request[Any, Any, Any], message_id: FromPath[int], attachment_id: FromPath[int]
) -> Response[bytes]:
    filename, content_type, data = await core(request).queries.attachment(
        context(request), message_id, attachment_id
    )
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Content-Disposition": disposition(filename),
            "Cache-Control": "no-store",
        },
    )


ROUTES: list[Any] = [download]
