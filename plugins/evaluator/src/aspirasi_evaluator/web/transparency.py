"""The public transparency page (``/transparansi``) and its open data
(``/transparansi.csv``, ``/transparansi.json``): one calendar year's scorecard
per agency, for everyone, without an account (figures:
:mod:`aspirasi_evaluator.transparency`).

The figures are the evaluator's report, computed once per year and process and
kept for :data:`CACHE_SECONDS` in a Litestar store (``evaluator_transparency``,
the app's memory store unless the app configures another): a public page
must not run the whole report for every visitor, and the page and both
downloads then show the same figures. Only whole years are offered, so a
visitor cannot make the server compute arbitrary ranges.

The page also publishes the newest daily roots of the tamper-evident record
(:data:`ROOTS_SHOWN`, read from ``aspirasi_core.plugin_api.schema.log_roots`` on
each visit: one indexed read of a few rows), with links to the public check of a
hash (``/verifikasi``) and to the roots' JSON, so that anyone may keep a copy.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Response, get
from sqlalchemy import select

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.plugin_api import schema
from aspirasi_web.context import translator
from aspirasi_web.errors import problem
from aspirasi_web.i18n import Translator
from aspirasi_web.templating import form_errors, render

from ..chart import layout
from ..export import FORMATS
from ..figures import Trend, TrendPoint
from ..timings import Median
from ..transparency import COLUMNS, FIRST_YEAR, csv_rows, ranking, scorecard
from .common import Req, duration_text, number_text, percent_text, service
from .report import chart_labels

#: How long one year's figures are kept before they are computed again.
CACHE_SECONDS = 300
#: The years offered as links (the current one and those before it).
YEARS_SHOWN = 5
STORE = "evaluator_transparency"
#: The newest daily roots shown on the page.
ROOTS_SHOWN = 7
_YEAR = re.compile(r"\A[0-9]{4}\Z")


def _year(request: Req) -> int:
    """``?year=``: a year from :data:`FIRST_YEAR` to the current one (absent or
    empty: the current one), in four plain digits: `` 2025`` is refused, not trimmed."""
    svc = service(request)
    current = svc.this_year()
    raw = request.query_params.get("year") or ""
    if not raw:
        return current
    if not _YEAR.match(raw) or not FIRST_YEAR <= int(raw) <= current:
        raise Invalid.field(
            "year",
            "bad_year",
            "Choose a year from %(min)s to %(max)s.",
            min=FIRST_YEAR,
            max=current,
        )
    return int(raw)


async def _data(request: Req, year: int) -> dict[str, Any]:
    store = request.app.stores.get(STORE)
    key = str(year)
    cached = await store.get(key)
    if cached is not None:
        return json.loads(cached)  # type: ignore[no-any-return]
    svc = service(request)
    report = await svc.public_report(year)
    data = scorecard(
        report,
        licence=svc.aspirasi.settings.open_data_licence,
        generated_at=svc.aspirasi.clock.now(),
    )
    await store.set(key, json.dumps(data), expires_in=CACHE_SECONDS)
    return data


async def _roots(request: Req) -> list[dict[str, Any]]:
    """The newest daily roots, newest first (``day``, ``root``, ``chains``)."""
    r = schema.log_roots
    query = select(r.c.day, r.c.root, r.c.chains).order_by(r.c.day.desc()).limit(ROOTS_SHOWN)
    rows = await service(request).aspirasi.read(lambda tx: tx.execute(query).all())
    return [{"day": row.day, "root": row.root, "chains": row.chains} for row in rows]


def _trend(data: dict[str, Any]) -> Trend:
    points = []
    for p in data["trend"]:
        first = date.fromisoformat(p["month"] + "-01")
        after = (first + timedelta(days=32)).replace(day=1)
        points.append(TrendPoint(first, after, p["submitted"], p["closed"]))
    return Trend("month", tuple(points))


def _hours(t: Translator, value: float | None) -> str:
    return duration_text(t, Median(None if value is None else value * 3600, 1))


async def _page(
    request: Req, data: dict[str, Any], errors: dict[str, list[str]], status_code: int
) -> Response[str]:
    t = translator(request)
    trend = _trend(data)
    ranked, rest = ranking(data["agencies"])
    current = service(request).this_year()
    years = [y for y in range(current, current - YEARS_SHOWN, -1) if y >= FIRST_YEAR]
    return render(
        request,
        "evaluator/transparency.html",
        {
            "data": data,
            "first_day": date.fromisoformat(data["from"]),
            "last_day": date.fromisoformat(data["to"]),
            "generated": datetime.fromisoformat(data["generated_at"]),
            "errors": errors,
            "years": years,
            "ranked": ranked,
            "rest": rest,
            "trend": trend,
            "roots": await _roots(request),
            "chart": layout(trend, chart_labels(t, trend)),
            "number": lambda v, digits=0: number_text(t, v, digits),
            "percent": lambda share: percent_text(t, share),
            "hours": lambda v: _hours(t, v),
        },
        status_code=status_code,
    )


@get("/transparansi", include_in_schema=False)
async def transparency_page(request: Req) -> Response[str]:
    """Everyone: how each agency handled the messages of a year (``?year=``)."""
    try:
        year = _year(request)
    except Invalid as exc:
        data = await _data(request, service(request).this_year())
        return await _page(request, data, form_errors(request, exc), 422)
    return await _page(request, await _data(request, year), {}, 200)


def _download(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": f"public, max-age={CACHE_SECONDS}",
            "Access-Control-Allow-Origin": "*",
        },
    )


def _bad_year(request: Req, exc: Invalid) -> Response[Any]:
    """A download's refusal as problem details (its clients are programs)."""
    t = translator(request)
    errors = [{"field": e.field, "code": e.code, "message": t.field_error(e)} for e in exc.errors]
    return problem(request, 422, exc.code, errors[0]["message"], errors=errors)


@get("/transparansi.json", include_in_schema=False)
async def transparency_json(request: Req) -> Response[Any]:
    """The year's scorecard as JSON (open data, licence in ``licence``)."""
    try:
        year = _year(request)
    except Invalid as exc:
        return _bad_year(request, exc)
    data = await _data(request, year)
    body = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    return _download(body, "application/json", f"transparansi-{year}.json")


@get("/transparansi.csv", include_in_schema=False)
async def transparency_csv(request: Req) -> Response[Any]:
    """The year's agencies as CSV (one row each; columns :data:`COLUMNS`, then the
    licence, so that a file passed on keeps it)."""
    try:
        year = _year(request)
    except Invalid as exc:
        return _bad_year(request, exc)
    data = await _data(request, year)
    media_type, build = FORMATS["csv"]
    rows = [[*row, data["licence"]] for row in csv_rows(data)]
    body = build([("", [*COLUMNS, "licence"], rows)])
    return _download(body, media_type, f"transparansi-{year}.csv")
