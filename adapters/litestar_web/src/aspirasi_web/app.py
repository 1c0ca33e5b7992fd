"""The composition root of the web application: ``create_app()``.

``aspirasi serve`` runs it with uvicorn (``aspirasi_web.app:create_app``,
factory mode), once per worker process. Sessions live in the database, so any
worker serves any request.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import structlog
from litestar import Litestar, Request, Response, get
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.problem_details import ProblemDetailsPlugin
from litestar.routes import HTTPRoute
from litestar.types import (
    HTTPScope,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Message,
    Receive,
    Scope,
    Send,
)

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.logging import configure_logging
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import Aspirasi
from aspirasi_core.settings import Settings

from . import hookspecs as web_hookspecs
from .api.common import JSON_VARIANT, is_json, strict_int
from .api.openapi import document_api
from .api.schema import COMPONENTS as API_COMPONENTS
from .api.schema import SECURITY as API_SECURITY
from .api.schema import SwaggerPage
from .context import credentials
from .csrf import form_failure, read_form_first
from .errors import EXCEPTION_HANDLERS
from .guards import password_changed
from .invalid import check_json_body
from .middleware import HEAD_SERVED_AS_GET
from .plugin import AspirasiPlugin

HERE = Path(__file__).parent
_log = structlog.get_logger("aspirasi.health")


async def before_request(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Before every route: a fault the authentication met (the database out of
    reach while it looked up the session) answers first; then a form body is parsed (a
    form that cannot be read answers 400; a page route may answer it, or a body too
    large, with its form again: ``opt[FORM_FAILURE_OPT]``, see :mod:`aspirasi_web.csrf`)."""
    fault = credentials(request).fault
    if fault is not None:
        raise fault
    check_path_numbers(request)
    await check_json_body(request)
    if (variant := request.route_handler.opt.get(JSON_VARIANT)) and is_json(request):
        answer: Response[Any] = await variant(request)
        return answer
    try:
        await read_form_first(request)
    except HTTPException as exc:
        failure = await form_failure(request, exc)
        if failure is None:
            raise
        return failure
    return None


def check_path_numbers(request: Request[Any, Any, Any]) -> None:
    """Numbers in the path in plain digits only: Litestar reads ``{id:int}`` with
    ``int()``, which takes `` 1``, ``01`` and ``１`` as 1; they answer 422 here."""
    for declared in request.route_handler.paths:
        if ":int}" not in declared:
            continue
        patterns = declared.rstrip("/").split("/")
        sent = request.scope["path"].rstrip("/").split("/")
        if len(patterns) != len(sent):
            continue
        if any(p != s for p, s in zip(patterns, sent, strict=True) if not p.startswith("{")):
            continue
        for pattern, value in zip(patterns, sent, strict=True):
            if pattern.endswith(":int}"):
                strict_int(value, pattern[1:].split(":", 1)[0])
        return


def _headers_only(send: Send) -> Send:
    """``send`` for a HEAD request served by its GET route: the same status and
    headers (``Content-Length`` included), no body."""

    async def wrapper(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return  # the rest of the body is left out
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return wrapper


def _allow(send: Send, scope: Scope, methods: dict[str, str]) -> Send:
    """``send`` that names HEAD in an ``Allow`` header naming GET (OPTIONS, 405), and
    answers OPTIONS with every method of the path (``methods``: the path's methods by
    its template). Litestar 2's own OPTIONS handler names only the methods of the
    path's first handler (litestar-org/litestar#4169, fixed in Litestar 3)."""

    async def wrapper(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            for n, (name, value) in enumerate(headers):
                if name.lower() != b"allow":
                    continue
                if scope.get("method") == "OPTIONS" and message["status"] == 204:
                    value = methods.get(scope.get("path_template", ""), "").encode() or value
                if b"GET" in value and b"HEAD" not in value:
                    value = ", ".join(
                        sorted({*value.decode().replace(" ", "").split(","), "HEAD"})
                    ).encode()
                headers[n] = (name, value)
                message["headers"] = headers
        await send(message)

    return wrapper


class AspirasiApp(Litestar):
    """Litestar, answering HEAD wherever GET works (the GET route serves it, the
    body left out), and naming HEAD in ``Allow`` (OPTIONS, 405) where GET is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Every path's methods, by its template, for OPTIONS (see :func:`_allow`).
        self.allowed_methods = {
            route.path_format: ", ".join(sorted(route.methods))
            for route in self.routes
            if isinstance(route, HTTPRoute)
        }

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        if scope["type"] != ScopeType.HTTP:
            await super().__call__(scope, receive, send)
            return
        # mypy does not narrow the scope by its ``type`` (an enum's value against
        # the lifespan's plain string), nor the send that comes with it.
        http_scope = cast("HTTPScope", scope)
        http_send = cast("Send", send)
        if http_scope["method"] == "HEAD":
            # Static files too: the static router's own HEAD leaves out Content-Type.
            # A copy: the server goes on reading HEAD in the original scope.
            # The request log still says HEAD (middleware.HEAD_SERVED_AS_GET).
            get_scope = cast("Scope", {**http_scope, "method": "GET", HEAD_SERVED_AS_GET: True})
            methods = self.allowed_methods
            await super().__call__(
                get_scope, receive, _allow(_headers_only(http_send), get_scope, methods)
            )
        else:
            scope_ = cast("Scope", http_scope)
            await super().__call__(scope_, receive, _allow(http_send, scope_, self.allowed_methods))


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """Liveness probe for load balancers."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Readiness probe: 200 when the database, the attachment store and the plugins'
    essential components answer within about two seconds, else 503 (with
    ``Retry-After``). The body (anyone may ask) gives only ok/down/degraded per
    component; what is wrong (the error, free disk, counters) goes to the log
    (``readiness_problem``) when a component is not ok."""
    readiness = await request.app.state["aspirasi"].health.readiness()
    if not readiness.all_ok:
        _log.warning("readiness_problem", **readiness.as_json(details=True))
    if readiness.ready:
        return Response(readiness.as_json(), headers={"Cache-Control": "no-store"})
    return Response(
        readiness.as_json(),
        status_code=503,
        headers={"Retry-After": "5", "Cache-Control": "no-store"},
    )


def _core_route_handlers() -> list[Any]:
    from .api import ROUTES as API_ROUTES
    from .pages import ROUTES as PAGE_ROUTES

    return [healthz, readyz, *API_ROUTES, *PAGE_ROUTES]


def freeze_start_up_heap() -> None:
    """Collect, then freeze what is left (``gc.freeze()``): modules, routes, templates
    and caches built at start-up are never walked by the garbage collector again."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None,
    plugin_manager: Any = None,
    aspirasi: Aspirasi | None = None,
    *,
    run_outbox: bool | None = None,
    freeze_heap: bool | None = None,
) -> Litestar:
    """Build the Litestar application.

    ``settings`` defaults to the environment; ``plugin_manager`` to one loading
    the installed plugins (with the web hook specs added); ``aspirasi`` to the
    use cases wired by :func:`aspirasi_core.bootstrap.bootstrap`. The outbox is
    delivered in-process when ``ASPIRASI_OUTBOX_INLINE`` is on (embedded mode)
    unless ``run_outbox`` says otherwise.

    ``freeze_heap`` (default: in production) moves every object alive once the app
    has started into the garbage collector's permanent generation (``gc.freeze()``):
    the collector's full passes then walk only what requests create. Without it, a
    worker under load paused for 90–110 ms every two seconds or so, walking the
    ~135,000 objects of its modules, routes and templates (see docs/performance.md).
    """
    if aspirasi is None:
        settings = settings or Settings.from_env()
        configure_logging(settings)
        pm = plugin_manager or create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
        aspirasi = bootstrap(settings, plugin_manager=pm)
    settings = aspirasi.deps.settings
    inline = settings.outbox_inline if run_outbox is None else run_outbox

    @contextlib.asynccontextmanager
    async def outbox_worker(app: Litestar) -> AsyncIterator[None]:
        if not inline:
            yield
            return
        dispatcher = aspirasi.outbox
        loop = asyncio.get_running_loop()

        def wake_dispatcher() -> None:  # from the thread that committed
            loop.call_soon_threadsafe(dispatcher.wake)

        aspirasi.deps.outbox_listeners.append(wake_dispatcher)
        task = asyncio.create_task(dispatcher.run_forever(poll_seconds=5.0))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def dispose() -> None:
        aspirasi.deps.db.dispose()  # type: ignore[attr-defined]

    on_startup: list[Any] = [document_api]
    if settings.env == "production" if freeze_heap is None else freeze_heap:
        on_startup.append(freeze_start_up_heap)

    return AspirasiApp(
        route_handlers=_core_route_handlers(),
        # Litestar's problem details: a handler (a plugin's too) may raise
        # ProblemDetailsException; the app's own errors are built the same way (errors.py).
        plugins=[AspirasiPlugin(aspirasi), ProblemDetailsPlugin()],
        before_request=before_request,
        # An account whose password a super admin typed changes it first.
        guards=[password_changed],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_request_bytes,
        openapi_config=OpenAPIConfig(
            title=f"{settings.app_name} API",
            version="1",
            path="/schema",
            render_plugins=[SwaggerPage(), JsonRenderPlugin()],
            components=API_COMPONENTS,
            # A handler's docstring is its operation's description.
            use_handler_docstrings=True,
            security=API_SECURITY,
        ),
        lifespan=[outbox_worker],
        on_startup=on_startup,
        on_shutdown=[dispose],
        debug=False,
    )
