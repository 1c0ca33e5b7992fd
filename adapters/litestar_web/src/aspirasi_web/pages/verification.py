"""The public check of the tamper-evident record (``/verifikasi``, issue 23.4).

Anyone pastes a hash (from a reply PDF's metadata, or from the daily roots
below) and learns whether it is a genuine log entry: its ticket, date and step,
or only "valid" for a confidential or anonymous message. Nothing personal is
shown. The page also lists the newest daily roots over all chains, so that
anyone may keep a copy and later hold the province to them. A GET form: the
check changes nothing, and a link to it can be shared.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromQuery

from aspirasi_core.domain.errors import Invalid

from ..context import Core, CurrentTranslator
from ..templating import render
from .public import form_failure

TEMPLATE = "public/verification.html"


@get(["/verifikasi", "/verification"], include_in_schema=False)
async def verification(
    request: Request[Any, Any, Any],
    core: Core,
    translator: CurrentTranslator,
    hash: FromQuery[str | None] = None,
) -> Response[str]:
    """The form, the answer for ``hash`` when given, and the newest daily roots."""
    app = core
    values: dict[str, Any] = {
        "hash": (hash or "")[:200],
        "lookup": None,
        "roots": await app.log_chain.recent_roots(),
    }
    if hash is not None and hash.strip():
        try:
            values["lookup"] = await app.log_chain.lookup(hash)
        except Invalid as exc:
            return form_failure(request, TEMPLATE, values, exc, ("hash",))
    values["steps"] = step_names(translator)
    return render(request, TEMPLATE, values)


def step_names(t: Any) -> dict[str, str]:
    """A log entry's action as the step it records."""
    return {
        "submit": t("Message sent"),
        "forward": t("Forwarded to an agency"),
        "reforward": t("Forwarded to another agency"),
        "reject": t("Rejected"),
        "withdraw": t("Withdrawn by the sender"),
        "start": t("Confirmed by the agency"),
        "progress": t("Progress update"),
        "reply": t("Replied"),
    }


ROUTES: list[Any] = [verification]
