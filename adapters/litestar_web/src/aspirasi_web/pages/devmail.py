"""``/dev/mailbox``: the mails the ``notify_email`` plugin kept in its
development mailbox (demo mode without an SMTP server). 404 unless demo mode
is on; the mails are shown as text, with their links clickable."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from ..context import core
from ..templating import render

_URL = re.compile(r"https?://[^\s<>\"']+")


def _require_demo(request: Request[Any, Any, Any]) -> None:
    if not core(request).deps.settings.demo:
        raise NotFoundException()


def _mailbox(request: Request[Any, Any, Any]) -> Any:
    """The plugin's ``DevMailbox``, or None when mail goes out by SMTP (or no plugin)."""
    pm: Any = core(request).plugin_manager
    if pm is None:
        return None
    candidates = [pm.get_plugin("notify_email"), *pm.get_plugins()]
    for plugin in candidates:
        box = getattr(plugin, "mailbox", None)
        if (
            box is not None
            and callable(getattr(box, "list", None))
            and callable(getattr(box, "get", None))
        ):
            return box
    return None


def _segments(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_link) so the template can link URLs (escaped)."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for match in _URL.finditer(text):
        if match.start() > pos:
            out.append((text[pos : match.start()], False))
        out.append((match.group(0), True))
        pos = match.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


@get("/dev/mailbox", include_in_schema=False)
async def mailbox(request: Request[Any, Any, Any]) -> Response[str]:
    _require_demo(request)
    box = _mailbox(request)
    mails = box.list(limit=100) if box is not None else []
    return render(request, "devmail/list.html", {"mails": mails, "enabled": box is not None})


@get("/dev/mailbox/{mail_id:str}", include_in_schema=False)
async def mail(request: Request[Any, Any, Any], mail_id: FromPath[str]) -> Response[str]:
    _require_demo(request)
    box = _mailbox(request)
    found = box.get(mail_id) if box is not None else None
    if found is None:
        raise NotFoundException()
    return render(request, "devmail/mail.html", {"m": found, "segments": _segments(found.text)})


ROUTES: list[Any] = [mailbox, mail]
