"""Attachment downloads, authorized by the core (a message the reader may read).

Three views of one file, each through the same check: the download
(``/files/{message}/{attachment}``, ``Content-Disposition: attachment``), the photo
opened in the browser (``…/view``: ``inline`` for JPEGs only; a PDF stays a
download) and a small thumbnail of a photo (``…/thumb``, made on the fly; 404 for a
PDF). Downloads are streamed from the store in chunks, or redirected to a
short-lived URL of an object store (see :func:`file_response`). The middleware adds
``X-Content-Type-Options: nosniff`` to every response."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Response, get
from litestar.params import FromPath
from litestar.response import Redirect, Stream

from aspirasi_core.domain.errors import NotFound
from aspirasi_core.security.uploads import thumbnail

from ..context import Core, Ctx

if TYPE_CHECKING:
    from aspirasi_core.services.attachments import AttachmentDownload

#: Content types opened in the browser by ``…/view``; anything else is downloaded.
INLINE_TYPES = frozenset({"image/jpeg"})


def disposition(filename: str, kind: str = "attachment") -> str:
    """``attachment`` (or ``inline``) with an ASCII fallback name and the UTF-8 one
    (RFC 6266)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


#: Bytes read from the store per chunk of a streamed download.
CHUNK = 64 * 1024


async def file_response(
    found: AttachmentDownload, *, inline: bool = False, cache_control: str = "no-store"
) -> Response[Any]:
    """The file the core handed out (its access checks passed): a redirect to the
    store's short-lived URL when it gives one (an object store with presigned URLs
    on), else the file streamed in chunks, read in a worker thread. The file is
    opened before the answer starts, so a missing one is still a clean error."""
    url = await anyio.to_thread.run_sync(lambda: found.url(inline=inline))
    if url is not None:
        return Redirect(url, status_code=302, headers={"Cache-Control": "no-store"})
    handle = await anyio.to_thread.run_sync(found.open)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
                yield chunk
        finally:
            await anyio.to_thread.run_sync(handle.close)

    return Stream(
        chunks(),
        media_type=found.content_type,
        headers={
            "Content-Disposition": disposition(
                found.filename, "inline" if inline else "attachment"
            ),
            "Cache-Control": cache_control,
        },
    )


@get("/files/{message_id:int}/{attachment_id:int}", include_in_schema=False)
async def download(
    core: Core, ctx: Ctx, message_id: FromPath[int], attachment_id: FromPath[int]
) -> Response[Any]:
    found = await core.queries.attachment_download(ctx, message_id, attachment_id)
    return await file_response(found)


@get("/files/{message_id:int}/{attachment_id:int}/view", include_in_schema=False)
async def view(
    core: Core, ctx: Ctx, message_id: FromPath[int], attachment_id: FromPath[int]
) -> Response[Any]:
    """A photo opened in the browser; other files are downloaded as by :func:`download`."""
    found = await core.queries.attachment_download(ctx, message_id, attachment_id)
    return await file_response(found, inline=found.content_type in INLINE_TYPES)


@get("/files/{message_id:int}/{attachment_id:int}/thumb", include_in_schema=False)
async def thumb(
    core: Core, ctx: Ctx, message_id: FromPath[int], attachment_id: FromPath[int]
) -> Response[bytes]:
    """A thumbnail of a photo (long side 320 px), for the lists of attachments."""
    app = core
    _, content_type, data = await app.queries.attachment(ctx, message_id, attachment_id)
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
