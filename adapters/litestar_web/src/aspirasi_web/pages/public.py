"""Public pages: home, language switch, branding assets."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect

from ..context import core, info
from ..i18n import LANGUAGES
from ..middleware import LANG_COOKIE
from ..templating import render, safe_next

HERE = Path(__file__).resolve().parent.parent


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Response[str]:
    """Home (Beranda): how to send a message, recent public messages, social links."""
    recent = await core(request).queries.public(limit=6)
    return render(request, "public/home.html", {"recent": recent.items})


@get("/lang/{code:str}", include_in_schema=False)
async def switch_language(
    request: Request[Any, Any, Any], code: FromPath[str], next: FromQuery[str | None] = None
) -> Redirect:
    """Remember the chosen language (one year) and go back to the page."""
    target = safe_next(next)
    if code in LANGUAGES:
        info(request).extra_cookies.append((LANG_COOKIE, code, {"max_age": 365 * 24 * 3600}))
    return Redirect(path=target, status_code=303)


@get("/brand/logo", include_in_schema=False)
async def brand_logo(request: Request[Any, Any, Any]) -> File:
    """The province's logo (``ASPIRASI_BRAND_LOGO``) or the bundled one."""
    configured = core(request).deps.settings.brand_logo
    path = Path(configured) if configured else HERE / "static" / "img" / "logo.svg"
    if not path.is_file() or path.suffix.lower() not in (".svg", ".png", ".jpg", ".jpeg"):
        path = HERE / "static" / "img" / "logo.svg"
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return File(
        path=path,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@get("/brand.css", include_in_schema=False, sync_to_thread=False)
def brand_css(request: Request[Any, Any, Any]) -> Response[str]:
    """The province's colour as a CSS variable (validated as #rrggbb at start-up)."""
    color = core(request).deps.settings.brand_color
    return Response(
        content=f":root {{ --brand: {color}; }}\n",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


ROUTES: list[Any] = [home, switch_language, brand_logo, brand_css]
