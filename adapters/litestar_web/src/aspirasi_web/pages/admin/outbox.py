"""The outbox's dead letters (``/admin/outbox``): totals per status, the dead
letters filtered by topic and error text, and retrying them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aspirasi_core.domain.errors import NotFound

from ...context import core
from ...templating import redirect, render
from .common import AdminController, text

#: Dead letters shown on the outbox page (beyond: "showing 200 of N").
DEAD_SHOWN = 200


def _outbox_filters(topic: str | None, error: str | None) -> dict[str, str]:
    """The page's filters, trimmed and bounded (they go into a LIKE and a URL)."""
    return {
        "topic": (topic or "").strip()[:100],
        "error": (error or "").strip()[:200],
    }


class OutboxController(AdminController):
    path = "/admin/outbox"

    @get("/")
    async def outbox(
        self,
        request: Request[Any, Any, Any],
        topic: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
        retried: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Totals per status, the dead letters (filtered by topic and error text) with
        how many match, a button retrying all those that match and one per item."""
        filters = _outbox_filters(topic, error)
        found = await core(request).outbox.overview(
            "dead", DEAD_SHOWN, topic=filters["topic"] or None, error=filters["error"] or None
        )
        done = retried.strip() if retried else ""
        return render(
            request,
            "admin/outbox.html",
            {
                "dead": found.items,
                "matching": found.matching,
                "cut_short": found.cut_short,
                "totals": found.totals,
                "filters": filters,
                "filtered": any(filters.values()),
                "retried": int(done)
                if done.isascii() and done.isdigit() and len(done) < 10
                else None,
            },
        )

    @post("/retry")
    async def retry_dead_letters(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Queue again, in one transaction, every dead letter matching the filters sent
        (the page's current filters; none: all of them)."""
        form = await request.form()
        filters = _outbox_filters(text(form, "topic"), text(form, "error"))
        count = await core(request).outbox.retry_dead(
            topic=filters["topic"] or None, error=filters["error"] or None
        )
        query = urlencode({**{k: v for k, v in filters.items() if v}, "retried": count})
        return redirect(request, f"/admin/outbox?{query}")

    @post("/{item_id:int}/retry")
    async def retry_outbox(
        self, request: Request[Any, Any, Any], item_id: FromPath[int]
    ) -> Response[Any]:
        if not 0 < item_id < 2**62 or not await core(request).outbox.retry(item_id):
            raise NotFound("The item was not found.", code="outbox_item_not_found")
        return redirect(request, "/admin/outbox?retried=1")
