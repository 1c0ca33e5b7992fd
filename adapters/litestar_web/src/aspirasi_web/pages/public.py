"""Public pages: home, public messages, tracking, language switch, branding assets.

Also holds the small form helpers the account and citizen pages share."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect
from markupsafe import Markup

from aspirasi_core.domain.errors import DomainError, Invalid
from aspirasi_core.domain.nik import mask_nik, normalize_nik

from ..context import Core, Ctx, core, info, translator
from ..errors import retry_headers, status_of
from ..guards import PASSWORD_CHANGE_OPT
from ..i18n import LANGUAGES, status_labels
from ..middleware import LANG_COOKIE
from ..templating import form_errors, render, safe_next, status_badge
from .backoffice import due_day

HERE = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------- form helpers
async def form_data(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The posted form as a plain dict (first value of each field)."""
    form = await request.form()
    return {key: form.get(key) for key in form}


def text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def failure(
    request: Request[Any, Any, Any], exc: DomainError, fields: Iterable[str]
) -> tuple[dict[str, list[str]], str, int, dict[str, str]]:
    """(field errors, form-level message, status, headers) for a domain error on a
    form: field errors (422) go next to their fields, anything else (and errors
    about fields the form does not show) becomes a form-level message."""
    t = info(request).translator
    if isinstance(exc, Invalid):
        errors = form_errors(request, exc)
        shown = set(fields)
        stray = [msg for name, msgs in errors.items() if name not in shown for msg in msgs]
        message = " ".join(stray) if stray else t("Please correct the errors below.")
        return errors, message, 422, {}
    return {}, t.error(exc), status_of(exc), retry_headers(exc)


def form_failure(
    request: Request[Any, Any, Any],
    template: str,
    values: Mapping[str, Any],
    exc: DomainError,
    fields: Iterable[str],
) -> Response[str]:
    """Re-show a form after a domain error (see :func:`failure`)."""
    errors, message, status, headers = failure(request, exc, fields)
    ctx = dict(values)
    ctx["errors"] = errors
    ctx["form_error"] = message
    return render(request, template, ctx, status_code=status, headers=headers)


# ---------------------------------------------------------------------- pages


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], core: Core) -> Response[str]:
    """Home (Beranda): how to send a message, recent public messages, social links."""
    recent = await core.queries.public(limit=6)
    return render(request, "public/home.html", {"recent": recent.items})


@get("/messages", include_in_schema=False)
async def public_messages(
    request: Request[Any, Any, Any],
    q: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Response[str]:
    """Pesan: the table of public messages (no sender data, never confidential)."""
    # A benchmarked hot path: the request's helpers, no dependencies to resolve.
    values: dict[str, Any] = {"q": q or "", "items": [], "next_cursor": None}
    try:
        page = await core(request).queries.public(cursor=cursor, text=q)
    except Invalid as exc:
        return form_failure(request, "public/messages.html", values, exc, ("q",))
    t = translator(request)
    labels = status_labels(t)
    # The rows are written here with html.escape rather than by the template: a
    # template escapes and calls per cell, which is most of this page's time.
    head = [escape(t(x)) for x in ("Ticket", "Date", "Subject", "Message", "Status", "Location")]
    # The place no closer than the district: the public list never has coordinates.
    describe = core(request).deps.regions.describe
    rows = Markup(  # noqa: S704 - every value below is escaped (html.escape) or Markup
        "".join(
            _ROW.format(
                *head,
                escape(m.ticket),
                escape(t.date(m.created_at)),
                escape(m.subject),
                escape(m.body if len(m.body) <= BODY_PREVIEW + 5 else _preview(m.body)),
                status_badge(m.status, labels),
                escape(describe(m.regency_code, m.district_code) or "—"),
            )
            for m in page.items
        )
    )
    values.update(items=page.items, rows_html=rows, next_cursor=page.next_cursor)
    return render(request, "public/messages.html", values)


_ROW = (
    "<tr>"
    '<td data-label="{0}" class="ticket">{6}</td>'
    '<td data-label="{1}">{7}</td>'
    '<td data-label="{2}">{8}</td>'
    '<td data-label="{3}">{9}</td>'
    '<td data-label="{4}">{10}</td>'
    '<td data-label="{5}" class="location">{11}</td>'
    "</tr>\n"
)

#: How much of a message the public list shows.
BODY_PREVIEW = 300


def _preview(body: str) -> str:
    """The first words of a long message and an ellipsis, as Jinja's ``truncate(300)``
    (which leaves up to 5 characters more alone)."""
    cut = body[: BODY_PREVIEW - 3].rsplit(" ", 1)[0]
    return cut + "..."


@get("/tracking", include_in_schema=False)
async def tracking_form(request: Request[Any, Any, Any]) -> Response[str]:
    """Tracking: the NIK form (the NIK is posted, never put in a URL)."""
    return render(request, "public/tracking.html", {"results": None, "masked": None})


@post("/tracking", include_in_schema=False)
async def tracking_submit(request: Request[Any, Any, Any], core: Core, ctx: Ctx) -> Response[str]:
    """That NIK's messages with their status and log."""
    form = await form_data(request)
    nik = text(form, "nik").strip()
    values: dict[str, Any] = {"results": None, "masked": None}
    try:
        results = await core.queries.track(ctx, nik)
    except DomainError as exc:
        return form_failure(request, "public/tracking.html", values, exc, ("nik",))
    expected = {m.ticket: due_day(request, m.due_at) for m in results if m.due_at}
    values.update(results=results, masked=mask_nik(normalize_nik(nik)), expected=expected)
    return render(request, "public/tracking.html", values)


@get("/lang/{code:str}", include_in_schema=False, opt={PASSWORD_CHANGE_OPT: True})
async def switch_language(
    request: Request[Any, Any, Any], code: FromPath[str], next: FromQuery[str | None] = None
) -> Redirect:
    """Remember the chosen language (one year) and go back to the page."""
    target = safe_next(next)
    if code in LANGUAGES:
        info(request).extra_cookies.append((LANG_COOKIE, code, {"max_age": 365 * 24 * 3600}))
    return Redirect(path=target, status_code=303)


@get("/brand/logo", include_in_schema=False)
async def brand_logo(core: Core) -> File:
    """The province's logo (``ASPIRASI_BRAND_LOGO``) or the bundled one."""
    configured = core.deps.settings.brand_logo
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


#: Pictures a province may put on its home page (``ASPIRASI_HOME_IMAGE``).
HOME_IMAGE_TYPES = (".svg", ".png", ".jpg", ".jpeg", ".webp")


@get("/brand/hero", include_in_schema=False)
async def brand_hero(core: Core) -> File:
    """The home page's picture (``ASPIRASI_HOME_IMAGE``) or the bundled illustration of
    East Kalimantan (``static/img/hero-kaltim.svg``)."""
    bundled = HERE / "static" / "img" / "hero-kaltim.svg"
    configured = core.deps.settings.home_image
    path = Path(configured) if configured else bundled
    if not path.is_file() or path.suffix.lower() not in HOME_IMAGE_TYPES:
        path = bundled
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return File(
        path=path,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@get("/help", include_in_schema=False)
async def help_page(request: Request[Any, Any, Any]) -> Response[str]:
    """A short help page: what happens to a message, who sees it, how long it takes."""
    return render(request, "public/help.html")


@get("/brand.css", include_in_schema=False, sync_to_thread=False)
def brand_css(core: Core) -> Response[str]:
    """The province's colour as a CSS variable (validated as #rrggbb at start-up)."""
    color = core.deps.settings.brand_color
    return Response(
        content=f":root {{ --brand: {color}; }}\n",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


ROUTES: list[Any] = [
    home,
    public_messages,
    tracking_form,
    tracking_submit,
    switch_language,
    brand_logo,
    brand_hero,
    help_page,
    brand_css,
]
