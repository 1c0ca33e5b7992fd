"""Attachment downloads, authorized by the core (a message the reader may read).

Three views of one file, each through the same check: the download
(``/files/{message}/{attachment}``, ``Content-Disposition: attachment``), the
photo opened in the browser (``…/view``: ``inline`` for JPEGs only; a PDF stays a
download) and a small thumbnail of a photo (``…/thumb``, made on the fly; 404 for
a PDF). The middleware adds ``X-Content-Type-Options: nosniff`` to every response."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, Response, get
from litestar.params import FromPath

from aspirasi_core.domain.errors import NotFound
from aspirasi_core.security.uploads import thumbnail

from ..context import context, core

#: Content types opened in the browser by ``…/view``; anything else is downloaded.
INLINE_TYPES = frozenset({"image/jpeg"})


def disposition(filename: str, kind: str = "attachment") -> str:
    """``attachment`` (or ``inline``) with an ASCII fallback name and the UTF-8 one
    (RFC 6266)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


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


@get("/files/{message_id:int}/{attachment_id:int}/view", include_in_schema=False)
async def view(
    request: Request[Any, Any, Any], message_id: FromPath[int], attachment_id: FromPath[int]
) -> Response[bytes]:
    """A photo opened in the browser; other files are downloaded as by :func:`download`."""
    filename, content_type, data = await core(request).queries.attachment(
        context(request), message_id, attachment_id
    )
    kind = "inline" if content_type in INLINE_TYPES else "attachment"
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Content-Disposition": disposition(filename, kind),
            "Cache-Control": "no-store",
        },
    )


@get("/files/{message_id:int}/{attachment_id:int}/thumb", include_in_schema=False)
async def thumb(
    request: Request[Any, Any, Any], message_id: FromPath[int], attachment_id: FromPath[int]
) -> Response[bytes]:
    """A thumbnail of a photo (long side 320 px), for the lists of attachments."""
    app = core(request)
    _, content_type, data = await app.queries.attachment(
        context(request), message_id, attachment_id
    )
    if content_type not in INLINE_TYPES:
        raise NotFound("The file was not found.", code="attachment_not_found")
    small = await anyio.to_thread.run_sync(
        lambda: thumbnail(data), limiter=app.messages.image_decodes
    )
    return Response(
        content=small,
        media_type="image/jpeg",
        headers={"Content-Disposition": "inline", "Cache-Control": "private, no-store"},
    )


ROUTES: list[Any] = [download, view, thumb]
