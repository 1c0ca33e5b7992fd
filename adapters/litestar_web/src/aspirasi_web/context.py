"""What the middleware learnt about a request, and helpers for handlers.

The :class:`~aspirasi_web.middleware.RequestContextMiddleware` stores a
:class:`RequestInfo` in the ASGI scope, and the
:class:`~aspirasi_web.middleware.Authentication` middleware the account on
``request.user`` (None for nobody) and its :class:`Credentials` on ``request.auth``;
handlers read them through these helpers and never parse cookies or headers themselves.

Handlers that need no more than the use cases, the use case context, the signed-in
actor or the translator take them as dependencies instead (:data:`DEPENDENCIES`,
typed :data:`Core`, :data:`Ctx`, :data:`CurrentActor`, :data:`CurrentTranslator`).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import attrs
from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from aspirasi_core.domain.errors import Unavailable
from aspirasi_core.domain.model import Account, Actor
from aspirasi_core.plugin_api import PluginContext
from aspirasi_core.security.devices import merge_tokens, split_tokens
from aspirasi_core.services import Aspirasi, Context

from .guards import signed_in_actor
from .i18n import Translator

SCOPE_KEY = "aspirasi"
#: The signed device tokens of a browser (see ``aspirasi_core.security.devices``).
DEVICE_COOKIE = "aspirasi_device"
#: The same for API clients: the ``device_token`` of their last log-in, sent back.
DEVICE_HEADER = "x-aspirasi-device"


@attrs.frozen
class Credentials:
    """How a request was authenticated (``request.auth``)."""

    #: "session" (cookie), "bearer" (Authorization header) or None.
    method: str | None = None
    session_token: str | None = attrs.field(default=None, repr=False)
    #: A bearer token was sent but is not valid (the API answers 401).
    bad_bearer: bool = False
    #: A fault met while looking up who asks (the database out of reach): the
    #: route raises it first thing.
    fault: Unavailable | None = None


_NOBODY = Credentials()


@attrs.define
class RequestInfo:
    request_id: str
    client_ip: str | None
    language: str
    translator: Translator
    #: The request chose its language (``?lang=``, the ``lang`` cookie, an API
    #: client's ``Accept-Language``); else a signed-in account's own applies.
    chosen: bool = False
    #: Cookies (name, value, ``{"max_age": …}``) handlers add to the answer
    #: (:func:`aspirasi_web.middleware.security_headers` sets them).
    extra_cookies: list[tuple[str, str, dict[str, Any]]] = attrs.field(factory=list)


def info(request: Request[Any, Any, Any]) -> RequestInfo:
    return request.scope[SCOPE_KEY]  # type: ignore[literal-required,no-any-return]


def core(request: Request[Any, Any, Any]) -> Aspirasi:
    """The use cases."""
    return request.app.state["aspirasi"]  # type: ignore[no-any-return]


def plugin_context(request: Request[Any, Any, Any]) -> PluginContext:
    """The :class:`~aspirasi_core.plugin_api.PluginContext` of the app, for a
    plugin's handlers (transactions, settings, clock, outbox, policy, queries)."""
    return PluginContext.of(core(request))


def account(request: Request[Any, Any, Any]) -> Account | None:
    """The signed-in account (``request.user``); None for nobody, and on the paths
    the authentication skips (static files, health probes, unknown paths)."""
    return request.scope.get("user")  # type: ignore[return-value]


def credentials(request: Request[Any, Any, Any]) -> Credentials:
    """How the request was authenticated (``request.auth``)."""
    return request.scope.get("auth") or _NOBODY  # type: ignore[return-value]


def actor(request: Request[Any, Any, Any]) -> Actor | None:
    acc = account(request)
    return acc.actor() if acc else None


def context(request: Request[Any, Any, Any]) -> Context:
    """The :class:`Context` to hand to a use case."""
    i = info(request)
    return Context(
        actor=actor(request),
        client_ip=i.client_ip,
        request_id=i.request_id,
        language=i.language,
    )


def device_tokens(request: Request[Any, Any, Any]) -> list[str]:
    """The device tokens the client sent: the ``X-Aspirasi-Device`` header (API
    clients), then the ``aspirasi_device`` cookie (browsers)."""
    header = request.headers.get(DEVICE_HEADER)
    return split_tokens(header) + split_tokens(request.cookies.get(DEVICE_COOKIE))


def remember_device(request: Request[Any, Any, Any], token: str | None) -> None:
    """Store a new device token in the browser's cookie, next to the tokens it
    holds for other accounts (a shared computer)."""
    if not token:
        return
    days = core(request).deps.settings.device_trust_days
    value = merge_tokens(token, split_tokens(request.cookies.get(DEVICE_COOKIE)))
    info(request).extra_cookies.append((DEVICE_COOKIE, value, {"max_age": days * 86400}))


def translator(request: Request[Any, Any, Any]) -> Translator:
    return info(request).translator


def require_actor(request: Request[Any, Any, Any], *, verified: bool = True) -> Actor:
    """The signed-in actor, else 401 (the login page); see :func:`signed_in_actor`."""
    return signed_in_actor(request, verified=verified)


#: The types of the app-wide dependencies (:data:`DEPENDENCIES`), for a handler's
#: parameters; they mark the parameter as a dependency and skip its validation.
#: ``core: Core``: the use cases (:class:`aspirasi_core.services.Aspirasi`).
Core: TypeAlias = NamedDependency[SkipValidation[Aspirasi]]
#: ``ctx: Ctx``: the :class:`aspirasi_core.services.Context` to hand to a use case
#: (its actor is None for nobody).
Ctx: TypeAlias = NamedDependency[SkipValidation[Context]]
#: ``translator: CurrentTranslator``: the reader's :class:`~aspirasi_web.i18n.Translator`.
CurrentTranslator: TypeAlias = NamedDependency[SkipValidation[Translator]]
#: ``actor: CurrentActor``: the signed-in, verified actor, else 401/403 (:func:`current_actor`).
CurrentActor: TypeAlias = NamedDependency[SkipValidation[Actor]]

# Each provider takes the one before it (core → ctx → translator → actor), unused:
# Litestar resolves the dependencies of one depth side by side, in a task group per
# request, which costs more than the chain of plain calls.


def provide_ctx(request: Request[Any, Any, Any], core: Core) -> Context:
    """The use case context (dependency ``ctx``)."""
    return context(request)


def provide_translator(request: Request[Any, Any, Any], ctx: Ctx) -> Translator:
    """The reader's translator (dependency ``translator``)."""
    return info(request).translator


def current_actor(request: Request[Any, Any, Any], translator: CurrentTranslator) -> Actor:
    """The signed-in actor with a verified e-mail (dependency ``actor``): nobody
    signed in is 401 ``login_required`` (``invalid_token`` for a bad bearer token),
    an unverified account 403 ``email_unverified``, as the guard ``signed_in``."""
    return signed_in_actor(request)


#: The app-wide dependencies (:class:`aspirasi_web.plugin.AspirasiPlugin` adds them):
#: a handler, a plugin's included, takes one as a parameter of that name, typed with
#: the alias above. None touches the database; each is built at most once per request.
DEPENDENCIES = {
    "core": Provide(core, sync_to_thread=False),
    "ctx": Provide(provide_ctx, sync_to_thread=False),
    "translator": Provide(provide_translator, sync_to_thread=False),
    "actor": Provide(current_actor, sync_to_thread=False),
}
