"""``/admin/open311``: the super admin issues and revokes the API keys of Open311
clients. A new key is shown once, on the answer to the form that issued it
(``Cache-Control: no-store``); only its hash is kept."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.model import Account, Role
from aspirasi_web.context import CurrentActor, context, core, plugin_context, translator
from aspirasi_web.csrf import parsed_form
from aspirasi_web.guards import requires
from aspirasi_web.templating import form_errors, redirect, render

from .. import MANAGE_KEYS
from ..keys import DEFAULT_RATE_LIMIT, KeyService
from .common import Req

PAGE = "/admin/open311"


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _account(request: Req, username: str) -> Account | None:
    """The citizen account named ``username`` (exactly), through the admin use case."""
    name = username.strip().lower()
    if not name or len(name) > 64:
        return None
    page = await core(request).admin.list_accounts(
        context(request), role=Role.USER, text=name, limit=100
    )
    return next((a for a in page.items if a.username == name), None)


async def _page(
    request: Req,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    new_key: str | None = None,
    status_code: int = 200,
) -> Response[str]:
    keys = await KeyService(plugin_context(request)).list()
    headers = {"Cache-Control": "no-store"} if new_key else None
    return render(
        request,
        "open311/keys.html",
        {
            "keys": keys,
            "form": form or {"client_name": "", "account": "", "rate_limit": DEFAULT_RATE_LIMIT},
            "errors": errors or {},
            "form_error": translator(request)("Please correct the marked fields.")
            if errors
            else None,
            "new_key": new_key,
            "default_rate_limit": DEFAULT_RATE_LIMIT,
        },
        status_code=status_code,
        headers=headers,
    )


@get(PAGE, guards=[requires(MANAGE_KEYS)], include_in_schema=False)
async def keys_page(request: Req) -> Response[str]:
    """The clients' keys, and the form that issues one."""
    return await _page(request)


@post(f"{PAGE}/keys", guards=[requires(MANAGE_KEYS)], include_in_schema=False, status_code=200)
async def issue_key(request: Req, actor: CurrentActor) -> Response[str]:
    """Issue a key for a client filing as a citizen's account; the key is shown once."""
    form = await parsed_form(request)
    values = {name: _text(form, name) for name in ("client_name", "account", "rate_limit")}
    try:
        account = await _account(request, values["account"])
        _, raw = await KeyService(plugin_context(request)).issue(
            actor, values["client_name"], account, values["rate_limit"]
        )
    except Invalid as exc:
        return await _page(request, form=values, errors=form_errors(request, exc), status_code=422)
    return await _page(request, new_key=raw, status_code=201)


@post(f"{PAGE}/keys/{{key_id:int}}/revoke", guards=[requires(MANAGE_KEYS)], include_in_schema=False)
async def revoke_key(request: Req, actor: CurrentActor, key_id: FromPath[int]) -> Any:
    """Revoke a client's key at once."""
    await KeyService(plugin_context(request)).revoke(actor, key_id)
    return redirect(request, PAGE)
