"""Jinja2 rendering with autoescape, the reader's language and the common page context."""

from __future__ import annotations

import base64
import functools
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.response import Redirect
from markupsafe import Markup

from aspirasi_core.domain.errors import Invalid

from . import csrf, vocabulary
from .context import account, actor, core, info
from .i18n import LANGUAGE_NAMES, LANGUAGES, date_filters, status_labels
from .menu import PASSWORD_CHANGE_MENU, Menu

HERE = Path(__file__).parent
FLASH_COOKIE = "aspirasi_flash"

#: Notices shown once after a redirect; the cookie carries only the key.
FLASH_MESSAGES = {
    "logged_in": "Welcome back.",
    "logged_out": "You have logged out.",
    "registered": (
        "Thank you. We sent an e-mail to the address you gave: open it to go on. If nothing"
        " arrives within a few minutes, look in the spam folder."
    ),
    "verified": "Your e-mail address is verified. You can send messages now.",
    "nik_released": "The NIK was released from this account.",
    "verification_sent": "A new verification link was sent to your e-mail.",
    "email_changed": (
        "A new link is on its way to the address you gave. Links sent before no longer work."
    ),
    "reset_sent": "If the address is registered, a link to reset the password was sent to it.",
    "password_reset": "Your password was changed. Please log in.",
    "password_changed": "Your password was changed.",
    "account_deleted": "Your account was deleted. Your messages stay, without your name.",
    "profile_saved": "Your profile was saved.",
    "message_sent": "Your message was sent.",
    "message_withdrawn": "The message was withdrawn.",
    "rated": "Thank you for your rating.",
    "forwarded": "The message was forwarded.",
    "rejected": "The message was rejected.",
    "started": "The message is now being handled.",
    "progress_saved": "The progress update was saved.",
    "replied": "The reply was sent and the message is done.",
    "saved": "Saved.",
    "invitation_accepted": "Your password is set. You can log in now.",
    "password_chosen": "Your password was changed. Welcome.",
    "returned": "The message was returned to the admin.",
    "reopened": "The message was reopened for the agency, with a new deadline.",
    "review_dismissed": "The review was closed; the answer stands.",
    "followup_sent": "Your follow-up was sent.",
    "welcome": "Welcome! Your account is ready: you can send your first message now.",
    "reprimand_sent": "Reprimand sent to %(name)s.",
}
#: Separates a notice's key from its parameter in the notice cookie.
_FLASH_PARAM = "."


def build_environment(
    extra_dirs: Iterable[str] = (), *, auto_reload: bool = True
) -> jinja2.Environment:
    """The pages' Jinja2 environment. ``auto_reload=False`` (production) skips the
    check of every template file on every page."""
    loader = jinja2.FileSystemLoader([str(HERE / "templates"), *extra_dirs])
    env = jinja2.Environment(
        loader=loader,
        auto_reload=auto_reload,
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["urlquote"] = lambda v: quote(str(v), safe="")
    date_filters(env)
    env.filters["deadline"] = deadline
    env.globals["role_label"] = role_label
    env.globals["status_badge_html"] = status_badge
    env.globals["icon"] = icon
    env.globals["place"] = place
    vocabulary.install(env)
    # A fresh idempotency key for each form that creates something (macros.html: once).
    env.globals["new_idempotency_key"] = lambda: secrets.token_urlsafe(18)
    return env


@jinja2.pass_context
def place(ctx: Any, regency_code: str | None, district_code: str | None = None) -> str:
    """``{{ place(m.regency_code, m.district_code) }}``: where a message happened as
    anyone may read it, "District, Regency" ('' without a location). Never the
    coordinates: the staff's pages show those on their own."""
    return core(ctx["request"]).deps.regions.describe(regency_code, district_code)


@jinja2.pass_context
def deadline(ctx: Any, due_at: datetime | None) -> str:
    """``{{ m.due_at|deadline }}``: an SOP deadline as its last allowed local day, in the
    short date style, as every page shows it ('' when none). The stored instant is the
    start of the day after."""
    if due_at is None:
        return ""
    return str(ctx["t"].date(core(ctx["request"]).sop.due_date(due_at)))


@jinja2.pass_context
def role_label(ctx: Any, role: str) -> str:
    """``{{ role_label(u.role) }}``: a role's declared label in the page's language (never
    its code); an undeclared role shows its code."""
    decl = core(ctx["request"]).deps.policy.roles.get(role)
    return str(ctx["t"](decl.label)) if decl is not None else role


_badges: dict[tuple[str, str], Markup] = {}


def status_badge(status: str, labels: Mapping[str, str]) -> Markup:
    """``<span class="badge status-…">label</span>`` — a Python function rather than a
    Jinja macro, as lists call it on every row (macros are slow to call)."""
    key = (str(status), labels[status])
    html = _badges.get(key)
    if html is None:
        if len(_badges) > 256:
            _badges.clear()
        html = _badges[key] = Markup('<span class="badge status-{}">{}</span>').format(*key)
    return html


@functools.lru_cache(maxsize=512)
def icon(name: str, label: str = "") -> Markup:
    """An icon of the project's sprite (``templates/_icons.svg``, inlined once per page).
    Decorative unless ``label`` is given, which becomes its accessible name. Cached:
    every page draws the same few icons, in the same two languages."""
    if label:
        return Markup(
            '<svg class="icon" role="img" aria-label="{}"><use href="#i-{}"></use></svg>'
        ).format(label, name)
    return Markup(
        '<svg class="icon" aria-hidden="true" focusable="false"><use href="#i-{}"></use></svg>'
    ).format(name)


def menu_for(request: Request[Any, Any, Any]) -> Menu:
    """The page's navigation for the signed-in actor (see :meth:`aspirasi_web.plugin.AspirasiPlugin.menu`);
    an account that must change its password first sees only that page and log out
    (every other page sends it back: :func:`aspirasi_web.guards.password_changed`)."""
    acc = account(request)
    if acc is not None and acc.must_change_password:
        return PASSWORD_CHANGE_MENU
    return request.app.state["web"].menu(actor(request))  # type: ignore[no-any-return]


def _social_links(settings: Any) -> list[tuple[str, str]]:
    out = []
    for link in settings.social_links:
        name, _, url = link.partition("=")
        out.append((name.strip(), url.strip()))
    return out


def base_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    i = info(request)
    t = i.translator
    settings = core(request).deps.settings
    flash_key = request.cookies.get(FLASH_COOKIE)
    flash = flash_text(t, flash_key) if flash_key else None
    if flash_key:
        i.extra_cookies.append((FLASH_COOKIE, "", {"max_age": 0}))
    state = request.app.state
    social = state.get("social_links")
    if social is None:
        social = state["social_links"] = _social_links(settings)
    return {
        "request": request,
        "t": t,
        "_": t.gettext,
        "lang": i.language,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "account": account(request),
        "actor": actor(request),
        "menu": menu_for(request),
        "csrf_token": csrf.token(request),
        "settings": settings,
        "social_links": social,
        "status_labels": status_labels(t),
        "path": request.scope.get("root_path", "") + request.scope["path"],
        "flash": flash,
        "errors": {},
        "form": {},
        "form_error": None,
    }


def render(
    request: Request[Any, Any, Any],
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response[str]:
    env: jinja2.Environment = request.app.state["jinja"]
    values = base_context(request)
    values.update(context or {})
    html = env.get_template(template).render(values)
    return Response(
        content=html,
        media_type=MediaType.HTML,
        status_code=status_code,
        headers=dict(headers or {}),
    )


def form_errors(request: Request[Any, Any, Any], exc: Invalid) -> dict[str, list[str]]:
    """Field → translated messages, for re-showing a form."""
    t = info(request).translator
    out: dict[str, list[str]] = {}
    for err in exc.errors:
        out.setdefault(err.field, []).append(t.field_error(err))
    return out


def redirect(
    request: Request[Any, Any, Any], url: str, *, flash: str | None = None, name: str = ""
) -> Redirect:
    """303 redirect after a POST, with an optional one-time notice (a key of
    FLASH_MESSAGES; ``name`` fills its ``%(name)s``, e.g. the agency reprimanded)."""
    if flash is not None:
        assert flash in FLASH_MESSAGES, flash
        value = flash
        if name:
            encoded = base64.urlsafe_b64encode(name[:120].encode()).decode().rstrip("=")
            value = f"{flash}{_FLASH_PARAM}{encoded}"
        info(request).extra_cookies.append((FLASH_COOKIE, value, {"max_age": 60}))
    return Redirect(path=url, status_code=303)


def flash_text(t: Any, value: str) -> str | None:
    """The notice a notice cookie names, translated (None for an unknown key).
    The parameter is text, escaped like any other on the page."""
    key, _, encoded = value.partition(_FLASH_PARAM)
    if key not in FLASH_MESSAGES:
        return None
    name = ""
    if encoded:
        try:
            name = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            name = ""
    return str(t(FLASH_MESSAGES[key], name=name[:120]))


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after log-in (no open redirect)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    return url
